// The agent endpoint with a real WebSocket client: authentication by agent token, the protocol, the
// lifecycle rules, capped startup logs, heartbeats and their absence — seen through a second server
// replica on the same database (state lives in PostgreSQL, so every replica reports the same).
import { test } from 'uvu';
import { promtoolProblems } from '../helpers/promtool.ts';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { buildServer } from '../../src/server/app.ts';
import { deploymentFixture, type Fixture } from './setup.ts';
import { until as poll } from '../helpers/wait.ts';
const until = <T>(what: string, fn: () => Promise<T | false | undefined>, ms = 10_000) => poll(what, fn, { ms, every: 50 });

let d: TestDb;
let a: FastifyInstance;
let b: FastifyInstance;
let f: Fixture;
let urlA: string;

const HEARTBEAT = 400;

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

interface Conn {
  ws: WebSocket;
  received: Record<string, unknown>[];
  next(type: string): Promise<Record<string, unknown>>;
  send(m: unknown): void;
  closed: Promise<number>;
}

function connect(token: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${urlA}/api/v1/agents/connect`, { headers: { 'coder-agent-token': token } });
    const received: Record<string, unknown>[] = [];
    const waiting: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      const w = waiting.findIndex((x) => x.type === m.type);
      if (w >= 0) waiting.splice(w, 1)[0]!.resolve(m);
      else received.push(m);
    });
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        received,
        closed,
        send: (m) => ws.send(JSON.stringify(m)),
        next: (type) => {
          const i = received.findIndex((m) => m.type === type);
          if (i >= 0) return Promise.resolve(received.splice(i, 1)[0]!);
          return new Promise((r) => waiting.push({ type, resolve: r }));
        },
      }),
    );
  });
}

const agentViaB = async () => {
  const res = await b.inject({ url: '/api/v1/workspaces/bob/box', headers: { authorization: `Bearer ${f.tokens.bob}` } });
  return res.json().agent as { status: string; lifecycle: string; version: string | null };
};

test('set-up: two server replicas on one database', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  a = await buildServer({ database: d, logger: false, heartbeatMs: HEARTBEAT, agentLogCap: 300 });
  b = await buildServer({ database: d, logger: false, heartbeatMs: HEARTBEAT });
  urlA = await listen(a);
  await listen(b);
});

test('an unknown token, or a user token, is refused before the upgrade', async () => {
  for (const t of ['nope', f.tokens.alice!]) {
    const err = await connect(t).then(() => 'connected', (e: Error) => e.message);
    assert.is(err, 'HTTP 401');
  }
});

test('before it connects the agent is "connecting"', async () => {
  assert.equal((await agentViaB()).status, 'connecting');
});

test('hello → welcome; lifecycle reported; wrong transitions and bad messages refused; state seen on the other replica', async () => {
  const c = await connect(f.agentToken);
  c.send({ type: 'heartbeat' });
  assert.equal(await c.next('error'), { type: 'error', message: 'say hello first' });
  c.send({ type: 'hello', protocol: 1, version: '0.1.0', os: 'linux', arch: 'x64' });
  const w = await c.next('welcome');
  assert.equal([w.protocol, w.workspace, w.heartbeat_ms], [1, 'bob/box', HEARTBEAT]);
  c.send({ type: 'lifecycle', state: 'ready' });
  assert.match(String((await c.next('error')).message), /created cannot become ready \(allowed: starting, shutting_down, off\)/);
  c.send({ type: 'lifecycle', state: 'starting' });
  c.send({ type: 'lifecycle', state: 'ready' });
  c.send({ type: 'bogus' });
  assert.equal(await c.next('error'), { type: 'error', message: 'unknown message type "bogus"' });
  c.send('not json');
  const beat = setInterval(() => c.send({ type: 'heartbeat' }), HEARTBEAT / 2);
  try {
    const agent = await until('ready on replica B', async () => {
      const x = await agentViaB();
      return x.lifecycle === 'ready' && x;
    });
    assert.equal([agent.status, agent.version], ['connected', '0.1.0']);
    // Startup logs: capped at 300 bytes for this agent (each line: its bytes + 64 for its row), the overflow recorded.
    c.send({ type: 'logs', lines: Array.from({ length: 10 }, (_, i) => ({ stream: 'stdout', line: `line ${i} of the startup script` })) });
    const logs = await until('logs stored', async () => {
      const r = (await b.inject({ url: '/api/v1/workspaces/bob/box/builds/latest/logs', headers: { authorization: `Bearer ${f.tokens.bob}` } })).json();
      return r.agent_startup_log.length > 0 && r.agent_startup_log;
    });
    assert.equal(logs.map((l: { line: string }) => l.line), ['line 0 of the startup script', 'line 1 of the startup script', 'line 2 of the startup script']);
    assert.is((await d.db.one<{ o: boolean }>('SELECT log_overflowed AS o FROM agents WHERE id = $1', [f.agentId])).o, true);
  } finally {
    clearInterval(beat);
  }
  // No heartbeats: closed after two intervals, and shown disconnected.
  assert.is(await c.closed, 4000);
  await until('disconnected on replica B', async () => (await agentViaB()).status === 'disconnected');
  const m = await (await fetch(`http://${urlA}/metrics`)).text();
  assert.match(m, /^coder_git_agents_connected 0$/m);
  // (the log requests above went to replica B)
  const mb = (await b.inject({ url: '/metrics' })).body;
  assert.match(mb, /^coder_git_http_request_duration_seconds_bucket\{(?=[^}]*route="\/api\/v1\/workspaces\/:owner\/:name\/builds\/:number\/logs")(?=[^}]*le="\+Inf")[^}]*\} [1-9]/m, mb);
  assert.match(m, /^process_resident_memory_bytes \d/m, "the process's own figures");
  for (const text of [m, mb]) assert.equal(promtoolProblems(text), [], 'promtool check metrics passes');
});

