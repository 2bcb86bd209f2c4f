// Reads the raw files of a config repo, from the working tree or from any git ref, into memory.
// Only paths that can matter are read: coder-git.yaml and users/, groups/, templates/, workspaces/. Other
// YAML files are listed (so validation can report them) but not read. Paths with a segment that
// starts with "." (.git, .github, .terraform, …) are not the config repo's business.

import { closeSync, constants, fstatSync, openSync, promises as fsp, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { CoderGitError } from '../errors.ts';
import { GitRepo, type CommitInfo } from '../git/git.ts';

export const MAX_FILE_BYTES = 1024 * 1024;

export interface SourceFile {
  /** relative to the config repo's root, forward slashes */
  path: string;
  size: number;
  /** undefined when not read: too large, a symlink, a submodule, or not a config path */
  content: Buffer | undefined;
  kind: 'file' | 'symlink' | 'submodule';
}

export interface ConfigSource {
  dir: string;
  /** the ref as given, when reading from git */
  ref: string | undefined;
  commit: CommitInfo | undefined;
  files: SourceFile[];
}

const ROOTS = ['users/', 'groups/', 'templates/', 'workspaces/'];

export function isHidden(p: string): boolean {
  return p.startsWith('.') || p.includes('/.');
}

/** Paths whose contents validation needs. */
export function isConfigPath(p: string): boolean {
  // (a path that is exactly users, templates or workspaces can only be a link or a submodule, which must be reported)
  return p === 'coder-git.yaml' || ROOTS.some((r) => p.startsWith(r) || p === r.slice(0, -1));
}

function wanted(p: string): boolean {
  return !isHidden(p) && (isConfigPath(p) || /\.ya?ml$/i.test(p));
}

export async function readSource(opts: { dir: string; ref?: string | undefined }): Promise<ConfigSource> {
  const dir = path.resolve(opts.dir);
  const stat = await fsp.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new CoderGitError('CG_NOT_FOUND', `config repo ${dir}: no such directory`);
  const repo = new GitRepo(dir);
  const isRepo = await repo.isRepo();
  if (opts.ref !== undefined) {
    if (!isRepo && !(await repo.isBare())) throw new CoderGitError('CG_USAGE', `--ref ${opts.ref}: ${dir} is not a git repository`);
    return readAtRef(repo, dir, opts.ref);
  }
  const paths = isRepo ? await repo.listWorkingFiles() : await walk(dir);
  // Synchronous reads: ~4x faster than fs/promises for many small files. Reading the working tree
  // is what the CLI does; the long-running runner reads refs through git instead.
  const files = paths.filter(wanted).sort().map((p) => readWorkingFile(dir, p));
  return { dir, ref: undefined, commit: undefined, files: files.filter((f): f is SourceFile => f !== undefined) };
}

async function readAtRef(repo: GitRepo, dir: string, ref: string): Promise<ConfigSource> {
  const sha = await repo.resolveCommit(ref);
  const [prefix, commit] = await Promise.all([repo.prefix(), repo.commitInfo(sha)]);
  const entries = (await repo.listTree(`${sha}:${prefix.replace(/\/$/, '')}`)).filter((e) => wanted(e.path));
  const toRead = entries.filter((e) => e.type === 'blob' && e.mode !== '120000' && isConfigPath(e.path) && e.size <= MAX_FILE_BYTES);
  const blobs = await repo.readBlobs(toRead);
  const files: SourceFile[] = entries.map((e) => ({
    path: e.path,
    size: e.size,
    kind: e.type === 'commit' ? 'submodule' : e.mode === '120000' ? 'symlink' : 'file',
    content: e.type === 'blob' && e.mode !== '120000' ? blobs.get(e.oid) : undefined,
  }));
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { dir, ref, commit, files };
}

// One buffer for all reads: most config files are far smaller, so a file usually costs open, one
// read and close, with no fstat and no allocation beyond its own bytes.
const chunk = Buffer.allocUnsafe(64 * 1024);

function readWorkingFile(dir: string, rel: string): SourceFile | undefined {
  // Stray YAML files are only reported, never read.
  if (!isConfigPath(rel)) return { path: rel, size: 0, content: undefined, kind: 'file' };
  const abs = path.join(dir, rel);
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink in a config repo could point anywhere on the runner's disk; never follow it.
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // tracked but deleted in the working tree
    if (code === 'ELOOP') return { path: rel, size: 0, content: undefined, kind: 'symlink' };
    throw new CoderGitError('CG_IO', `reading ${rel}`, { cause: err });
  }
  try {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n < chunk.length) return { path: rel, size: n, content: Buffer.from(chunk.subarray(0, n)), kind: 'file' };
    const size = fstatSync(fd).size;
    if (size > MAX_FILE_BYTES) return { path: rel, size, content: undefined, kind: 'file' };
    const content = Buffer.concat([chunk.subarray(0, n), readFileSync(fd)]);
    return { path: rel, size: content.length, content, kind: 'file' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') return { path: rel, size: 0, content: undefined, kind: 'submodule' };
    throw new CoderGitError('CG_IO', `reading ${rel}`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

/** A folder that is not a git repository: every file, skipping hidden entries. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (e.isDirectory()) continue;
    const rel = path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(path.sep).join('/');
    if (!isHidden(rel)) out.push(rel);
  }
  return out;
}
