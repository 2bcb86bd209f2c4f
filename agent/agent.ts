// The workspace agent (`coder-git agent`), started inside a workspace by its template with
// CODER_AGENT_TOKEN and CODER_AGENT_URL. It keeps one WebSocket to the server (protocol in the
// README, src/server/agents.ts), reconnecting forever with exponential backoff and jitter; reports
// its lifecycle (starting → ready | start_error; shutting_down → off); runs the template's startup
// script once and streams its output; sends heartbeats; on SIGTERM runs down cleanly.

import { listeningPorts } from './ports.ts';
import { spawn } from 'node:child_process';
import os from 'node:os';
import net from 'node:net';
import WebSocket, { createWebSocketStream } from 'ws';
import { sshServer } from './ssh.ts';
import { Terminals } from './terminals.ts';
import { existsSync } from 'node:fs';
import { applyDotfiles, type Dotfiles } from './dotfiles.ts';
import { gitSshAgent, type GitSshAgent, type KeyPair } from './git-ssh.ts';

/** Activity is reported at most this often (the server keeps the latest; the ttl counts from it). */
const ACTIVITY_EVERY_MS = 30_000;

export interface AgentOptions {
  url: string;
  token: string;
  /** where the startup script runs (the workspace folder) */
  cwd: string;
  log: (msg: string) => void;
  /** this agent's version, said in hello (the server tells an agent of another version to update) */
  version: string;
  /** the server runs another version: an agent started by install.sh exits so the script fetches it */
  onUpdate?: (serverVersion: string) => void;
}

type State = 'created' | 'starting' | 'ready' | 'start_error' | 'shutting_down' | 'off';

/** How often the agent looks at which ports listen inside the workspace. */
const PORT_SCAN_MS = 5_000;

export class Agent {
  private ws: WebSocket | undefined;
  private state: State = 'created';
  private attempt = 0;
  private stopping = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private startup: Promise<void> | undefined;
  private pendingLogs: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  /** the template's agent.env, from the server's welcome */
  private env: Record<string, string> = {};
  /** the owner's user-file settings, from the welcome */
  private user: { shell?: string; dotfiles?: Dotfiles } = {};
  private lastActivity = 0;
  /** signs with the owner's git SSH key for sessions' git (when the owner has one) */
  private gitSsh: GitSshAgent | undefined;
  private terminals: Terminals;
  private portScan: NodeJS.Timeout | undefined;
  /** the listening ports last told to the server (JSON), to send only changes */
  private portsSent = '';

  constructor(private readonly o: AgentOptions) {
    this.terminals = new Terminals({ cwd: o.cwd, env: () => this.sessionEnv(), log: o.log, activity: () => this.activity() });
  }

