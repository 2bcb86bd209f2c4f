// The one sync path's own promises: a commit is read from git and validated once per process (the
// runner asks for the tip on every tick and every finished build); `plan` only reads, while a sync
// reaps the builds of a dead runner first. Real git, PostgreSQL, terraform and CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { cleanup, commitAll, git } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { localConfigRepo, stopLocalAgents, type LocalRepo } from '../fixtures/local.ts';
import { loadCommitCached } from '../../src/apply/sync.ts';
import { loadAppliedState } from '../../src/db/state.ts';
import { builds } from '../../src/db/repos/builds.ts';
import { jobs } from '../../src/db/repos/jobs.ts';

let d: TestDb;
let r: LocalRepo;
const cg = (...args: string[]) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 120_000 });

test('a commit is loaded once: the same answer without git, an uncached commit still goes to git', async () => {
  r = await localConfigRepo();
  const head = git(r.repo, 'rev-parse', 'HEAD').trim();
  const first = await loadCommitCached(r.repo, head);
  assert.ok(first.desired, 'the commit validates');
  const before = commitAll(r.repo, 'another commit');
  renameSync(path.join(r.repo, '.git'), path.join(r.repo, '.git-away'));
  try {
    const again = await loadCommitCached(r.repo, head);
    assert.is(again, first, 'answered from the cache: git was not asked');
    let failed = false;
    await loadCommitCached(r.repo, before).catch(() => (failed = true));
    assert.ok(failed, 'a commit not seen before is read from git (which is away now)');
  } finally {
    renameSync(path.join(r.repo, '.git-away'), path.join(r.repo, '.git'));
  }
  const retried = await loadCommitCached(r.repo, before);
  assert.ok(retried.desired, 'a failed read is not cached');
});

test("plan leaves a dead runner's build alone; apply reaps it first and builds it again", async () => {
  d = await testDatabase();
  const a = await cg('apply', '--auto-approve');
  assert.is(a.code, 0, a.stdout + a.stderr);
  const w = (await loadAppliedState(d.db)).workspaces.get('admin/dev')!;
  const b = await builds.create(d.db, { workspace_id: w.id, transition: 'start', reason: 'sync', template_version_id: w.template_version_id!, parameters: w.parameters, sync_id: null });
  assert.ok(await jobs.claim(d.db, 'a-runner-that-dies', 1));
  await builds.setStatus(d.db, b.id, 'running', { runner_id: 'a-runner-that-dies' });
  await new Promise((res) => setTimeout(res, 1500)); // its lease runs out
  const p = await cg('plan', '--no-terraform');
  assert.is(p.code, 0, p.stderr);
  assert.is((await builds.get(d.db, b.id))!.status, 'running', 'plan only reads');
  const again = await cg('apply', '--auto-approve');
  assert.is(again.code, 0, again.stdout + again.stderr);
  assert.is((await builds.get(d.db, b.id))!.status, 'interrupted', 'the sync reaped it');
  const now = (await loadAppliedState(d.db)).workspaces.get('admin/dev')!;
  assert.is(now.build_status, 'succeeded', 'and built the workspace again');
});

test('clean up', async () => {
  if (r) stopLocalAgents(r.root);
  await d?.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
