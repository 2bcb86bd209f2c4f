// Where the runner reads commits from. A local repository is watched (chokidar on its refs, plus a
// cheap poll in case an event is missed); a remote one is a bare clone in the data dir, fetched every
// interval. Either way: a folder loadConfig can read at any commit, the tracked branch, its tip.
// Working-tree edits are not commits: only the branch's ref is looked at.

import { existsSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import { GitRepo } from '../src/git/git.ts';

export interface Source {
  /** a folder with the repository (a work tree or a bare clone) */
  dir: string;
  branch: string;
  describe: string;
  head(): Promise<string>;
  /** calls onChange when the branch may have moved */
  watch(onChange: () => void): void;
  /** fetch now (a webhook said so); local sources need nothing */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

export function isRemote(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\s]+@[^:\s]+:/.test(repo);
}

export async function openSource(o: { repo: string; branch?: string; dataDir: string; intervalMs: number; pollMs?: number }): Promise<Source> {
  return isRemote(o.repo) ? remoteSource(o) : localSource(o);
}

async function localSource(o: { repo: string; branch?: string; pollMs?: number }): Promise<Source> {
  const dir = path.resolve(o.repo);
  const repo = new GitRepo(dir);
  const branch = o.branch ?? (await repo.currentBranch());
  const gitDir = await repo.gitDir();
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  return {
    dir,
    branch,
    describe: `${dir} (branch ${branch})`,
    head: () => repo.resolveCommit(`refs/heads/${branch}`),
    watch(onChange) {
      watcher = chokidar.watch([path.join(gitDir, 'refs', 'heads'), path.join(gitDir, 'packed-refs')], { ignoreInitial: true });
      watcher.on('all', () => onChange());
      poll = setInterval(onChange, o.pollMs ?? 5000);
    },
    async refresh() {},
    async close() {
      clearInterval(poll);
      await watcher?.close();
    },
  };
}

async function remoteSource(o: { repo: string; branch?: string; dataDir: string; intervalMs: number }): Promise<Source> {
  const dir = path.join(o.dataDir, 'repos', createHash('sha256').update(o.repo).digest('hex').slice(0, 16));
  mkdirSync(path.dirname(dir), { recursive: true });
  const repo = existsSync(dir) ? new GitRepo(dir) : await GitRepo.cloneBare(o.repo, dir);
  const branch = o.branch ?? (await repo.currentBranch());
  await repo.fetchBranch(branch);
  let timer: NodeJS.Timeout | undefined;
  let notify: () => void = () => {};
  const refresh = async () => {
    await repo.fetchBranch(branch);
    notify();
  };
  return {
    dir,
    branch,
    describe: `${o.repo.replace(/\/\/[^@/]*@/, '//')} (branch ${branch}, fetched every ${Math.round(o.intervalMs / 1000)}s)`,
    head: () => repo.resolveCommit(`refs/heads/${branch}`),
    watch(onChange) {
      notify = onChange;
      timer = setInterval(() => void refresh().catch(() => undefined), o.intervalMs);
    },
    refresh,
    async close() {
      clearInterval(timer);
    },
  };
}