  /**
   * What a session's processes see: the agent's environment and agent.env, never the agent's token
   * nor anything the runner handed to Terraform (a template that starts the agent from local-exec
   * passes Terraform's environment on): no variable holding the token under any name, no TF_VAR_*
   * (template variables, secrets from terraform.env among them) and no other TF_* setting.
   */
  sessionEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env };
    // The owner's shell (their user file's shell), when the image has it.
    if (this.user.shell && existsSync(this.user.shell)) env.SHELL = this.user.shell;
    // git over SSH with the owner's key (a template's own agent.env GIT_SSH_COMMAND wins)
    if (this.gitSsh && !this.env.GIT_SSH_COMMAND) env.GIT_SSH_COMMAND = this.gitSsh.command;
    for (const [k, v] of Object.entries(env)) {
      if (k === 'CODER_AGENT_TOKEN' || k.startsWith('TF_') || (this.o.token.length >= 16 && v?.includes(this.o.token))) delete env[k];
    }
    return env;
  }

  private async reportPorts(): Promise<void> {
    const ports = await listeningPorts().catch(() => []);
    const json = JSON.stringify(ports);
    if (json !== this.portsSent && this.send({ type: 'ports', ports })) this.portsSent = json;
  }

  /** Someone used the workspace (typed in a terminal, opened SSH or a port). */
  private activity(): void {
    const now = Date.now();
    if (now - this.lastActivity < ACTIVITY_EVERY_MS) return;
    if (this.send({ type: 'activity' })) this.lastActivity = now;
  }

  start(): void {
    this.connect();
  }

  private send(m: unknown): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  private setState(s: State): void {
    this.state = s;
    this.send({ type: 'lifecycle', state: s });
  }

  private connect(): void {
    if (this.stopping) return;
    const endpoint = `${this.o.url.replace(/^http/, 'ws').replace(/\/+$/, '')}/api/v1/agents/connect`;
    const ws = new WebSocket(endpoint, { headers: { 'coder-agent-token': this.o.token }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      this.o.log(`connected to ${this.o.url}`);
      this.send({ type: 'hello', protocol: 1, version: this.o.version, os: os.platform(), arch: os.arch() });
    });
    ws.on('message', (data) => {
      let m: { type?: string; version?: string; heartbeat_ms?: number; startup_script?: string | null; env?: Record<string, string>; shell?: string | null; dotfiles?: Dotfiles | null; git_ssh_key?: boolean; message?: string; session?: string; kind?: string; port?: number; reconnect?: string; cols?: number; rows?: number };
      try {
        m = JSON.parse(String(data));
      } catch {
        return;
      }
      if (m.type === 'welcome') {
        if (m.env && typeof m.env === 'object') this.env = m.env;
        this.user = { shell: typeof m.shell === 'string' ? m.shell : undefined, dotfiles: m.dotfiles && typeof m.dotfiles.repository === 'string' ? m.dotfiles : undefined };
        if (m.git_ssh_key === true) this.gitSsh ??= gitSshAgent({ fetchKey: () => this.fetchGitSshKey(), log: this.o.log });
        this.welcome(m.heartbeat_ms ?? 15_000, m.startup_script ?? null);
      }
      else if (m.type === 'error') this.o.log(`server: ${m.message}`);
      else if (m.type === 'update' && typeof m.version === 'string') {
        this.o.log(`the server runs coder-git ${m.version}, this agent ${this.o.version}`);
        this.o.onUpdate?.(m.version);
      }
      else if (m.type === 'open' && typeof m.session === 'string' && m.kind === 'ssh') this.openSsh(m.session);
      else if (m.type === 'open' && typeof m.session === 'string' && m.kind === 'pty' && typeof m.reconnect === 'string') this.openTerminal(m.session, m.reconnect, m.cols ?? 80, m.rows ?? 24);
      else if (m.type === 'open' && typeof m.session === 'string' && typeof m.port === 'number') this.openStream(m.session, m.port);
    });
    ws.on('unexpected-response', (_req, res) => {
      this.o.log(`the server refused the connection (HTTP ${res.statusCode})${res.statusCode === 401 ? ': the agent token is unknown or its build is no longer the latest' : ''}`);
      // With this listener ws leaves the failed handshake to us and would never emit 'close' (and
      // with nothing left to wait for, the process would exit): end it, so 'close' retries.
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => undefined); // followed by close
    ws.on('close', () => {
      clearInterval(this.heartbeat);
      clearInterval(this.portScan);
      if (this.ws === ws) this.ws = undefined;
      if (this.stopping) return;
      // 0.5 s, 1 s, 2 s … up to 30 s, each with ±50 % jitter so a restarted server is not stampeded.
      const delay = Math.min(30_000, 500 * 2 ** this.attempt++) * (0.5 + Math.random());
      this.o.log(`disconnected; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      setTimeout(() => this.connect(), delay); // not unref'd: this timer is what keeps the agent alive meanwhile
    });
  }

  private welcome(heartbeatMs: number, script: string | null): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.send({ type: 'heartbeat' }), heartbeatMs);
    this.heartbeat.unref();
    // Listening ports: now (a new connection is told again), then whenever they change.
    this.portsSent = '';
    clearInterval(this.portScan);
    const scan = () => void this.reportPorts();
    scan();
    this.portScan = setInterval(scan, PORT_SCAN_MS);
    this.portScan.unref();
    // After a reconnect the server learns where we are; the script runs once per agent process.
    if (this.state !== 'created') this.send({ type: 'lifecycle', state: this.state });
    this.flushLogs();
    this.startup ??= this.runStartup(script);
  }

  private relay(session: string): WebSocket {
    const base = this.o.url.replace(/^http/, 'ws').replace(/\/+$/, '');
    return new WebSocket(`${base}/api/v1/agents/relay?session=${encodeURIComponent(session)}`, { headers: { 'coder-agent-token': this.o.token }, perMessageDeflate: false });
  }

  private ssh: ReturnType<typeof sshServer> | undefined;

  /** A web terminal: attach the relayed socket to the shell named by the viewer's reconnect id. */
  private openTerminal(session: string, reconnect: string, cols: number, rows: number): void {
    const ws = this.relay(session);
    ws.on('error', () => undefined);
    ws.once('open', () => {
      this.activity();
      this.terminals.attach(reconnect, ws, cols, rows);
    });
  }

  /** An SSH session relayed by the server: the stream goes to the agent's in-process SSH server. */
  private openSsh(session: string): void {
    this.ssh ??= sshServer({ cwd: this.o.cwd, log: this.o.log, env: () => this.sessionEnv() });
    this.activity();
    const stream = createWebSocketStream(this.relay(session));
    stream.on('error', () => undefined);
    this.ssh.injectSocket(stream as never);
  }

  /**
   * The server relays a person's connection to 127.0.0.1:port here: dial it, and open a WebSocket
   * back to the server for this session; bytes flow both ways until either side closes.
   */
  private openStream(session: string, port: number): void {
    const tcp = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    tcp.once('connect', () => {
      connected = true;
      this.activity();
      const stream = createWebSocketStream(this.relay(session));
      stream.on('error', () => tcp.destroy());
      tcp.on('error', () => stream.destroy());
      tcp.pipe(stream).pipe(tcp);
    });
    tcp.once('error', (err) => {
      if (connected) return;
      this.o.log(`port ${port}: ${err.message}`);
      // Tell the server at once rather than letting the person wait for its timeout.
      const ws = this.relay(session);
      ws.on('open', () => ws.close(4004, `nothing listens on port ${port}`));
      ws.on('error', () => undefined);
    });
  }

  private flushLogs(): void {
    while (this.pendingLogs.length && this.ws?.readyState === WebSocket.OPEN) this.send({ type: 'logs', lines: this.pendingLogs.splice(0, 500) });
  }

  private async runStartup(script: string | null): Promise<void> {
    this.setState('starting');
    if (this.user.shell && !existsSync(this.user.shell)) this.pendingLogs.push({ stream: 'stderr', line: `shell: ${this.user.shell} is not in this image; sessions use ${process.env.SHELL || '/bin/sh'}` });
    let dotfilesOk = true;
    if (this.user.dotfiles) {
      const flush = setInterval(() => this.flushLogs(), 250);
      const env = this.sessionEnv();
      dotfilesOk = await applyDotfiles(this.user.dotfiles, { home: env.HOME || os.homedir(), env, line: (stream, line) => this.pendingLogs.push({ stream, line }) });
      clearInterval(flush);
      this.flushLogs();
    }
    if (!script?.trim()) {
      this.setState(dotfilesOk ? 'ready' : 'start_error');
      return;
    }
    const flush = setInterval(() => this.flushLogs(), 250);
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('sh', ['-c', script], { cwd: this.o.cwd, env: this.sessionEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = (stream: 'stdout' | 'stderr') => {
        let rest = '';
        return (chunk: Buffer) => {
          const parts = (rest + chunk.toString('utf8')).split('\n');
          rest = parts.pop() ?? '';
          for (const line of parts) this.pendingLogs.push({ stream, line });
        };
      };
      child.stdout.on('data', lines('stdout'));
      child.stderr.on('data', lines('stderr'));
      child.on('error', () => resolve(127));
      child.on('close', (c) => resolve(c));
    });
    clearInterval(flush);
    this.flushLogs();
    this.o.log(`startup script exited with ${code}`);
    this.setState(code === 0 && dotfilesOk ? 'ready' : 'start_error');
  }

  /** The owner's key pair from the server (with this agent's token), or undefined when there is none. */
  private async fetchGitSshKey(): Promise<KeyPair | undefined> {
    const res = await fetch(`${this.o.url.replace(/\/+$/, '')}/api/v1/agents/me/gitsshkey`, { headers: { 'coder-agent-token': this.o.token }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`the server answered HTTP ${res.status}`);
    return (await res.json()) as KeyPair;
  }

  /** SIGTERM: shutting_down, then off, then close. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.gitSsh?.close();
    this.setState('shutting_down');
    this.setState('off');
    this.stopping = true;
    clearInterval(this.heartbeat);
    clearInterval(this.portScan);
    this.terminals.close();
    const ws = this.ws;
    if (ws?.readyState === WebSocket.OPEN) {
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.close(1000, 'agent stopping');
        setTimeout(r, 2000).unref();
      });
    }
  }
}
