// `coder-git up` (README: Quick start): the whole system in one process — the database (embedded by
// default), the server, and a runner following a config repo (by default a demo repo made with
// `init` in the data dir, whose admin gets a generated password). When it stops it stops the
// workspaces whose agents run on this machine (templates using coder_agent_command), so no process
// outlives it, and starts them again the next time.

import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Database } from './db/connect.ts';
import { buildServer } from './server/app.ts';
import { openSource } from '../runner/source.ts';
import { Runner } from '../runner/runner.ts';
import { initRepo } from './init.ts';
import { GitRepo } from './git/git.ts';
import { hashPassword } from './auth/password.ts';
import { ENCRYPTION_KEYS_ENV } from './auth/secret-box.ts';
import { workspaces } from './db/repos/workspaces.ts';
import { builds } from './db/repos/builds.ts';
import { syncs } from './db/repos/syncs.ts';
import { requestStart, requestStop } from './apply/manual-builds.ts';
import { workspaceView } from './workspace-view.ts';

export interface UpOptions {
  database: Database;
  dataDir: string;
  /** a local config repo; default: <dataDir>/demo, made on first use */
  repo?: string;
  host: string;
  port: number;
  agentCommand: string;
  log: (m: string) => void;
  /** receives stop() before anything starts, so a signal during start-up can use it */
  onStoppable?: (stop: () => Promise<void>) => void;
}

export interface Up {
  url: string;
  repo: string;
  /** the demo repo's admin, when `up` made it */
  admin?: { username: string; password: string; file: string };
  stop(): Promise<void>;
}

const PASSWORD_FILE = 'initial-admin-password';
const ENCRYPTION_KEY_FILE = 'encryption-key';
const STOPPED_FILE = 'up-stopped.json';
const STOP_WAIT_MS = 120_000;
const FIRST_SYNC_WAIT_MS = 60_000;

/**
 * A user file with its (commented-out) password_hash line set to hash. The replacement is a function:
 * as a string, a hash whose salt began with a digit had "$1" read as the regex's first group (one
 * demo in seven got an invalid admin file, and `up` waited forever for a sign-in line).
 */
export const withPasswordHash = (userFile: string, hash: string) => userFile.replace(/^(# )?password_hash:.*$/m, () => `password_hash: "${hash}"`);

/**
 * The key that seals users' git SSH keys, when the environment gives none: one of up's own, made
 * once in the data dir (mode 0600), so the demo has git SSH keys like a deployment.
 */
async function ensureEncryptionKey(dataDir: string): Promise<void> {
  if (process.env[ENCRYPTION_KEYS_ENV]) return;
  const file = path.join(dataDir, ENCRYPTION_KEY_FILE);
  if (!existsSync(file)) await fsp.writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  process.env[ENCRYPTION_KEYS_ENV] = (await fsp.readFile(file, 'utf8')).trim();
}

/** The demo config repo: made once (with a generated admin password), its access_url kept current. */
async function demoRepo(dir: string, dataDir: string, url: string): Promise<{ username: string; password: string; file: string }> {
  const file = path.join(dataDir, PASSWORD_FILE);
  if (!existsSync(path.join(dir, 'coder-git.yaml'))) {
    await fsp.rm(dir, { recursive: true, force: true });
    await initRepo({ dir, admin: 'admin', adminEmail: 'admin@example.com', workspace: 'dev', templates: ['local'], accessUrl: url, commit: false });
    const password = randomBytes(12).toString('base64url');
    const edit = async (rel: string, fn: (s: string) => string) => fsp.writeFile(path.join(dir, rel), fn(await fsp.readFile(path.join(dir, rel), 'utf8')));
    const hash = await hashPassword(password);
    await edit('users/admin.yaml', (s) => withPasswordHash(s, hash));
    await edit('coder-git.yaml', (s) => s.replace('  variables: {}', () => `  variables:\n    workspaces_root: ${JSON.stringify(path.join(dataDir, 'workspaces'))}`));
    await fsp.writeFile(file, `${password}\n`, { mode: 0o600 });
    const repo = new GitRepo(dir);
    await repo.init();
    await repo.commitAll('Demo config repo made by coder-git up');
  }
  // Only its owner reads the demo repo (the admin's password hash is in it): a root runner's
  // workspaces run as another user, who reaches <data-dir>/workspaces through the same data dir.
  await fsp.chmod(dir, 0o700);
  const repo = new GitRepo(dir);
  const cfg = path.join(dir, 'coder-git.yaml');
  const text = await fsp.readFile(cfg, 'utf8');
  const now = text.replace(/^access_url: .*$/m, () => `access_url: ${url}`);
  if (now !== text) {
    await fsp.writeFile(cfg, now);
    await repo.commitAll(`coder-git up: the server is at ${url}`);
  }
  const password = existsSync(file) ? (await fsp.readFile(file, 'utf8')).trim() : '(set by you: the initial password file was removed)';
  return { username: 'admin', password, file };
}

/** The sign-in line is only worth printing once the commit's users are in the database. */
async function firstSync(db: Database['db'], commit: string, log: (m: string) => void): Promise<void> {
  let row: Awaited<ReturnType<typeof syncs.byCommit>> = null;
  const seen = await waitFor(FIRST_SYNC_WAIT_MS, 100, async () => Boolean((row = await syncs.byCommit(db, commit).catch(() => null))?.status));
  const sync = row as Awaited<ReturnType<typeof syncs.byCommit>>; // (assigned in the callback: TypeScript cannot see it)
  if (sync?.status === 'invalid') {
    // Each error as file:line: message, so a demo repo edited by hand says what to mend.
    const errors = ((sync.errors ?? []) as { file?: string; line?: number; message?: string; severity?: string }[]).filter((e) => e.severity !== 'warning');
    log(`commit ${commit.slice(0, 8)} is invalid, nothing applied:${errors.map((e) => `\n  ${e.file ?? ''}${e.line ? `:${e.line}` : ''}: ${e.message ?? ''}`).join('')}`);
  }
  if (!seen) log(`commit ${commit.slice(0, 8)} not applied yet: see coder-git status`);
}

/** Calls check every `every` ms until it says true or `ms` have passed; whether it said true. */
async function waitFor(ms: number, every: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, every))) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
  }
}

