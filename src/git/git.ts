// The git adapter: the only module that runs git (through simple-git). Reads a config repo at any ref
// without checking it out, with a handful of git processes whatever the number of files.

import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { CoderGitError } from '../errors.ts';

export interface TreeEntry {
  /** path relative to the config repo's root, with forward slashes */
  path: string;
  mode: string;
  type: 'blob' | 'commit' | 'tree';
  oid: string;
  size: number;
}

export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  date: string;
  subject: string;
}

// simple-git drops every GIT_* variable of our environment unless it is named here. Kept: identity,
// config isolation and transport settings a runner needs for private remotes. Still dropped: GIT_DIR,
// GIT_WORK_TREE, GIT_INDEX_FILE and the like, which (inside a git hook, say) would point us at
// another repository.
const ALLOWED_GIT_ENV = [
  'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_COMMITTER_DATE',
  'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_NOSYSTEM',
  'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_ASKPASS', 'GIT_TERMINAL_PROMPT',
  'GIT_SSL_CAINFO', 'GIT_SSL_CAPATH', 'GIT_HTTP_PROXY_AUTHMETHOD',
];

// Each `git show` gets this many object ids: well under Linux's 128 KiB limit for one argument list
// entry and 2 MiB for all of them, while 30,000 files still take only ~15 processes.
const BLOBS_PER_PROCESS = 2000;

