// Who uses a data dir's embedded PostgreSQL, and one process at a time deciding to start or stop it.
// Any number of coder-git processes may start on one data dir at once (`runner` and `status` right
// after it, `db migrate` beside `db status`): each registers itself under the lock before it looks
// for a server, and the last one out stops the server under the same lock, so none stops a server
// another has just found, and two never initialise or create the database at once.
//
// <data-dir>/postgres.lock       held while starting or stopping (holds the holder's pid)
// <data-dir>/postgres-users/PID  one file per process that uses the server
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CoderGitError } from '../errors.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Runs fn holding the data dir's lock; a lock whose holder died is taken over. */
export async function withDataDirLock<T>(dataDir: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const file = path.join(dataDir, 'postgres.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fsp.writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await fsp.readFile(file, 'utf8').catch(() => ''));
      // (an empty file is a holder between creating and writing it: wait, unless it stays so)
      if (holder && !alive(holder)) await fsp.rm(file, { force: true });
      else if (Date.now() > deadline) throw new CoderGitError('CG_DB', `another coder-git process (pid ${holder || 'unknown'}) has been starting or stopping the embedded PostgreSQL in ${dataDir} for ${timeoutMs / 1000}s`, { hint: `if no such process runs, remove ${file}` });
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(file, { force: true });
  }
}

const usersDir = (dataDir: string) => path.join(dataDir, 'postgres-users');
/** uses of each data dir's server by this process (one file however many) */
const mine = new Map<string, number>();

/** This process uses the server (call under the lock). */
export async function addUser(dataDir: string): Promise<void> {
  mine.set(dataDir, (mine.get(dataDir) ?? 0) + 1);
  await fsp.mkdir(usersDir(dataDir), { recursive: true, mode: 0o700 });
  await fsp.writeFile(path.join(usersDir(dataDir), String(process.pid)), '', { mode: 0o600 });
}

/** One use of this process ends; how many uses (this process's and other live processes') remain (call under the lock). */
export async function removeUser(dataDir: string): Promise<number> {
  const left = Math.max(0, (mine.get(dataDir) ?? 1) - 1);
  mine.set(dataDir, left);
  if (left > 0) return left;
  await fsp.rm(path.join(usersDir(dataDir), String(process.pid)), { force: true });
  let others = 0;
  for (const name of await fsp.readdir(usersDir(dataDir)).catch(() => [] as string[])) {
    if (/^\d+$/.test(name) && alive(Number(name))) others++;
    else await fsp.rm(path.join(usersDir(dataDir), name), { force: true }); // a process that died without leaving
  }
  return others;
}
