// Workspace agents connect here: GET /api/v1/agents/connect upgraded to a WebSocket, authenticated by
// the agent token its build made (Coder-Agent-Token or Authorization: Bearer). The token only works
// while its build is the workspace's latest, and grants nothing but this socket.
//
// Protocol (version 1), JSON text frames:
//   agent → server  {type:"hello", protocol:1, version, os, arch}   first, once
//                   {type:"lifecycle", state}                       created|starting|ready|start_error|shutting_down|off
//                   {type:"logs", lines:[{stream:"stdout"|"stderr", line}]}   startup script output
//                   {type:"heartbeat"}                              every heartbeat_ms
//                   {type:"activity"}                               someone used the workspace
//   server → agent  {type:"welcome", protocol:1, agent_id, workspace, heartbeat_ms, startup_script, env, shell, dotfiles, git_ssh_key}
//                   {type:"error", message}                         a message that was refused
//                   {type:"update", version}                        the agent runs another version than the server
// Besides the socket, one HTTP route with the same token: GET /api/v1/agents/me/gitsshkey, the
// workspace owner's git SSH key pair, which the agent keeps in memory (README: Git SSH keys).
// Two missed heartbeats close the socket (4000) and mark the agent disconnected. Heartbeats and
// activity are written at most every touchMs (3,000 activity frames are not 3,000 writes); a
// log line's NUL bytes (which PostgreSQL text cannot hold) and broken UTF-16 are replaced, never
// the batch dropped.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Ctx } from './context.ts';
import { VERSION } from '../version.ts';
import { sha256 } from './auth.ts';
import { agents, LIFECYCLE_TRANSITIONS, type AgentRow, type Lifecycle } from '../db/repos/agents.ts';
import { keyringFromEnv } from '../auth/secret-box.ts';
import { openKeyRow } from '../auth/git-ssh.ts';
import { gitSshKeys } from '../db/repos/git-ssh-keys.ts';

export const PROTOCOL = 1;
const LINE_MAX = 4096;

/** A log line as PostgreSQL text can store it: NUL shown as ␀, lone surrogates as U+FFFD. */
export const storableLine = (line: string) => line.slice(0, LINE_MAX).replace(/\0/g, '\u2400').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** Heartbeats and activity reach the database at most this often per connection. */
const touchMs = (heartbeatMs: number) => Math.max(50, Math.min(1000, heartbeatMs / 4));

type Msg =
  | { type: 'hello'; protocol: number; version?: string; os?: string; arch?: string }
  | { type: 'lifecycle'; state: Lifecycle }
  | { type: 'logs'; lines: { stream: 'stdout' | 'stderr'; line: string }[] }
  | { type: 'heartbeat' }
  | { type: 'activity' }
  | { type: 'ports'; ports: { port: number; address: string }[] };

function parse(data: string): Msg | string {
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    return 'not JSON';
  }
  if (!m || typeof m !== 'object') return 'expected an object with a "type"';
  const o = m as Record<string, unknown>;
  const str = (v: unknown) => typeof v === 'string' && v.length <= 100;
  switch (o.type) {
    case 'hello':
      if (o.protocol !== PROTOCOL) return `protocol ${String(o.protocol)} is not spoken here; this server speaks ${PROTOCOL}`;
      if (![o.version, o.os, o.arch].every((v) => v === undefined || str(v))) return 'hello: version, os and arch are short strings';
      return o as Msg;
    case 'lifecycle':
      return typeof o.state === 'string' && o.state in LIFECYCLE_TRANSITIONS ? (o as Msg) : `lifecycle: state must be one of ${Object.keys(LIFECYCLE_TRANSITIONS).join(', ')}`;
    case 'logs':
      if (!Array.isArray(o.lines) || o.lines.length > 1000) return 'logs: lines must be a list of at most 1000';
      for (const l of o.lines as { stream?: unknown; line?: unknown }[]) {
        if (!l || (l.stream !== 'stdout' && l.stream !== 'stderr') || typeof l.line !== 'string') return 'logs: each line is {stream: "stdout"|"stderr", line: string}';
      }
      return o as Msg;
    case 'heartbeat':
    case 'activity':
      return o as Msg;
    case 'ports':
      if (!Array.isArray(o.ports) || o.ports.length > 200) return 'ports: a list of at most 200';
      for (const p of o.ports as { port?: unknown; address?: unknown }[]) {
        if (!p || !Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535 || !str(p.address)) return 'ports: each is {port: 1-65535, address: string}';
      }
      return o as Msg;
    default:
      return `unknown message type ${JSON.stringify(o.type)}`;
  }
}

/** preValidation of agent sockets: the agent whose token the request carries, or 401 before the upgrade. */
export function agentFromRequest(ctx: Ctx) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers['coder-agent-token'];
    const auth = req.headers.authorization;
    const token = typeof h === 'string' ? h : auth?.startsWith('Bearer ') ? auth.slice(7) : '';
    const agent = token ? await agents.byTokenHash(ctx.o.database.db, sha256(token)) : null;
    if (!agent) return reply.code(401).send({ error: { code: 'unauthenticated', message: "an agent connects with its build's agent token (Coder-Agent-Token header); this one is unknown or its build is no longer the latest" } });
    (req as FastifyRequest & { agent?: AgentRow }).agent = agent;
  };
}

