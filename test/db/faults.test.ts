// Faults: a wrong URL, an unreachable server or a wrong password is one short error naming what was
// tried and never the password; PostgreSQL restarted under a running process fails the operation in
// flight with a clear error, and the pool reconnects by itself for the next one.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { cli } from '../helpers/cli.ts';
import { pgDataDir, serverAdminUrl, stopOwnServer } from '../helpers/db.ts';
import { asDatabaseError, openDatabase } from '../../src/db/connect.ts';
import { startEmbedded, stopEmbedded } from '../../src/db/embedded.ts';
import { CoderGitError } from '../../src/errors.ts';

const SECRET = 'hunter2-very-secret';

test('unreachable server: exit 1, one line naming host and port, no password', async () => {
  const r = await cli(['db', 'status', '--postgres-url', `postgres://alice:${SECRET}@127.0.0.1:1/coder`]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^coder-git: cannot connect to postgres:\/\/alice@127\.0\.0\.1:1\/coder: connection refused \(is PostgreSQL running there\?\)\n/);
  assert.not.ok(r.stderr.includes(SECRET));
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
});

test('wrong password and missing database: what went wrong, never the password', async () => {
  const admin = new URL(await serverAdminUrl());
  const wrong = new URL(admin);
  wrong.password = SECRET;
  let r = await cli(['db', 'status', '--postgres-url', wrong.toString()]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot connect to postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: password authentication failed/);
  assert.not.ok(r.stderr.includes(SECRET));
  const missing = new URL(admin);
  missing.pathname = '/no_such_db';
  r = await cli(['db', 'status', '--postgres-url', missing.toString()]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /no_such_db: the database does not exist/);
  assert.not.ok(r.stderr.includes(admin.password));
});

test('a malformed URL is a usage error', async () => {
  const r = await cli(['db', 'status', '--postgres-url', 'not a url']);
  assert.is(r.code, 64);
  assert.match(r.stderr, /--postgres-url: not a URL; expected postgres:\/\/user:password@host:5432\/database/);
});

test('PostgreSQL restarted under a live pool: the query in flight fails clearly, the next one succeeds', async () => {
  const d = pgDataDir('coder-git-restart-');
  const keep = await startEmbedded({ dataDir: d }); // holds the server like a second coder-git process
  const db = await openDatabase({ dataDir: d });
  try {
    assert.is((await db.db.one<{ n: number }>('SELECT 1 AS n')).n, 1);
    const inFlight = db.db.one('SELECT pg_sleep(10)').then(
      () => undefined,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 300));
    await stopEmbedded(d);
    const err = await inFlight;
    assert.ok(err, 'the query in flight failed');
    const clear = asDatabaseError(err);
    assert.instance(clear, CoderGitError);
    assert.match(clear!.message, /^the database connection failed: /);

    const again = await startEmbedded({ dataDir: d });
    assert.is(again.port, db.embedded!.port, 'back on the same port');
    let ok = false;
    for (let i = 0; i < 3 && !ok; i++) {
      // Idle connections the restart killed are dropped; at most those queries fail.
      ok = await db.db.one<{ n: number }>('SELECT 2 AS n').then((r) => r.n === 2, () => false);
    }
    assert.ok(ok, 'the pool reconnected by itself');
    assert.is((await db.db.one<{ n: number }>('SELECT 3 AS n')).n, 3);
    await again.release();
  } finally {
    await db.close();
    await keep.release();
    await stopEmbedded(d);
    rmSync(d, { recursive: true, force: true });
  }
});

test('cleanup', async () => stopOwnServer());
test.run();
