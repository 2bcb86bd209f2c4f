// Benchmark (issue 7): reaching a workspace through the server and its agent, against a plain TCP
// relay on the same machine in the same run (relay-floor.ts: the same PTY and the same SSH server,
// one TCP hop in between).
//  - terminal round trip: one keystroke to a shell's PTY (running cat) and its echo back, one at a
//    time, BENCH_KEYS (default 500) of them: median and p99;
//  - SSH throughput: OpenSSH scp of BENCH_SCP_MB (default 100) MB up and down, ours through
//    `coder-git ssh --stdio` (the config-ssh ProxyCommand), the floor through a TCP ProxyCommand;
//  - the app proxy (/@<owner>/<workspace>/apps/<app>/): HTTP requests/s (autocannon, 10 connections)
//    and a WebSocket message round trip, against the same app reached directly.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import autocannon from 'autocannon';
import WebSocket, { WebSocketServer } from 'ws';
import { openDatabase } from '../../src/db/connect.ts';
import { stopEmbedded } from '../../src/db/embedded.ts';
import { pgDataDir } from '../helpers/db.ts';
import { issueKey } from '../../src/server/auth.ts';

const BIN = fileURLToPath(new URL('../../bin/coder-git.js', import.meta.url));
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function line(child: ChildProcess, re: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms:\n${out.slice(-2000)}`)), ms);
    const on = (d: Buffer) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

/** A byte stream to a shell: send, and wait for the next bytes. */
interface Echo {
  send(b: Buffer): void;
  next(): Promise<void>;
  close(): void;
}

function echoOver(send: (b: Buffer) => void, onData: (fn: () => void) => void, close: () => void): Echo {
  let waiting: (() => void) | undefined;
  let arrived = 0;
  onData(() => {
    arrived++;
    const w = waiting;
    waiting = undefined;
    w?.();
  });
  return {
    send,
    next: () =>
      new Promise<void>((resolve) => {
        if (arrived) {
          arrived = 0;
          return resolve();
        }
        waiting = () => {
          arrived = 0;
          resolve();
        };
      }),
    close,
  };
}

async function roundTrips(e: Echo, keys: number): Promise<number[]> {
  e.send(Buffer.from('exec cat\r'));
  await new Promise((r) => setTimeout(r, 1500)); // the shell starts, execs cat; its output drains
  await e.next().catch(() => undefined);
  const ms: number[] = [];
  for (let i = 0; i < keys; i++) {
    const t0 = process.hrtime.bigint();
    const got = e.next();
    e.send(Buffer.from('a'));
    await got;
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  e.close();
  return ms.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function scp(args: string[]): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) =>
    execFile('scp', ['-q', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', ...args], { env: process.env, timeout: 600_000 }, (err, _o, e) => (err ? reject(new Error(`scp ${args.join(' ')}: ${e || err.message}`)) : resolve((Date.now() - t0) / 1000))),
  );
}

export async function benchRelay(o: { keys: number; scpMb: number }): Promise<string[]> {
  const data = pgDataDir('coder-git-bench-relay-');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'coder-git-bench-relay-'));
  const home = path.join(tmp, 'home');
  const d = await openDatabase({ dataDir: data });
  const children: ChildProcess[] = [];
  const start = (args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    children.push(c);
    return c;
  };
  const lines: string[] = [];
  // The app "inside the workspace": a hello answer and a WebSocket echo, on one port.
  const appServer = http.createServer((_req, res) => res.end('hello'));
  new WebSocketServer({ server: appServer }).on('connection', (s) => s.on('message', (m) => s.send(m)));
  await new Promise<void>((r) => appServer.listen(0, '127.0.0.1', r));
  const appPort = (appServer.address() as { port: number }).port;
  try {
    await d.db.tx(async (t) => {
      const u = await t.one<{ id: string }>("INSERT INTO users (username, email, login_type, status, roles) VALUES ('alice', 'alice@example.com', 'none', 'active', '{owner}') RETURNING id");
      const tpl = await t.one<{ id: string }>("INSERT INTO templates (name) VALUES ('plain') RETURNING id");
      const v = await t.one<{ id: string }>("INSERT INTO template_versions (template_id, content_hash, manifest, files) VALUES ($1, 'h', $2, '{}') RETURNING id", [tpl.id, { apps: { web: { port: appPort, path: '/', keep_prefix: false } } }]);
      const w = await t.one<{ id: string }>("INSERT INTO workspaces (owner_id, name, template_id, template_version_id, desired_state) VALUES ($1, 'dev', $2, $3, 'running') RETURNING id", [u.id, tpl.id, v.id]);
      const b = await t.one<{ id: string }>("INSERT INTO workspace_builds (workspace_id, build_number, transition, status, reason, template_version_id) VALUES ($1, 1, 'start', 'succeeded', 'sync', $2) RETURNING id", [w.id, v.id]);
      await t.none("INSERT INTO agents (workspace_id, build_id, token_hash) VALUES ($1, $2, sha256(convert_to('agent-bench', 'UTF8')))", [w.id, b.id]);
      await t.none('UPDATE workspaces SET latest_build_id = $1 WHERE id = $2', [b.id, w.id]);
    });
    const user = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'alice'");
    const { secret } = await issueKey(d.db, user.id, 'token', 'bench', 86_400_000);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const url = `http://127.0.0.1:${port}`;
    const server = start([BIN, 'server', '--listen', `127.0.0.1:${port}`, '--data-dir', data, '--log-level', 'warn']);
    await line(server, /listening|Listening|started/i, 30_000).catch(() => undefined);
    writeFileSync(path.join(tmp, '.keep'), '');
    rmSync(home, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(home);
    const agent = start([BIN, 'agent'], { cwd: home, env: { ...process.env, CODER_AGENT_TOKEN: 'agent-bench', CODER_AGENT_URL: url } });
    agent.stdout!.resume();
    for (const end = Date.now() + 30_000; ; ) {
      const w = await fetch(`${url}/api/v1/workspaces/alice/dev`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.json() as Promise<{ agent?: { lifecycle: string } }>, () => undefined);
      if (w?.agent?.lifecycle === 'ready') break;
      if (Date.now() > end) throw new Error('the agent did not become ready within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const targets = start(['--import', 'tsx', here('./relay-floor.ts'), 'targets']);
    const [, ptyPort, sshPort] = await line(targets, /targets (\d+) (\d+)/, 30_000);
    const ptyRelay = start(['--import', 'tsx', here('./relay-floor.ts'), 'relay', ptyPort!]);
    const sshRelay = start(['--import', 'tsx', here('./relay-floor.ts'), 'relay', sshPort!]);
    const [, ptyFloorPort] = await line(ptyRelay, /relay (\d+)/, 30_000);
    const [, sshFloorPort] = await line(sshRelay, /relay (\d+)/, 30_000);

    // Terminal round trips.
    const viaTcp = await new Promise<Echo>((resolve) => {
      const s = net.connect(Number(ptyFloorPort), '127.0.0.1', () => resolve(echoOver((b) => s.write(b), (fn) => s.on('data', fn), () => s.destroy())));
      s.setNoDelay(true);
    });
    const floorRtt = await roundTrips(viaTcp, o.keys);
    const viaUs = await new Promise<Echo>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/workspaces/alice/dev/pty?reconnect=bench-terminal&cols=80&rows=24`, { headers: { authorization: `Bearer ${secret}` }, perMessageDeflate: false });
      ws.on('open', () => resolve(echoOver((b) => ws.send(b, { binary: true }), (fn) => ws.on('message', fn), () => ws.close())));
      ws.on('error', reject);
    });
    const ourRtt = await roundTrips(viaUs, o.keys);
    const f = (n: number) => n.toFixed(2);
    lines.push(`terminal round trip, ${o.keys} keystrokes one at a time (PTY running cat): ours median ${f(pct(ourRtt, 50))} ms, p99 ${f(pct(ourRtt, 99))} ms`);
    lines.push(`  floor, plain TCP relay to the same PTY: median ${f(pct(floorRtt, 50))} ms, p99 ${f(pct(floorRtt, 99))} ms → ratio median ${(pct(ourRtt, 50) / pct(floorRtt, 50)).toFixed(2)}×, p99 ${(pct(ourRtt, 99) / pct(floorRtt, 99)).toFixed(2)}×`);

    // scp up and down.
    const payload = path.join(tmp, 'payload');
    const chunk = randomBytes(1 << 20);
    writeFileSync(payload, Buffer.alloc(0));
    const { appendFileSync } = await import('node:fs');
    for (let i = 0; i < o.scpMb; i++) appendFileSync(payload, chunk);
    const mb = statSync(payload).size / 2 ** 20;
    process.env.CODER_GIT_URL = url;
    process.env.CODER_GIT_TOKEN = secret;
    const ours = ['-o', `ProxyCommand=${process.execPath} ${BIN} ssh --stdio --no-start alice/dev`];
    const floor = ['-o', `ProxyCommand=${process.execPath} ${here('./tcp-stdio.mjs')} ${sshFloorPort}`];
    const up = { ours: await scp([...ours, payload, 'coder.dev:up-ours']), floor: await scp([...floor, payload, 'floor:up-floor']) };
    const down = { ours: await scp([...ours, 'coder.dev:up-ours', path.join(tmp, 'down-ours')]), floor: await scp([...floor, 'floor:up-floor', path.join(tmp, 'down-floor')]) };
    const rate = (s: number) => `${(mb / s).toFixed(0)} MB/s (${s.toFixed(1)} s)`;
    lines.push(`SSH throughput, scp ${mb.toFixed(0)} MB through the agent's SSH server: up ${rate(up.ours)}, down ${rate(down.ours)}`);
    lines.push(`  floor, plain TCP relay to the same SSH server: up ${rate(up.floor)}, down ${rate(down.floor)} → ratio (time) up ${(up.ours / up.floor).toFixed(2)}×, down ${(down.ours / down.floor).toFixed(2)}×`);

    // The app proxy: requests/s, and WebSocket round trips.
    const auth = { authorization: `Bearer ${secret}` };
    const cannon = (target: string, headers: Record<string, string>) =>
      new Promise<autocannon.Result>((resolve, reject) => autocannon({ url: target, headers, connections: 10, duration: Number(process.env.BENCH_APP_SECONDS ?? 5) }, (err, r) => (err ? reject(err) : resolve(r))));
    const direct = await cannon(`http://127.0.0.1:${appPort}/`, {});
    const proxied = await cannon(`${url}/@alice/dev/apps/web/`, auth);
    lines.push(`app proxy, HTTP GET (autocannon, 10 connections): ours ${Math.round(proxied.requests.average)} req/s (p50 ${proxied.latency.p50} ms, p99 ${proxied.latency.p99} ms${proxied.non2xx ? `, ${proxied.non2xx} non-2xx!` : ''})`);
    lines.push(`  floor, the same app reached directly: ${Math.round(direct.requests.average)} req/s → ratio ${(proxied.requests.average / direct.requests.average).toFixed(3)} (streams through the agent kept alive between requests)`);
    const wsRtt = async (target: string, headers: Record<string, string>) => {
      const ws = new WebSocket(target, { headers, perMessageDeflate: false });
      await new Promise((r, j) => (ws.on('open', r), ws.on('error', j)));
      const ms: number[] = [];
      for (let i = 0; i < o.keys; i++) {
        const t0 = process.hrtime.bigint();
        await new Promise<void>((r) => {
          ws.once('message', () => r());
          ws.send('x');
        });
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      ws.close();
      return ms.sort((a, b) => a - b);
    };
    const wsDirect = await wsRtt(`ws://127.0.0.1:${appPort}/`, {});
    const wsOurs = await wsRtt(`${url.replace('http', 'ws')}/@alice/dev/apps/web/`, auth);
    lines.push(`app proxy, WebSocket round trip (${o.keys} messages one at a time): ours median ${f(pct(wsOurs, 50))} ms, p99 ${f(pct(wsOurs, 99))} ms`);
    lines.push(`  floor, the same app directly: median ${f(pct(wsDirect, 50))} ms, p99 ${f(pct(wsDirect, 99))} ms → ratio median ${(pct(wsOurs, 50) / pct(wsDirect, 50)).toFixed(2)}×`);
  } finally {
    appServer.close();
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const c of children) c.kill('SIGKILL');
    await d.close();
    await stopEmbedded(data).catch(() => undefined);
    rmSync(data, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
  return lines;
}
