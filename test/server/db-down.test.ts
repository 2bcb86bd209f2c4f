// The server while its database is down: every answer that needs the database is a 503 with the
// reason and a Retry-After (as /healthz says), never a 500; once PostgreSQL is back, answers are
// normal again without a restart. Real embedded PostgreSQL, stopped and started under the server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FastifyInstance } from 'fastify';
import { pgDataDir } from '../helpers/db.ts';
import { openDatabase, type Database } from '../../src/db/connect.ts';
import { startEmbedded, stopEmbedded } from '../../src/db/embedded.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { rmSync } from 'node:fs';

const dir = pgDataDir('coder-git-dbdown-');
let d: Database;
let app: FastifyInstance;
let token: string;
let port: number;

test('set-up: a server on its own PostgreSQL, a user with a token', async () => {
  d = await openDatabase({ dataDir: dir });
  port = d.embedded!.port;
  const u = await d.db.one<{ id: string }>("INSERT INTO users (username, email, login_type, status, roles) VALUES ('ann', 'ann@example.com', 'password', 'active', '{owner}') RETURNING id");
  token = (await issueKey(d.db, u.id, 'token', 'test', 3_600_000)).secret;
  app = await buildServer({ database: d, logger: false });
  const ok = await app.inject({ url: '/api/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
  assert.is(ok.statusCode, 200, ok.body);
});

test('PostgreSQL stopped: the API, the pages and healthz answer 503 with the reason, never 500', async () => {
  await stopEmbedded(dir);
  const api = await app.inject({ url: '/api/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
  assert.is(api.statusCode, 503, api.body);
  assert.is(api.headers['retry-after'], '5');
  const body = api.json();
  assert.is(body.error.code, 'database_unavailable');
  assert.match(body.error.message, /cannot reach its database right now \(.+\); try again in a few seconds/);
  const login = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'ann', password: 'x' } });
  assert.is(login.statusCode, 503, login.body);
  const page = await app.inject({ url: '/', headers: { authorization: `Bearer ${token}` } });
  assert.is(page.statusCode, 503, page.body);
  const health = await app.inject({ url: '/healthz' });
  assert.is(health.statusCode, 503);
});

test('PostgreSQL back (same port): answers are normal again, without restarting the server', async () => {
  const again = await startEmbedded({ dataDir: dir });
  assert.is(again.port, port, 'the embedded server comes back on its port');
  let last = 0;
  for (let i = 0; i < 50 && last !== 200; i++) {
    last = (await app.inject({ url: '/api/v1/workspaces', headers: { authorization: `Bearer ${token}` } })).statusCode;
    if (last !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(last, 200);
  await app.close();
  await d.close();
  await again.release();
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});

test.run();