export class GitRepo {
  private readonly git: SimpleGit;
  constructor(readonly dir: string) {
    this.git = simpleGit({ baseDir: dir, maxConcurrentProcesses: 4, allowEnvironment: ALLOWED_GIT_ENV });
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      const msg = cause instanceof Error ? cause.message.trim().split('\n')[0] : String(cause);
      throw new CoderGitError('CG_GIT', `${what}: ${msg}`, { cause });
    }
  }

  /** True when dir is inside a git work tree. */
  async isRepo(): Promise<boolean> {
    try {
      return (await this.git.raw(['rev-parse', '--is-inside-work-tree'])).trim() === 'true';
    } catch {
      return false;
    }
  }

  /** True for a bare repository (the runner's clones of remote repos). */
  async isBare(): Promise<boolean> {
    try {
      return (await this.git.raw(['rev-parse', '--is-bare-repository'])).trim() === 'true';
    } catch {
      return false;
    }
  }

  /** The config repo's folder relative to the git top level ("" at the top), so a config repo can be a subfolder. */
  async prefix(): Promise<string> {
    if (await this.isBare()) return '';
    return (await this.run('finding the repository root', () => this.git.raw(['rev-parse', '--show-prefix']))).trim();
  }

  /** The branch HEAD points at. */
  async currentBranch(): Promise<string> {
    return (await this.run('finding the current branch', () => this.git.raw(['symbolic-ref', '--short', 'HEAD']))).trim();
  }

  /** Where git keeps this repository's refs (.git, or the folder itself when bare). */
  async gitDir(): Promise<string> {
    return (await this.run('finding the git directory', () => this.git.raw(['rev-parse', '--absolute-git-dir']))).trim();
  }

  /** Paths (relative to this folder) a pull request from `base` to `head` changes: added, modified, deleted, both sides of a rename. */
  async changedSince(base: string, head: string): Promise<string[]> {
    const out = await this.run(`comparing ${base} with ${head}`, () => this.git.raw(['diff', '--name-only', '-z', '--no-renames', '--relative', `${base}...${head}`, '--']));
    return out.split('\0').filter(Boolean);
  }

  /**
   * Commit sha's signature as git checks it (%G? and the signer), with SSH signatures checked
   * against allowedSigners (a file path); GPG ones against the runner's keyring.
   */
  async signature(sha: string, allowedSigners: string | undefined): Promise<{ status: string; signer: string; key: string; fingerprint: string }> {
    const config = allowedSigners ? ['-c', `gpg.ssh.allowedSignersFile=${allowedSigners}`] : [];
    const out = await this.run(`reading the signature of ${sha}`, () => this.git.raw([...config, 'log', '-1', '--format=%G?%x00%GS%x00%GK%x00%GF', sha, '--']));
    const [status = 'N', signer = '', key = '', fingerprint = ''] = out.trim().split('\0');
    return { status, signer, key, fingerprint };
  }

  /** A file's bytes at a commit, or undefined when it has none. */
  async fileAt(sha: string, file: string): Promise<Buffer | undefined> {
    try {
      return await this.git.binaryCatFile(['blob', `${sha}:${file}`]);
    } catch {
      return undefined;
    }
  }

  /** Commits reachable from `to` but not from `from`, newest first, at most `max`. */
  async between(from: string, to: string, max = 100): Promise<string[]> {
    const out = await this.run('listing commits', () => this.git.raw(['rev-list', `--max-count=${max}`, `${from}..${to}`]));
    return out.split('\n').filter(Boolean);
  }

  /**
   * Whether `older` is an ancestor of `newer` (true), not (false), or unknown because one of them is
   * not in this clone (a shallow CI checkout): undefined.
   */
  async isAncestor(older: string, newer: string): Promise<boolean | undefined> {
    const has = async (sha: string) => (await this.git.raw(['cat-file', '-t', sha]).catch(() => '')).trim() === 'commit';
    if (!(await has(older)) || !(await has(newer))) return undefined;
    // (not --is-ancestor: its answer is only the exit status, which simple-git does not report
    // when git prints nothing)
    const base = (await this.git.raw(['merge-base', older, newer]).catch(() => '')).trim();
    const full = (await this.git.raw(['rev-parse', older])).trim();
    return base === full;
  }

  /** A bare clone of url in dir (the runner's cache of a remote config repo); dir's parent must exist. */
  static async cloneBare(url: string, dir: string): Promise<GitRepo> {
    const parent = simpleGit({ baseDir: path.dirname(dir), allowEnvironment: ALLOWED_GIT_ENV });
    try {
      await parent.raw(['clone', '--quiet', '--bare', '--', url, dir]);
    } catch (cause) {
      throw new CoderGitError('CG_GIT', `cloning ${url}: ${cause instanceof Error ? cause.message.trim().split('\n')[0] : String(cause)}`, { cause });
    }
    return new GitRepo(dir);
  }

  /** Fetches branch from origin into the local branch of the same name (a force-push moves it too). */
  async fetchBranch(branch: string): Promise<void> {
    await this.run(`fetching ${branch}`, () => this.git.raw(['fetch', '--quiet', '--prune', 'origin', `+refs/heads/${branch}:refs/heads/${branch}`]));
  }

  async resolveCommit(ref: string): Promise<string> {
    if (ref.startsWith('-')) throw new CoderGitError('CG_USAGE', `--ref ${ref}: a ref cannot start with "-"`);
    // simple-git counts a failing command that printed nothing on stderr as a success with empty
    // output, so the answer is checked rather than the exit status.
    const out = await this.git.raw(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).catch(() => '');
    const sha = out.trim();
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) {
      throw new CoderGitError('CG_GIT', `--ref ${ref}: no such branch, tag or commit in ${this.dir}`, {
        hint: 'check the name with `git branch -a` / `git log`; for a remote branch, run `git fetch` first',
      });
    }
    return sha;
  }

  async commitInfo(sha: string): Promise<CommitInfo> {
    const out = await this.run(`reading commit ${sha}`, () =>
      this.git.raw(['show', '-s', '--format=%H%x00%an%x00%ae%x00%aI%x00%s', sha]),
    );
    const [h = sha, author = '', email = '', date = '', subject = ''] = out.trim().split('\0');
    return { sha: h, author, email, date, subject };
  }

  /** Every entry under `treeish` (e.g. "<sha>:" or "<sha>:infra/coder"), recursively, with blob sizes. */
  async listTree(treeish: string): Promise<TreeEntry[]> {
    const out = await this.run(`listing ${treeish}`, () => this.git.raw(['ls-tree', '-r', '-z', '--long', '--full-tree', treeish]));
    const entries: TreeEntry[] = [];
    for (const rec of out.split('\0')) {
      if (!rec) continue;
      // "<mode> SP <type> SP <oid> SP+ <size> TAB <path>"
      const tab = rec.indexOf('\t');
      const [mode = '', type = '', oid = '', size = '-'] = rec.slice(0, tab).split(/ +/);
      entries.push({ path: rec.slice(tab + 1), mode, type: type as TreeEntry['type'], oid, size: size === '-' ? 0 : Number(size) });
    }
    return entries;
  }

  /** The contents of the given blobs, read with a few `git show` processes and split by the sizes ls-tree gave. */
  async readBlobs(blobs: { oid: string; size: number }[]): Promise<Map<string, Buffer>> {
    const result = new Map<string, Buffer>();
    const unique = [...new Map(blobs.map((b) => [b.oid, b])).values()];
    const chunks: (typeof unique)[] = [];
    for (let i = 0; i < unique.length; i += BLOBS_PER_PROCESS) chunks.push(unique.slice(i, i + BLOBS_PER_PROCESS));
    await Promise.all(
      chunks.map(async (chunk) => {
        const buf = await this.run('reading files', () => this.git.showBuffer(['--no-textconv', ...chunk.map((b) => b.oid)]));
        let at = 0;
        for (const b of chunk) {
          result.set(b.oid, buf.subarray(at, at + b.size));
          at += b.size;
        }
        if (at !== buf.length) throw new CoderGitError('CG_GIT', `reading files: git returned ${buf.length} bytes, expected ${at}`);
      }),
    );
    return result;
  }

  /** Files of the working tree below dir that git would track: tracked ones plus untracked, not ignored ones. */
  async listWorkingFiles(): Promise<string[]> {
    const out = await this.run('listing the working tree', () =>
      this.git.raw(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate']),
    );
    return out.split('\0').filter(Boolean);
  }

  async init(branch = 'main'): Promise<void> {
    await this.run('git init', () => this.git.raw(['init', '--quiet', `--initial-branch=${branch}`]));
  }

  /** Stage everything and commit; falls back to a coder-git identity where git has none configured. */
  async commitAll(message: string): Promise<string> {
    await this.run('git add', () => this.git.raw(['add', '--all']));
    const email = await this.git.raw(['config', 'user.email']).catch(() => '');
    const identity = email.trim() ? [] : ['-c', 'user.name=coder-git', '-c', 'user.email=coder-git@localhost'];
    await this.run('git commit', () => this.git.raw([...identity, 'commit', '--quiet', '--no-verify', '-m', message]));
    return (await this.git.raw(['rev-parse', 'HEAD'])).trim();
  }
}
