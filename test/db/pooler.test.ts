// PgBouncer (Debian's) in front of the test PostgreSQL: a pool in transaction mode is refused by the
// runner and the server at start, saying why and what works, while plan-side commands (status) work
// through it; a pool in session mode works for the runner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, gitRepo, tempDir } from '../helpers/git.ts';
import { freePort, until } from '../helpers/wait.ts';

let d: TestDb;
let bouncer: ChildProcess;
let port: number;
let base: string;
const url = (pool: string) => {
  const u = new URL(d.url);
  return `postgres://${u.username}:${u.password}@127.0.0.1:${port}/${pool}`;
};

test('set-up: PgBouncer with a transaction pool and a session pool on one database', async () => {
  execFileSync(path.resolve('scripts/install-debian.sh'), ['pgbouncer', 'pgbouncer'], { stdio: 'inherit' });
  d = await testDatabase();
  port = await freePort();
  base = tempDir();
  const u = new URL(d.url);
  const db = `host=127.0.0.1 port=${u.port} dbname=${u.pathname.slice(1)}`;
  writeFileSync(path.join(base, 'userlist.txt'), `"${decodeURIComponent(u.username)}" "${decodeURIComponent(u.password)}"\n`);
  writeFileSync(
    path.join(base, 'pgbouncer.ini'),
    `[databases]\ntx = ${db} pool_mode=transaction\nsess = ${db} pool_mode=session\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${port}\nauth_type = scram-sha-256\nauth_file = ${base}/userlist.txt\nunix_socket_dir =\nlogfile = ${base}/pgbouncer.log\npidfile = ${base}/pgbouncer.pid\nmax_client_conn = 100\ndefault_pool_size = 5\n`,
  );
  // PgBouncer will not run as root: as postgres, which then must read its files
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const pg = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(path.join(base, f), Number(pg), Number(pg));
  }
  bouncer = spawn('pgbouncer', [...(asPostgres ? ['-u', 'postgres'] : []), path.join(base, 'pgbouncer.ini')], { stdio: 'ignore' });
  await until('pgbouncer answers', async () => (await cli(['db', 'status', '--postgres-url', url('sess'), '--data-dir', '/nonexistent'])).code === 0, { ms: 20_000 });
});

test('a transaction pool: runner and server refuse to start, saying why; status works through it', async () => {
  const repo = gitRepo({ 'coder-git.yaml': 'apiVersion: coder-git/v1\nkind: Deployment\n' });
  const runner = await cli(['runner', '--repo', repo, '--postgres-url', url('tx'), '--data-dir', path.join(base, 'r')], { timeoutMs: 30_000 });
  assert.is(runner.code, 1, runner.stdout + runner.stderr);
  assert.match(runner.stderr, /is behind a connection pooler in transaction or statement mode \(PgBouncer pool_mode=transaction\?\)/);
  assert.match(runner.stderr, /hint: .*pool_mode=session/);
  const server = await cli(['server', '--listen', `127.0.0.1:${await freePort()}`, '--postgres-url', url('tx'), '--data-dir', path.join(base, 's')], { timeoutMs: 30_000 });
  assert.is(server.code, 1, server.stdout + server.stderr);
  assert.match(server.stderr, /connection pooler in transaction or statement mode/);
  const status = await cli(['status', '--postgres-url', url('tx'), '--data-dir', '/nonexistent']);
  assert.is(status.code, 0, status.stderr);
});

test('a session pool: the runner starts and leads', async () => {
  const repo = gitRepo({ 'coder-git.yaml': 'apiVersion: coder-git/v1\nkind: Deployment\n' });
  const r = spawn(process.execPath, [BIN, 'runner', '--repo', repo, '--postgres-url', url('sess'), '--data-dir', path.join(base, 'r2')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  r.stdout!.on('data', (x) => (out += x));
  r.stderr!.on('data', (x) => (out += x));
  try {
    await until('the runner leads', async () => /reconciling \(epoch \d+\)/.test(out), { ms: 30_000, detail: () => out });
  } finally {
    r.kill('SIGTERM');
    await new Promise((res) => r.on('close', res));
  }
});

test('cleanup', async () => {
  bouncer.kill('SIGTERM');
  await new Promise((res) => bouncer.on('close', res));
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