test('a closed connection is disconnected at once; reconnecting is connected again', async () => {
  const c = await connect(f.agentToken);
  c.send({ type: 'hello', protocol: 1 });
  await c.next('welcome');
  await until('connected', async () => (await agentViaB()).status === 'connected');
  c.ws.close();
  await until('disconnected', async () => (await agentViaB()).status === 'disconnected', 3000);
});

test('a watcher on replica B sees the agent connected to replica A, as it happens (server-sent events)', async () => {
  const urlB = `http://${(b.server.address() as { address: string; port: number }).address}:${(b.server.address() as { port: number }).port}`;
  const res = await fetch(`${urlB}/api/v1/workspaces/bob/box/watch?for=10`, { headers: { authorization: `Bearer ${f.tokens.bob}` } });
  assert.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.getReader();
  const seen: { agent: { status: string; lifecycle: string } | null }[] = [];
  let buf = '';
  const nextEvent = async () => {
    for (;;) {
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(chunk)?.[1];
        if (data) return JSON.parse(data);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buf += new TextDecoder().decode(value);
    }
  };
  seen.push(await nextEvent());
  assert.is(seen[0]!.agent!.status, 'disconnected', 'first, the workspace as it is');
  const c = await connect(f.agentToken);
  c.send({ type: 'hello', protocol: 1 });
  await c.next('welcome');
  const connected = await nextEvent();
  assert.equal([connected.agent.status], ['connected']);
  c.ws.close();
  const gone = await nextEvent();
  assert.is(gone.agent.status, 'disconnected');
  await reader.cancel();
});

test('a stale socket with the same token, dropped late, does not mark the live agent disconnected', async () => {
  const old = await connect(f.agentToken);
  old.send({ type: 'hello', protocol: 1 });
  await old.next('welcome');
  const live = await connect(f.agentToken);
  live.send({ type: 'hello', protocol: 1 });
  await live.next('welcome');
  const beat = setInterval(() => live.send({ type: 'heartbeat' }), HEARTBEAT / 2);
  try {
    old.ws.terminate();
    await old.closed;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      assert.is((await agentViaB()).status, 'connected', `still connected ${(i + 1) * 200} ms after the old socket dropped`);
    }
    assert.is((await d.db.one<{ at: Date | null }>('SELECT disconnected_at AS at FROM agents WHERE id = $1', [f.agentId])).at, null);
  } finally {
    clearInterval(beat);
  }
  live.ws.close();
  await until('the live one closing is a disconnect', async () => (await agentViaB()).status === 'disconnected', 3000);
});