export async function agentRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;
  const cap = ctx.o.agentLogCap ?? 1_048_576;

  app.get('/api/v1/agents/me/gitsshkey', { preValidation: agentFromRequest(ctx) }, async (req, reply) => {
    const agent = (req as FastifyRequest & { agent: AgentRow }).agent;
    const ring = keyringFromEnv();
    const row = ring ? await gitSshKeys.byAgent(db, agent.id) : null;
    if (!row) return reply.code(404).send({ error: { code: 'not_found', message: ring ? "the workspace's owner has no git SSH key yet (one is made when their user file is applied)" : 'this server keeps no git SSH keys: CODER_GIT_ENCRYPTION_KEYS is not set' } });
    return reply.header('cache-control', 'no-store').send(openKeyRow(ring!, row));
  });

  app.get(
    '/api/v1/agents/connect',
    {
      websocket: true,
      preValidation: agentFromRequest(ctx),
    },
    (socket: WebSocket, req) => {
      const agent = (req as FastifyRequest & { agent: AgentRow }).agent;
      let lifecycle = agent.lifecycle;
      let hello = false;
      let unlink = () => {};
      let last = Date.now();
      let closed = false;
      // This socket's id: only the agent's newest connection may mark it disconnected.
      const connection = randomUUID();
      ctx.metrics.agentsConnected++;
      // Reports are written in order, one at a time; each change is announced to every replica.
      const announce = (event: 'connected' | 'disconnected' | 'lifecycle', lc?: string) => ctx.events.publish({ workspace_id: agent.workspace_id, agent_id: agent.id, event, ...(lc ? { lifecycle: lc } : {}) });
      let chain: Promise<unknown> = agents.report(db, agent.id, connection, { connected: true }).then(() => announce('connected'));
      // (the error's message only: a failed statement's text would carry the agent's log lines)
      const write = (fn: () => Promise<unknown>) => (chain = chain.then(fn).catch((err) => req.log.warn({ agent: agent.id, error: err instanceof Error ? err.message : String(err) }, 'agent report failed')));
      // Heartbeats and activity, coalesced: written now if the last write is old enough, else once the interval is up.
      let touchedAt = 0;
      let touchTimer: NodeJS.Timeout | undefined;
      let owed: { activity: boolean } | undefined;
      const touch = (activity: boolean) => {
        owed = { activity: activity || !!owed?.activity };
        if (touchTimer) return;
        const flush = () => {
          touchTimer = undefined;
          const o = owed!;
          owed = undefined;
          touchedAt = Date.now();
          write(() => agents.report(db, agent.id, connection, { heartbeat: true, activity: o.activity }));
        };
        const wait = touchedAt + touchMs(ctx.heartbeatMs) - Date.now();
        if (wait <= 0) flush();
        else touchTimer = setTimeout(flush, wait);
      };
      const send = (m: unknown) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(m));
      const refuse = (message: string) => send({ type: 'error', message });

      const watchdog = setInterval(() => {
        if (Date.now() - last > 2 * ctx.heartbeatMs) socket.close(4000, 'two heartbeats missed');
      }, Math.max(250, ctx.heartbeatMs / 2));
      socket.on('close', () => {
        closed = true;
        unlink();
        clearInterval(watchdog);
        clearTimeout(touchTimer);
        ctx.metrics.agentsConnected--;
        if (hello && ctx.replicas.url) write(() => agents.setReplica(db, agent.id, connection, null, ctx.replicas.url!));
        write(() => agents.report(db, agent.id, connection, { disconnected: true, activity: !!owed?.activity }).then((r) => (r.current ? announce('disconnected') : undefined)));
      });
      socket.on('message', (data, isBinary) => {
        if (closed) return;
        last = Date.now();
        if (isBinary) return refuse('text frames only');
        const m = parse(data.toString());
        if (typeof m === 'string') return refuse(m);
        if (!hello && m.type !== 'hello') return refuse('say hello first');
        switch (m.type) {
          case 'hello':
            if (hello) return refuse('hello only once');
            hello = true;
            unlink = ctx.links.add(agent.id, send);
            // Other replicas forward streams for this agent here (replicas.ts).
            if (ctx.replicas.url) write(() => agents.setReplica(db, agent.id, connection, ctx.replicas.url!));
            write(async () => {
              await agents.report(db, agent.id, connection, { version: m.version, os: m.os, arch: m.arch, heartbeat: true });
              const w = await agents.welcome(db, agent.id);
              send({ type: 'welcome', protocol: PROTOCOL, agent_id: agent.id, workspace: w ? `${w.owner}/${w.workspace}` : null, heartbeat_ms: ctx.heartbeatMs, startup_script: w?.startup_script ?? null, env: w?.env ?? {}, shell: w?.shell ?? null, dotfiles: w?.dotfiles ?? null, git_ssh_key: !!w?.git_ssh_key && !!keyringFromEnv() });
              // An agent of another version (delivered by an older or newer server) is told to update:
              // started by install.sh, it exits and the script installs this server's version.
              if (m.version !== undefined && m.version !== VERSION) send({ type: 'update', version: VERSION });
            });
            return;
          case 'lifecycle':
            if (m.state === lifecycle) return;
            if (!LIFECYCLE_TRANSITIONS[lifecycle].includes(m.state)) return refuse(`lifecycle: ${lifecycle} cannot become ${m.state} (allowed: ${LIFECYCLE_TRANSITIONS[lifecycle].join(', ') || 'nothing'})`);
            lifecycle = m.state;
            write(() => agents.report(db, agent.id, connection, { lifecycle: m.state, heartbeat: true }).then(() => announce('lifecycle', m.state)));
            return;
          case 'logs': {
            const lines = m.lines.map((l) => ({ stream: l.stream, line: storableLine(l.line) }));
            write(() => agents.appendLogs(db, agent.id, lines, cap));
            return;
          }
          case 'heartbeat':
            return touch(false);
          case 'activity':
            return touch(true);
          case 'ports':
            write(() => agents.setListeningPorts(db, agent.id, m.ports.map((p) => ({ port: p.port, address: p.address }))));
            return;
        }
      });
    },
  );
}
