// Migrations: applied once, in order, safely by several processes at once; a database migrated by a
// newer coder-git is refused with a clear message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serverAdminUrl, stopOwnServer, testDatabase, withDatabase } from '../helpers/db.ts';
import { migrate, migrations, schemaStatus } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { CoderGitError } from '../../src/errors.ts';
import { cli } from '../helpers/cli.ts';

const SCRIPT = fileURLToPath(new URL('../fixtures/scripts/migrate.ts', import.meta.url));
const latest = migrations().at(-1)!.version;

async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await serverAdminUrl();
  const name = `m_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await run(`CREATE DATABASE ${name}`);
  return { url: withDatabase(admin, name), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function runScript(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', SCRIPT, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({ code, out }));
  });
}

test('an empty database is migrated on open; migrating again changes nothing', async () => {
  const e = await emptyDatabase();
  try {
    const d = await openDatabase({ postgresUrl: e.url, dataDir: '/nonexistent' });
    try {
      assert.equal(await schemaStatus(d.db), { current: latest, latest, pending: [] });
      assert.equal(await migrate(d.db), []);
    } finally {
      await d.close();
    }
  } finally {
    await e.drop();
  }
});

test('four processes migrating one empty database at once all succeed, each migration applied once', async () => {
  // Two rounds: without the lock, one round catches the race about two times in three.
  for (const round of [1, 2]) {
    const e = await emptyDatabase();
    try {
      const results = await Promise.all([1, 2, 3, 4].map(() => runScript(e.url)));
      for (const r of results) {
        assert.is(r.code, 0, `round ${round}: ${r.out}`);
        assert.equal(JSON.parse(r.out), migrations().map((m) => ({ version: m.version, name: m.name })));
      }
    } finally {
      await e.drop();
    }
  }
});

test('a database migrated by a newer coder-git is refused, by the library and the CLI', async () => {
  const d = await testDatabase();
  try {
    await d.db.none('INSERT INTO coder_git_migrations (version, name) VALUES ($1, $2)', [latest + 1, 'from-the-future']);
    try {
      await migrate(d.db);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, CoderGitError);
      assert.is((err as CoderGitError).code, 'CG_DB_NEWER');
      assert.match((err as Error).message, new RegExp(`schema is at version ${latest + 1}, newer than this coder-git knows \\(${latest}\\)`));
    }
    const r = await cli(['db', 'migrate', '--postgres-url', d.url]);
    assert.is(r.code, 1);
    assert.match(r.stderr, /newer than this coder-git knows/);
    assert.match(r.stderr, /hint: a newer coder-git has migrated this database; upgrade coder-git/);
  } finally {
    await d.drop();
  }
});

test('db status and db migrate against an external database (--postgres-url and CODER_GIT_POSTGRES_URL)', async () => {
  const e = await emptyDatabase();
  try {
    let r = await cli(['db', 'status', '--json', '--postgres-url', e.url]);
    assert.is(r.code, 0, r.stderr);
    let s = JSON.parse(r.stdout);
    assert.is(s.embedded, false);
    assert.is(s.schema_version, 0);
    assert.is(s.pending.length, migrations().length);
    assert.not.match(r.stdout, /:[^@/]+@/, 'no password in the output');
    r = await cli(['db', 'migrate'], { env: { CODER_GIT_POSTGRES_URL: e.url } });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout, `applied ${migrations().length} migration(s); schema version ${latest}\n`);
    r = await cli(['db', 'status', '--json'], { env: { CODER_GIT_POSTGRES_URL: e.url } });
    s = JSON.parse(r.stdout);
    assert.is(s.schema_version, latest);
    assert.equal(s.pending, []);
  } finally {
    await e.drop();
  }
});

test('cleanup', async () => stopOwnServer());
test.run();