/** The agent's startup log emptied, so a test starts from nothing stored. */
const freshLog = () => d.db.none('DELETE FROM agent_logs WHERE agent_id = $1; UPDATE agents SET log_bytes = 0, log_overflowed = false WHERE id = $1', [f.agentId]);
const storedLines = async () => (await d.db.any<{ line: string }>('SELECT line FROM agent_logs WHERE agent_id = $1 ORDER BY id', [f.agentId])).map((r) => r.line);

test('a NUL byte or broken UTF-16 in a log line is stored replaced; the lines around it are kept', async () => {
  await freshLog();
  const c = await connect(f.agentToken);
  c.send({ type: 'hello', protocol: 1 });
  await c.next('welcome');
  c.send({ type: 'logs', lines: [{ stream: 'stdout', line: 'before' }, { stream: 'stdout', line: 'x\0y' }, { stream: 'stderr', line: 'half \ud83d' }, { stream: 'stdout', line: 'after' }] });
  const lines = await until('4 lines stored', async () => {
    const l = await storedLines();
    return l.length === 4 && l;
  });
  assert.equal(lines, ['before', 'x\u2400y', 'half \ufffd', 'after']);
  c.ws.close();
  await c.closed;
});

test('floods: empty log lines cost their rows against the cap; 3,000 activity frames are a few writes', async () => {
  await freshLog();
  await d.db.none(`CREATE TABLE IF NOT EXISTS agent_writes (n int NOT NULL); DELETE FROM agent_writes;
    CREATE OR REPLACE FUNCTION count_agent_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO agent_writes VALUES (1); RETURN NEW; END $$;
    DROP TRIGGER IF EXISTS count_agent_writes ON agents;
    CREATE TRIGGER count_agent_writes AFTER UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION count_agent_write()`);
  const c = await connect(f.agentToken);
  c.send({ type: 'hello', protocol: 1 });
  await c.next('welcome');
  for (let i = 0; i < 5; i++) c.send({ type: 'logs', lines: Array.from({ length: 1000 }, () => ({ stream: 'stdout', line: '' })) });
  await until('the overflow recorded', async () => (await d.db.one<{ o: boolean }>('SELECT log_overflowed AS o FROM agents WHERE id = $1', [f.agentId])).o);
  assert.is((await storedLines()).length, Math.floor(300 / 64), 'a 300-byte cap holds 4 empty lines (64 bytes each for their rows), not 300');
  await d.db.none('DELETE FROM agent_writes');
  const before = await d.db.one<{ at: Date | null }>('SELECT last_activity_at AS at FROM agents WHERE id = $1', [f.agentId]);
  const t0 = Date.now();
  for (let i = 0; i < 3000; i++) c.send({ type: 'activity' });
  await until('activity recorded', async () => {
    const now = await d.db.one<{ at: Date | null }>('SELECT last_activity_at AS at FROM agents WHERE id = $1', [f.agentId]);
    return now.at !== null && now.at.getTime() !== before.at?.getTime();
  });
  await new Promise((r) => setTimeout(r, 300));
  const writes = (await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM agent_writes')).n;
  const allowed = Math.ceil((Date.now() - t0) / 100) + 2; // one per 100 ms at this test's heartbeat (400 ms / 4)
  assert.ok(writes >= 1 && writes <= allowed, `3,000 activity frames made ${writes} writes (at most ${allowed})`);
  c.ws.close();
  await c.closed;
  await d.db.none('DROP TRIGGER count_agent_writes ON agents');
});

test('an agent of an older build is refused once a new build exists', async () => {
  const ws = await d.db.one<{ id: string; template_version_id: string }>("SELECT id, template_version_id FROM workspaces WHERE name = 'box'");
  await d.db.none("INSERT INTO workspace_builds (workspace_id, build_number, transition, status, reason, template_version_id) VALUES ($1, 99, 'stop', 'pending', 'manual', $2)", [ws.id, ws.template_version_id]);
  await d.db.none('UPDATE workspaces SET latest_build_id = (SELECT id FROM workspace_builds WHERE build_number = 99 AND workspace_id = $1) WHERE id = $1', [ws.id]);
  assert.is(await connect(f.agentToken).then(() => 'connected', (e: Error) => e.message), 'HTTP 401');
});

test('cleanup', async () => {
  await a.close();
  await b.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
