// Open channels hold only as long as the key that opened them: a port forward, an SSH session, a web
// terminal and a watch stream, each open on the replica that does not hold the agent, are closed
// with the reason within seconds of the token being revoked, the session signed out, or the user
// suspended or removed by a commit — applied or revoked on the other replica. A real agent process
// serves them. And a terminal's reconnect id attaches only its own user's shell.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as httpServer, type Server } from 'node:http';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { BIN } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { until } from '../helpers/wait.ts';
import { issueKey } from '../../src/server/auth.ts';
import { deploymentFixture, startReplicas, type Fixture } from './setup.ts';

let d: TestDb;
let f: Fixture;
const replicas: { app: FastifyInstance; url: string }[] = [];
let agent: ChildProcess;
let agentLog = '';
let inside: Server;
const WITHIN_MS = 3000;
const OTTO = 'apiVersion: coder-git/v1\nkind: User\nemail: otto@example.com\nroles: [owner]\n';
let insidePort: number;

test('set-up: two replicas, a real agent on the first, a server inside the workspace', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  replicas.push(...(await startReplicas(d, 2)));
  inside = httpServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => inside.listen(0, '127.0.0.1', r));
  insidePort = (inside.address() as { port: number }).port;
  agent = spawn(process.execPath, [BIN, 'agent'], { cwd: tempDir(), env: { ...process.env, CODER_AGENT_TOKEN: f.agentToken, CODER_AGENT_URL: replicas[0]!.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (c) => (agentLog += c));
  agent.stderr!.on('data', (c) => (agentLog += c));
  await until('the agent is connected', async () => !!(await d.db.oneOrNone('SELECT 1 FROM agents WHERE id = $1 AND first_connected_at IS NOT NULL AND disconnected_at IS NULL', [f.agentId])), { ms: 20_000, detail: () => agentLog });
});

interface Open {
  ws: WebSocket;
  received: () => string;
  closed: Promise<{ code: number; reason: string; at: number }>;
}

/** A WebSocket to replica i at path with a bearer secret, once it is open. */
function open(i: number, path: string, secret: string): Promise<Open> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${replicas[i]!.url.replace('http', 'ws')}${path}`, { headers: { authorization: `Bearer ${secret}` } });
    let got = '';
    ws.on('message', (m) => (got += m.toString()));
    const closed = new Promise<{ code: number; reason: string; at: number }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString(), at: Date.now() })));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', () => undefined);
    ws.on('open', () => resolve({ ws, received: () => got, closed }));
  });
}

/** The channel's close, or a failure after WITHIN_MS + 2 s (never a test that hangs). */
const closedSoon = (o: Open, what: string) =>
  Promise.race([o.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: still open after ${WITHIN_MS + 2000} ms; received ${JSON.stringify(o.received().slice(-200))}`)), WITHIN_MS + 2000).unref())]);

const userId = async (name: string) => (await d.db.one<{ id: string }>('SELECT id FROM users WHERE username = $1', [name])).id;

