// Reading a config repo: the working tree and git refs, in real repositories.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { symlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cleanup, commitAll, git, gitRepo, tempDir, writeFiles } from '../helpers/git.ts';
import { alice, aliceDev, baseFiles } from '../fixtures/base.ts';
import { loadConfig } from '../../src/config/index.ts';
import { readSource } from '../../src/config/source.ts';
import { CoderGitError } from '../../src/errors.ts';

const brokenDev = aliceDev.replace('cpu: 4', 'cpu: 99');

test('working tree and a ref differ when the two differ', async () => {
  const dir = gitRepo(baseFiles());
  const first = git(dir, 'rev-parse', 'HEAD').trim();
  writeFiles(dir, { 'workspaces/alice/dev.yaml': brokenDev });
  const wt = await loadConfig({ dir });
  const head = await loadConfig({ dir, ref: 'HEAD' });
  assert.is(wt.result.state, undefined, 'the edited working tree is invalid');
  assert.equal(wt.result.diagnostics.map((d) => `${d.file}:${d.line}`), ['workspaces/alice/dev.yaml:5']);
  assert.ok(head.result.state, 'HEAD is still valid');
  assert.is(head.source.commit?.sha, first);
  assert.is(head.source.commit?.subject, 'initial');
  assert.is(head.source.commit?.author, 'Test Author');

  commitAll(dir, 'break it');
  writeFiles(dir, { 'workspaces/alice/dev.yaml': aliceDev });
  assert.ok((await loadConfig({ dir })).result.state, 'the fixed working tree is valid');
  assert.is((await loadConfig({ dir, ref: 'HEAD' })).result.state, undefined, 'the new HEAD is invalid');
  assert.ok((await loadConfig({ dir, ref: 'HEAD~1' })).result.state, 'HEAD~1 is valid');
  assert.ok((await loadConfig({ dir, ref: first.slice(0, 10) })).result.state, 'an abbreviated SHA works');
});

test('branches, tags and remote-tracking refs', async () => {
  const origin = gitRepo(baseFiles());
  git(origin, 'tag', 'v1');
  git(origin, 'checkout', '-q', '-b', 'feature');
  writeFiles(origin, { 'workspaces/alice/dev.yaml': brokenDev });
  commitAll(origin, 'feature');
  git(origin, 'checkout', '-q', 'main');
  const clone = tempDir();
  git(clone, 'clone', '-q', origin, '.');
  assert.ok((await loadConfig({ dir: clone, ref: 'v1' })).result.state);
  assert.ok((await loadConfig({ dir: clone, ref: 'main' })).result.state);
  assert.is((await loadConfig({ dir: clone, ref: 'origin/feature' })).result.state, undefined);
  assert.is((await loadConfig({ dir: origin, ref: 'feature' })).result.state, undefined);
});

test('a config repo in a subfolder of a git repository (monorepo)', async () => {
  const files = Object.fromEntries(Object.entries(baseFiles()).map(([p, t]) => [`infra/coder/${p}`, t]));
  const top = gitRepo({ ...files, 'stray.yaml': 'not: ours\n', 'users/ghost.yaml': 'garbage: [\n' });
  const dir = path.join(top, 'infra/coder');
  for (const ref of [undefined, 'HEAD']) {
    const { result } = await loadConfig({ dir, ref });
    assert.equal(result.diagnostics, [], `${ref}: files outside the subfolder are not read`);
    assert.equal(result.counts, { users: 2, groups: 0, templates: 1, workspaces: 2 });
  }
});

test('working tree: untracked files count, ignored and deleted ones do not', async () => {
  const dir = gitRepo({ ...baseFiles(), '.gitignore': 'users/ignored.yaml\n' });
  writeFiles(dir, { 'users/carol.yaml': alice.replace('alice@', 'carol@'), 'users/ignored.yaml': 'broken: [' });
  rmSync(path.join(dir, 'workspaces/bob/box.yaml'));
  const { result } = await loadConfig({ dir });
  assert.equal(result.diagnostics, []);
  assert.equal(result.counts, { users: 3, groups: 0, templates: 1, workspaces: 1 });
});

test('a folder that is not a git repository validates from the file system', async () => {
  const dir = tempDir();
  writeFiles(dir, { ...baseFiles(), '.hidden/x.yaml': 'not: checked\n' });
  const { source, result } = await loadConfig({ dir });
  assert.equal(result.diagnostics, []);
  assert.is(source.commit, undefined);
  try {
    await loadConfig({ dir, ref: 'main' });
    assert.unreachable('a ref needs a git repository');
  } catch (err) {
    assert.instance(err, CoderGitError);
    assert.is((err as CoderGitError).code, 'CG_USAGE');
    assert.match((err as Error).message, /is not a git repository/);
  }
});

test('an unknown ref is a clear error', async () => {
  const dir = gitRepo(baseFiles());
  for (const ref of ['nope', 'HEAD~5', '--output=/tmp/x']) {
    try {
      await loadConfig({ dir, ref });
      assert.unreachable(ref);
    } catch (err) {
      assert.instance(err, CoderGitError);
      assert.match((err as Error).message, ref.startsWith('-') ? /cannot start with "-"/ : new RegExp(`--ref ${ref.replace(/[~]/g, '\\$&')}: no such branch, tag or commit`));
    }
  }
});

test('a missing directory is a clear error', async () => {
  try {
    await loadConfig({ dir: '/nonexistent/coder-git' });
    assert.unreachable();
  } catch (err) {
    assert.is((err as CoderGitError).code, 'CG_NOT_FOUND');
    assert.match((err as Error).message, /no such directory/);
  }
});

test('at a ref: symlinks are reported, not followed; big files are not read', async () => {
  const dir = gitRepo(baseFiles());
  symlinkSync('/etc/passwd', path.join(dir, 'users/carol.yaml'));
  writeFiles(dir, { 'users/dave.yaml': 'x'.repeat(2 * 1024 * 1024) });
  commitAll(dir, 'links');
  const src = await readSource({ dir, ref: 'HEAD' });
  const carol = src.files.find((f) => f.path === 'users/carol.yaml')!;
  const dave = src.files.find((f) => f.path === 'users/dave.yaml')!;
  assert.is(carol.kind, 'symlink');
  assert.is(carol.content, undefined);
  assert.is(dave.size, 2 * 1024 * 1024);
  assert.is(dave.content, undefined);
});

test('at a ref: thousands of files are split back into the right contents', async () => {
  const files: Record<string, string> = { ...baseFiles() } as Record<string, string>;
  // 4,500 files crosses two chunk boundaries; identical contents share one blob.
  for (let i = 0; i < 4500; i++) files[`users/u${i}.yaml`] = alice.replace('alice@', `u${i}@`).replace('Alice Liddell', i % 3 === 0 ? 'Same' : `U ${'x'.repeat(i % 50)}`);
  const dir = gitRepo(files);
  const src = await readSource({ dir, ref: 'HEAD' });
  const wt = await readSource({ dir });
  assert.is(src.files.length, wt.files.length);
  for (let i = 0; i < src.files.length; i++) {
    assert.is(src.files[i]!.path, wt.files[i]!.path);
    assert.ok(src.files[i]!.content!.equals(wt.files[i]!.content!), src.files[i]!.path);
  }
  const { result } = await loadConfig({ dir, ref: 'HEAD' });
  assert.equal(result.diagnostics, []);
  assert.is(result.counts.users, 4502);
});

test('cleanup', () => cleanup());
test.run();