const busy = (s: string | undefined) => s === 'pending' || s === 'running';

export async function up(o: UpOptions): Promise<Up> {
  const url = `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${o.port}`;
  const repoDir = path.resolve(o.repo ?? path.join(o.dataDir, 'demo'));
  const admin = o.repo ? undefined : await demoRepo(repoDir, o.dataDir, url);
  const { db } = o.database;
  const stoppedFile = path.join(o.dataDir, STOPPED_FILE);
  await ensureEncryptionKey(o.dataDir);

  let app: FastifyInstance | undefined;
  let runner: Runner | undefined;
  let watch: NodeJS.Timeout | undefined;
  let stopping = false;
  let restarting: Promise<void> = Promise.resolve();
  // Handed out before anything starts, so a Ctrl-C during start-up stops whatever has started by then.
  const stop = async () => {
    stopping = true;
    clearInterval(watch);
    // A start asked for at this very moment must be in the database before we look for what to
    // stop, or it would be missed and its agent would outlive us.
    await restarting.catch(() => undefined);
    if (runner) await stopLocalWorkspaces(db, stoppedFile, o.log);
    await runner?.stop();
    await app?.close();
    app = undefined;
  };
  o.onStoppable?.(stop);

  app = await buildServer({ database: o.database, accessUrl: url, logger: { level: 'warn' } });
  await app.listen({ host: o.host, port: o.port });
  const source = await openSource({ repo: repoDir, dataDir: o.dataDir, intervalMs: 60_000 });
  runner = new Runner({
    database: o.database,
    source,
    dataDir: o.dataDir,
    workers: 4,
    leaseSeconds: 60,
    graceMs: 60_000,
    retryAfterMs: 60_000,
    maxDestroy: 5,
    allowDestroy: false,
    driftIntervalMs: 0,
    selfHeal: false,
    agentCommand: o.agentCommand,
    log: o.log,
  });
  await runner.start();
  await firstSync(db, await source.head(), o.log);

  // What the last `up` stopped on its way out is started again.
  restarting = (async () => {
    const stopped: { owner: string; name: string }[] = existsSync(stoppedFile) ? JSON.parse(await fsp.readFile(stoppedFile, 'utf8')) : [];
    for (const w of stopped) {
      if (stopping) return;
      await requestStart(db, w.owner, w.name, { username: 'up' }).then(
        (r) => r.queued && o.log(`starting ${w.owner}/${w.name} again (build #${r.build_number})`),
        () => undefined,
      );
    }
    if (!stopping) await fsp.rm(stoppedFile, { force: true });
  })();
  await restarting;

  // Tell the person when each workspace's agent is there (the demo's, typically, a few seconds in).
  const announced = new Set<string>();
  watch = setInterval(() => {
    void workspaces.listing(db, null).then((rows) => {
      for (const w of rows.map((r) => workspaceView(r))) {
        const key = `${w.owner}/${w.name}`;
        if (w.agent?.status === 'connected' && w.agent.lifecycle === 'ready' && !announced.has(key)) {
          announced.add(key);
          o.log(`${key}: agent connected — terminal at ${url}/workspaces/${key}/terminal`);
        }
      }
    }, () => undefined);
  }, 1000);
  watch.unref();
  if (stopping) clearInterval(watch);

  return { url, repo: repoDir, admin, stop };
}

/**
 * Stops what runs on this machine, through the runner that is still up, and waits for it; writes
 * which, for the next `up` to start again.
 */
async function stopLocalWorkspaces(db: Database['db'], stoppedFile: string, log: (m: string) => void): Promise<void> {
  // A start still in progress is let finish first: stopped half-way, its agent could outlive us.
  // A failed read is asked again, never taken for "nothing runs here" (that would leave agents behind).
  let local: Awaited<ReturnType<typeof workspaces.localAgents>> | undefined;
  let lastError: unknown;
  await waitFor(STOP_WAIT_MS, 250, async () => {
    local = await workspaces.localAgents(db).catch((err: unknown) => void (lastError = err));
    return local !== undefined && !local.some((w) => busy(w.build_status));
  });
  if (!local) {
    log(`could not read which workspaces run on this machine (${lastError instanceof Error ? lastError.message : String(lastError)}); their agents may still run`);
    return;
  }
  const waiting: { owner: string; name: string; build: number }[] = [];
  for (const w of local) {
    const r = await requestStop(db, w.owner, w.name, { username: 'up' }).catch(() => undefined);
    if (r) waiting.push({ ...w, build: r.build_number });
  }
  if (waiting.length) {
    log(`stopping ${waiting.map((w) => `${w.owner}/${w.name}`).join(', ')} (their agents run on this machine; the next up starts them again)`);
    await fsp.writeFile(stoppedFile, JSON.stringify(waiting.map(({ owner, name }) => ({ owner, name }))));
    await waitFor(STOP_WAIT_MS, 250, async () => {
      const states = await Promise.all(waiting.map((w) => builds.byNumber(db, w.owner, w.name, w.build).then((b) => b?.status, () => undefined)));
      return states.every((s) => s !== undefined && !busy(s));
    });
  }
}
