// The embedded PostgreSQL, with real processes: initialised once and reused, found by a second
// process while the first holds it, stopped by the last one out, restarted on its old port, and
// refusing (never re-initialising) a data dir that is not a healthy cluster.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { cli } from '../helpers/cli.ts';
import { pgDataDir } from '../helpers/db.ts';
import { readPostmaster, startEmbedded, stopEmbedded } from '../../src/db/embedded.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { CoderGitError } from '../../src/errors.ts';

const HOLD = fileURLToPath(new URL('../fixtures/scripts/hold.ts', import.meta.url));
const dirs: string[] = [];
const dataDir = () => {
  const d = pgDataDir('coder-git-emb-');
  dirs.push(d);
  return d;
};
const running = async (d: string) => (await readPostmaster(path.join(d, 'postgres'))) !== undefined;

function hold(d: string): Promise<{ child: ChildProcessWithoutNullStreams; port: number; startedHere: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLD, d], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (x) => {
      out += x;
      if (out.includes('\n')) resolve({ child, ...JSON.parse(out) });
    });
    child.stderr.on('data', (x) => (out += x));
    child.on('close', (code) => reject(new Error(`hold exited ${code}: ${out}`)));
  });
}

const ended = (c: ChildProcessWithoutNullStreams) => new Promise((r) => c.on('close', r));

test('first use initialises a cluster with a private password; a command stops the server it started', async () => {
  const d = dataDir();
  const r = await cli(['db', 'status', '--json', '--data-dir', d]);
  assert.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.is(s.embedded, true);
  assert.ok(existsSync(path.join(d, 'postgres', 'PG_VERSION')));
  const secrets = path.join(d, 'postgres.json');
  assert.is(statSync(secrets).mode & 0o777, 0o600, 'the password file is private');
  const { password } = JSON.parse(readFileSync(secrets, 'utf8'));
  assert.ok(password.length >= 24);
  assert.not.ok(r.stdout.includes(password), 'the password is not printed');
  assert.not.ok(await running(d), 'the last user stopped it');
});

test('a second process connects to the running server; it keeps running until the last one leaves', async () => {
  const d = dataDir();
  const a = await hold(d);
  assert.ok(a.startedHere);
  const r = await cli(['db', 'status', '--json', '--data-dir', d]);
  assert.is(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).database, new RegExp(`127\\.0\\.0\\.1:${a.port}/`), 'the same server');
  assert.ok(await running(d), 'still running for the first process');
  const b = await hold(d);
  assert.is(b.port, a.port);
  assert.not.ok(b.startedHere);
  a.child.stdin.end(); // the starter leaves first
  await ended(a.child);
  assert.ok(await running(d), 'still running for the second process');
  b.child.stdin.end();
  await ended(b.child);
  assert.not.ok(await running(d), 'stopped by the last one out');
});

test('any number of processes start on one fresh data dir at once: none fails, the last one out stops the server', async () => {
  for (let round = 1; round <= 3; round++) {
    const d = dataDir();
    const all = await Promise.all(Array.from({ length: 6 }, (_, i) => cli(['db', i % 2 ? 'status' : 'migrate', '--data-dir', d])));
    for (const [i, r] of all.entries()) assert.is(r.code, 0, `round ${round}, process ${i}: ${r.stderr}`);
    assert.not.ok(await running(d), `round ${round}: the last one out stopped the server`);
    assert.is(readdirSync(path.join(d, 'postgres-users')).length, 0, 'every process left');
  }
});

