// Relays across server replicas: two replicas on one database behind a round-robin TCP balancer, a
// real `coder-git agent` process reaching them through the balancer (so its control socket is on one
// replica and its dial-backs land on either), and a person connecting to the other replica. Streams
// must work whichever replica each side reaches; the internal routes refuse anything unsigned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as httpServer, type Server } from 'node:http';
import { connect, createServer, type Server as NetServer } from 'node:net';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { BIN } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { until } from '../helpers/wait.ts';
import { deploymentFixture, startReplicas, type Fixture } from './setup.ts';

let d: TestDb;
let f: Fixture;
const replicas: { app: FastifyInstance; url: string }[] = [];
let balancer: NetServer;
let balancerUrl: string;
let agent: ChildProcess;
let inside: Server;
let insidePort: number;
let agentLog = '';
const landed: number[] = [];

/** A round-robin TCP balancer over the replicas, counting where each connection went. */
async function roundRobin(): Promise<void> {
  let next = 0;
  balancer = createServer((c) => {
    const i = next++ % replicas.length;
    landed.push(i);
    const u = connect(Number(new URL(replicas[i]!.url).port), '127.0.0.1');
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => balancer.listen(0, '127.0.0.1', r));
  balancerUrl = `http://127.0.0.1:${(balancer.address() as { port: number }).port}`;
}

/** An HTTP GET through a port-forward stream opened at replica `i`: the response's body, or the close reason. */
function fetchThrough(i: number, path: string, token = f.tokens.bob!): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${replicas[i]!.url.replace('http', 'ws')}/api/v1/workspaces/bob/box/tcp/${insidePort}`, { headers: { authorization: `Bearer ${token}` } });
    let got = '';
    ws.on('open', () => ws.send(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), { binary: true }));
    ws.on('message', (m) => (got += m.toString()));
    ws.on('close', (code, reason) => resolve(got ? got.split('\r\n\r\n').slice(1).join('') : `closed ${code} ${reason}`));
    ws.on('unexpected-response', (_q, res) => resolve(`HTTP ${res.statusCode}`));
    ws.on('error', () => {});
    setTimeout(() => ws.terminate(), 15_000).unref();
  });
}

test('set-up: two replicas with internal URLs, a balancer, an agent behind it, a server in the workspace', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  replicas.push(...(await startReplicas(d, 2)));
  await roundRobin();
  inside = httpServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => inside.listen(0, '127.0.0.1', r));
  insidePort = (inside.address() as { port: number }).port;
  agent = spawn(process.execPath, [BIN, 'agent'], { cwd: tempDir(), env: { ...process.env, CODER_AGENT_TOKEN: f.agentToken, CODER_AGENT_URL: balancerUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (c) => (agentLog += c));
  agent.stderr!.on('data', (c) => (agentLog += c));
  const row = await until('the agent is connected, on replica 0', async () => {
    const r = await d.db.oneOrNone<{ replica_url: string | null }>('SELECT replica_url FROM agents WHERE id = $1 AND disconnected_at IS NULL', [f.agentId]);
    return r?.replica_url ?? undefined;
  }, { ms: 20_000, detail: () => agentLog });
  assert.is(row, replicas[0]!.url, 'the agent row names the replica holding its control socket');
});

test('a person on the other replica reaches the workspace, whichever replica the dial-back lands on', async () => {
  const before = landed.length;
  for (let k = 0; k < 4; k++) assert.is(await fetchThrough(1, `/via-b-${k}`), `hello /via-b-${k}`, agentLog);
  const dialBacks = landed.slice(before);
  assert.ok(dialBacks.includes(0) && dialBacks.includes(1), `dial-backs reached both replicas: ${dialBacks.join(',')}`);
  // And on the replica holding the agent, as before.
  for (let k = 0; k < 2; k++) assert.is(await fetchThrough(0, `/via-a-${k}`), `hello /via-a-${k}`);
});

test("ssh through the other replica: the agent's SSH server greets first, and the greeting arrives", async () => {
  // The agent's SSH server speaks before the client does, so its first frame races the forwarding
  // hops being set up: the case where a frame arriving with the upgrade must not be lost.
  for (let k = 0; k < 4; k++) {
    const banner = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${replicas[1]!.url.replace('http', 'ws')}/api/v1/workspaces/bob/box/ssh`, { headers: { authorization: `Bearer ${f.tokens.bob}` } });
      ws.on('message', (m) => {
        resolve(m.toString());
        ws.close();
      });
      ws.on('close', (code, reason) => resolve(`closed ${code} ${reason}`));
      ws.on('error', () => {});
    });
    assert.match(banner, /^SSH-2\.0-/, agentLog);
  }
});

test('the internal routes refuse what a replica did not sign', async () => {
  const base = replicas[0]!.url.replace('http', 'ws');
  for (const q of [`/api/v1/internal/relay?agent=${f.agentId}&target=%7B%22kind%22%3A%22ssh%22%7D`, `/api/v1/internal/relay?agent=${f.agentId}&target=x&ts=${Date.now()}&sig=AAAA`, '/api/v1/internal/arrive?session=x&agent=y']) {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}${q}`);
      ws.on('unexpected-response', (_r, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    assert.is(status, 403, q);
  }
});

test('another user is still refused on any replica', async () => {
  assert.match(await fetchThrough(1, '/x', f.tokens.carol!), /^HTTP 404/);
});

test('cleanup', async () => {
  agent?.kill('SIGTERM');
  await new Promise((r) => (agent && agent.exitCode === null ? agent.on('close', r) : r(null)));
  balancer?.close();
  inside?.close();
  for (const r of replicas) await r.app.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