test('a port forward closes when its token is revoked (on the other replica)', async () => {
  const { secret, row } = await issueKey(d.db, await userId('bob'), 'token', 'pf', 3_600_000);
  const pf = await open(1, `/api/v1/workspaces/bob/box/tcp/${insidePort}`, secret);
  pf.ws.send(Buffer.from('GET /one HTTP/1.1\r\nHost: x\r\n\r\n'), { binary: true });
  await until('the forward works', async () => pf.received().includes('hello /one'));
  const revoked = Date.now();
  const res = await replicas[0]!.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${row.id}`, headers: { authorization: `Bearer ${f.tokens.bob}` } });
  assert.is(res.statusCode, 204);
  const c = await closedSoon(pf, 'the port forward');
  assert.equal([c.code, c.reason], [4401, 'closed: its token was revoked']);
  assert.ok(c.at - revoked < WITHIN_MS, `closed ${c.at - revoked} ms after the revocation`);
});

test('a web terminal closes when its session is signed out; typing then runs nothing; the reconnect id is not in the audit log', async () => {
  const { secret } = await issueKey(d.db, await userId('bob'), 'session', null, 3_600_000);
  const t = await open(1, '/api/v1/workspaces/bob/box/pty?reconnect=shared-id-1234', secret);
  t.ws.send(Buffer.from('export MARK=bobs-shell; echo "typed: $((6*7))"\r'), { binary: true });
  await until('the shell runs what is typed', async () => t.received().includes('typed: 42'), { ms: 10_000, detail: () => `${t.received()}\n${agentLog}` });
  const out = await replicas[0]!.app.inject({ method: 'POST', url: '/api/v1/logout', headers: { authorization: `Bearer ${secret}` } });
  assert.ok(out.statusCode < 300, out.body);
  const signedOut = Date.now();
  const c = await closedSoon(t, 'the terminal');
  assert.equal([c.code, c.reason], [4401, 'closed: its session was signed out']);
  assert.ok(c.at - signedOut < WITHIN_MS);
  const again = await open(1, '/api/v1/workspaces/bob/box/pty?reconnect=shared-id-1234', secret).then(() => 'opened', (e: Error) => e.message);
  assert.is(again, 'HTTP 401', 'the signed-out session opens nothing again');
  const details = JSON.stringify(await d.db.any("SELECT details FROM audit_log WHERE action = 'terminal_session'"));
  assert.not.ok(details.includes('shared-id-1234'), details);
});

test("an owner who knows another user's reconnect id gets a shell of their own, not that user's", async () => {
  const { secret: bob } = await issueKey(d.db, await userId('bob'), 'token', 'b', 3_600_000);
  const mine = await open(0, '/api/v1/workspaces/bob/box/pty?reconnect=shared-id-5678', bob);
  mine.ws.send(Buffer.from('export MARK=bobs-own; echo "set: $MARK"\r'), { binary: true });
  await until('bob set a mark', async () => mine.received().includes('set: bobs-own'));
  const theirs = await open(0, '/api/v1/workspaces/bob/box/pty?reconnect=shared-id-5678', f.tokens.alice!);
  theirs.ws.send(Buffer.from('echo "seen: [$MARK]"\r'), { binary: true });
  // (the echo of what was typed shows "seen: [$MARK]"; the answer has the variable expanded)
  await until("the owner's shell answered", async () => /seen: \[(?!\$)[^\]\r\n]*\]/.test(theirs.received()));
  assert.match(theirs.received(), /seen: \[\]/, "the owner's shell is not bob's");
  assert.not.ok(theirs.received().includes('bobs-own'), "nothing of bob's shell was replayed to the owner");
  mine.ws.close();
  theirs.ws.close();
});

test('an SSH session and a watch stream close when their user is suspended by a commit', async () => {
  // (otto, a second owner, owns no workspace: suspending him is a valid commit)
  await f.apply({ 'users/otto.yaml': OTTO }, 'otto joins');
  const { secret } = await issueKey(d.db, await userId('otto'), 'token', 'ssh', 3_600_000);
  const ssh = await open(1, '/api/v1/workspaces/bob/box/ssh', secret);
  await until('the SSH server greets', async () => ssh.received().startsWith('SSH-2.0-'));
  const res = await fetch(`${replicas[1]!.url}/api/v1/workspaces/bob/box/watch`, { headers: { authorization: `Bearer ${secret}` } });
  const reader = res.body!.getReader();
  let stream = '';
  const ended = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return Date.now();
      stream += new TextDecoder().decode(value);
    }
  })();
  await until('the first event', async () => stream.includes('event: workspace'));
  ssh.ws.send(Buffer.from('SSH-2.0-test\r\n'), { binary: true });
  await f.apply({ 'users/otto.yaml': `${OTTO}status: suspended\n` }, 'suspend otto');
  const suspended = Date.now();
  const c = await closedSoon(ssh, 'the SSH session');
  assert.equal([c.code, c.reason], [4401, 'closed: its user was suspended']);
  assert.ok(c.at - suspended < WITHIN_MS, `${c.at - suspended} ms`);
  const endedAt = await ended;
  assert.ok(endedAt - suspended < WITHIN_MS);
  assert.match(stream, /event: closed\ndata: \{"reason":"closed: its user was suspended"\}/);
});

test("an owner's port forward into another user's workspace closes when a commit takes the owner role away; the user's own stays", async () => {
  const pat = 'apiVersion: coder-git/v1\nkind: User\nemail: pat@example.com\nroles: [owner]\n';
  await f.apply({ 'users/pat.yaml': pat }, 'pat joins as an owner');
  const { secret } = await issueKey(d.db, await userId('pat'), 'token', 'pf', 3_600_000);
  const theirs = await open(1, `/api/v1/workspaces/bob/box/tcp/${insidePort}`, secret);
  const { secret: bobs } = await issueKey(d.db, await userId('bob'), 'token', 'own', 3_600_000);
  const own = await open(1, `/api/v1/workspaces/bob/box/tcp/${insidePort}`, bobs);
  theirs.ws.send(Buffer.from('GET /pat HTTP/1.1\r\nHost: x\r\n\r\n'), { binary: true });
  await until('the owner reaches it', async () => theirs.received().includes('hello /pat'));
  await f.apply({ 'users/pat.yaml': pat.replace('[owner]', '[member]') }, 'pat is a member now');
  const demoted = Date.now();
  const c = await closedSoon(theirs, 'the demoted owner\'s port forward');
  assert.equal([c.code, c.reason], [4401, 'closed: its user no longer has the role it needs']);
  assert.ok(c.at - demoted < WITHIN_MS);
  own.ws.send(Buffer.from('GET /still HTTP/1.1\r\nHost: x\r\n\r\n'), { binary: true });
  await until("bob's own forward still works", async () => own.received().includes('hello /still'));
  own.ws.close();
});

test("an owner's port forward into a workspace closes when the owner is removed from git", async () => {
  const pf = await open(1, `/api/v1/workspaces/bob/box/tcp/${insidePort}`, f.tokens.alice!);
  pf.ws.send(Buffer.from('GET /owner HTTP/1.1\r\nHost: x\r\n\r\n'), { binary: true });
  await until('the owner reaches it', async () => pf.received().includes('hello /owner'));
  await f.apply({ 'users/alice.yaml': null }, 'alice leaves');
  const removed = Date.now();
  const c = await closedSoon(pf, 'the port forward');
  assert.equal([c.code, c.reason], [4401, 'closed: its user was removed']);
  assert.ok(c.at - removed < WITHIN_MS);
});

test('cleanup', async () => {
  agent.kill();
  inside.close();
  for (const r of replicas) await Promise.race([r.app.close(), new Promise((res) => setTimeout(res, 2000))]);
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