test('the server restarted under a running process (a new port): that process, leaving last, still stops it', async () => {
  const d = dataDir();
  const a = await hold(d);
  const pm = await readPostmaster(path.join(d, 'postgres'));
  process.kill(pm!.pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(path.join(d, 'postgres.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(d, 'postgres.json'), 'utf8')), port: undefined }));
  // another process starts it again, on another port, and leaves
  const blocker = createServer().listen(a.port, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const r = await cli(['db', 'status', '--data-dir', d]);
  blocker.close();
  assert.is(r.code, 0, r.stderr);
  assert.ok(await running(d), 'kept for the first process');
  assert.is.not((await readPostmaster(path.join(d, 'postgres')))!.port, a.port);
  a.child.stdin.end();
  await ended(a.child);
  assert.not.ok(await running(d), 'the last one out stopped the restarted server too');
});

test('data survives restarts, on the same port, even after the server was killed', async () => {
  const d = dataDir();
  let db = await openDatabase({ dataDir: d });
  const port = db.embedded!.port;
  await db.db.none("INSERT INTO users (username, email, login_type, status) VALUES ('keep', 'k@e.com', 'none', 'active')");
  const pm = (await readPostmaster(path.join(d, 'postgres')))!;
  await db.db.$pool.end();
  process.kill(pm.pid, 'SIGKILL'); // no clean shutdown: postmaster.pid stays behind
  await new Promise((r) => setTimeout(r, 300));
  db = await openDatabase({ dataDir: d });
  try {
    assert.is(db.embedded!.port, port, 'restarted on its old port');
    assert.is((await db.db.one<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE username = 'keep'")).n, 1);
  } finally {
    await db.close();
  }
});

test('a stale postmaster.pid naming some other live process is recognised as stale', async () => {
  const d = dataDir();
  const s = await startEmbedded({ dataDir: d });
  const pidFile = path.join(d, 'postgres', 'postmaster.pid');
  const saved = readFileSync(pidFile, 'utf8');
  await stopEmbedded(d);
  await s.release();
  // The file a crash leaves behind, its PID now another program's (live, not PostgreSQL, and not
  // the new server's parent, which PostgreSQL itself would ignore).
  // Owned by the user PostgreSQL runs as: a process of another user PostgreSQL itself rules out.
  const other = process.getuid?.() === 0 ? spawn('setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', 'sleep', '30']) : spawn('sleep', ['30']);
  await new Promise((r) => setTimeout(r, 100));
  try {
    writeFileSync(pidFile, saved.replace(/^\d+/, String(other.pid)));
    const again = await startEmbedded({ dataDir: d, timeoutMs: 20_000 });
    assert.ok(again.startedHere, 'started a server instead of waiting for a process that is not one');
    await again.release();
  } finally {
    other.kill();
  }
});

test('db url leaves the server running for psql; db stop stops it', async () => {
  const d = dataDir();
  const r = await cli(['db', 'url', '--data-dir', d]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/coder_git\n$/);
  assert.match(r.stderr, /keeps running; stop it with: coder-git db stop/);
  assert.ok(await running(d));
  assert.is((await cli(['db', 'stop', '--data-dir', d])).stdout, 'stopped\n');
  assert.not.ok(await running(d));
  assert.is((await cli(['db', 'stop', '--data-dir', d])).stdout, 'not running\n');
});

test('a folder that is not a cluster is refused, never initialised over', async () => {
  const d = dataDir();
  mkdirSync(path.join(d, 'postgres'));
  writeFileSync(path.join(d, 'postgres', 'precious.txt'), 'mine');
  const r = await cli(['db', 'status', '--data-dir', d]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /is not empty but is not a PostgreSQL cluster \(no PG_VERSION\); refusing to initialise over it/);
  assert.is(readFileSync(path.join(d, 'postgres', 'precious.txt'), 'utf8'), 'mine');
});

test('a damaged cluster is a clear error with the server log, and is left as it is', async () => {
  const d = dataDir();
  const s = await startEmbedded({ dataDir: d });
  await s.release();
  rmSync(path.join(d, 'postgres', 'global', 'pg_control'));
  try {
    await startEmbedded({ dataDir: d, timeoutMs: 20_000 });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CoderGitError);
    assert.match((err as Error).message, /did not start:[\s\S]*pg_control/);
  }
  assert.ok(existsSync(path.join(d, 'postgres', 'PG_VERSION')), 'nothing was deleted or re-initialised');
  await stopEmbedded(d);
});

test('as root, a data dir the postgres user cannot reach is a clear error', async () => {
  if (process.getuid?.() !== 0) return; // only root runs PostgreSQL as another user
  const parent = dataDir();
  const closed = path.join(parent, 'closed');
  mkdirSync(closed);
  chmodSync(closed, 0o700);
  try {
    await startEmbedded({ dataDir: path.join(closed, 'data') });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /runs as the "postgres" user, which cannot enter .*closed \(mode 700\)/);
    assert.match((err as CoderGitError).hint ?? '', /chmod o\+x/);
  }
});

test('cleanup', async () => {
  for (const d of dirs) {
    await stopEmbedded(d).catch(() => undefined);
    rmSync(d, { recursive: true, force: true });
  }
});
test.run();
