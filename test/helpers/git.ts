// Real git repositories in temp folders, with a local identity, no signing, no gc and no hooks,
// so tests behave the same on every machine whatever the user's git config.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Files = Record<string, string | Buffer | null>;

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'gc.auto=0', '-c', 'core.hooksPath=/dev/null', ...args], {
    cwd: dir,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const made: string[] = [];

export function tempDir(prefix = 'coder-git-test-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Removes every folder tempDir made (call at the end of a test file). */
export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes files (null deletes one) into dir. */
export function writeFiles(dir: string, files: Files): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    if (content === null) {
      try {
        unlinkSync(abs);
      } catch {}
      continue;
    }
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

/** A new repository with the files committed on main; returns its folder. */
export function gitRepo(files: Files, message = 'initial'): string {
  const dir = tempDir();
  git(dir, 'init', '--quiet', '--initial-branch=main');
  writeFiles(dir, files);
  commitAll(dir, message);
  return dir;
}

export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '--all');
  git(dir, 'commit', '--quiet', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}
