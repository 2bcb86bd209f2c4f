// Builds and the build queue on a real PostgreSQL: numbering, concurrent workers that never share a
// job or a workspace, leases that expire when a runner dies; Terraform states, logs, agent tokens
// and API keys (hashes only).

import { test } from 'uvu';
const CONN = '00000000-0000-4000-8000-000000000001';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { users } from '../../src/db/repos/users.ts';
import { templates } from '../../src/db/repos/templates.ts';
import { workspaces } from '../../src/db/repos/workspaces.ts';
import { builds } from '../../src/db/repos/builds.ts';
import { jobs } from '../../src/db/repos/jobs.ts';
import { states } from '../../src/db/repos/states.ts';
import { logs } from '../../src/db/repos/logs.ts';
import { agents } from '../../src/db/repos/agents.ts';
import { apiKeys } from '../../src/db/repos/api-keys.ts';
import { loadAppliedState } from '../../src/db/state.ts';

const sha = (s: string) => createHash('sha256').update(s).digest();

async function world(d: TestDb, nWorkspaces: number) {
  await users.upsert(d.db, [{ username: 'alice', email: 'a@e.com', full_name: null, roles: ['member'], login_type: 'none', status: 'active', password_hash: null }]);
  await templates.upsert(d.db, [{ name: 'local', display_name: null, description: null, icon: null }]);
  await templates.upsertVersions(d.db, [{ template: 'local', content_hash: 'h1', commit_sha: null, manifest: {}, files: {} }]);
  await workspaces.upsert(d.db, Array.from({ length: nWorkspaces }, (_, i) => ({ owner: 'alice', name: `w${i}`, template: 'local', parameters: {}, desired_state: 'running' as const, schedule: {} })));
  const s = await loadAppliedState(d.db);
  return { s, version: s.templates.get('local')!.active_version_id!, user: s.users.get('alice')! };
}

test('builds are numbered per workspace, become its latest build and queue a job', async () => {
  const d = await testDatabase();
  try {
    const { s, version } = await world(d, 1);
    const ws = s.workspaces.get('alice/w0')!;
    const b1 = await builds.create(d.db, { workspace_id: ws.id, transition: 'start', reason: 'sync', template_version_id: version, parameters: { a: 1 }, sync_id: null });
    const b2 = await builds.create(d.db, { workspace_id: ws.id, transition: 'stop', reason: 'autostop', template_version_id: version, parameters: {}, sync_id: null });
    assert.equal([b1.build_number, b2.build_number], [1, 2]);
    assert.is(b1.status, 'pending');
    const after = (await loadAppliedState(d.db)).workspaces.get('alice/w0')!;
    assert.is(after.build_id, b2.id);
    assert.is(after.build_transition, 'stop');
    assert.equal(await jobs.depth(d.db), { waiting: 2, leased: 0 });
    const running = await builds.setStatus(d.db, b1.id, 'running', { runner_id: 'r1' });
    assert.ok(running.started_at);
    const failed = await builds.setStatus(d.db, b1.id, 'failed', { error: 'exit 1' });
    assert.is(failed.error, 'exit 1');
    assert.ok(failed.finished_at);
    // BUILD_TRANSITIONS, enforced in the statement: a build only moves forward.
    for (const [id, to] of [[b1.id, 'running'], [b1.id, 'succeeded'], [b2.id, 'succeeded'], [b2.id, 'interrupted']] as const) {
      let code = '';
      await builds.setStatus(d.db, id, to).catch((e: { code?: string }) => (code = e.code ?? String(e)));
      assert.is(code, 'CG_CONFLICT', `${id === b1.id ? 'failed' : 'pending'} → ${to} is refused`);
    }
    assert.is((await builds.get(d.db, b1.id))!.status, 'failed', 'unchanged');
    assert.is((await builds.get(d.db, b2.id))!.status, 'pending', 'unchanged');
  } finally {
    await d.drop();
  }
});

test('eight concurrent workers: every job taken once, never two builds of one workspace at once', async () => {
  const d = await testDatabase();
  try {
    const { s, version } = await world(d, 10);
    const all = [...s.workspaces.values()];
    // Each workspace's five builds queued back to back: without the workspace lease, the next free
    // worker would take a workspace's second build while its first is still running.
    for (const ws of all) {
      for (let round = 0; round < 5; round++) await builds.create(d.db, { workspace_id: ws.id, transition: 'start', reason: 'sync', template_version_id: version, parameters: { round }, sync_id: null });
    }
    const active = new Set<string>();
    const done: string[] = [];
    let overlaps = 0;
    const worker = async (name: string) => {
      for (;;) {
        const job = await jobs.claim(d.db, name, 30);
        if (!job) {
          const { waiting } = await jobs.depth(d.db);
          if (waiting === 0) return;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        if (active.has(job.workspace_id)) overlaps++;
        active.add(job.workspace_id);
        await new Promise((r) => setTimeout(r, 3 + Math.random() * 5));
        active.delete(job.workspace_id);
        assert.ok(await jobs.finish(d.db, job.id, name));
        done.push(job.build_id);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(`w${i}`)));
    assert.is(overlaps, 0, 'no workspace was built by two workers at once');
    assert.is(done.length, 50);
    assert.is(new Set(done).size, 50, 'every job exactly once');
  } finally {
    await d.drop();
  }
});

test('a lease that runs out (a dead runner) lets another runner take the job; the old one is fenced off', async () => {
  const d = await testDatabase();
  try {
    const { s, version } = await world(d, 1);
    const ws = s.workspaces.get('alice/w0')!;
    await builds.create(d.db, { workspace_id: ws.id, transition: 'start', reason: 'sync', template_version_id: version, parameters: {}, sync_id: null });
    const first = (await jobs.claim(d.db, 'dead', 1))!;
    assert.is(first.attempts, 1);
    assert.is(await jobs.claim(d.db, 'other', 30), null, 'leased: nobody else takes it');
    await new Promise((r) => setTimeout(r, 1200));
    const second = (await jobs.claim(d.db, 'other', 30))!;
    assert.is(second.id, first.id);
    assert.is(second.attempts, 2);
    assert.not.ok(await jobs.extend(d.db, first.id, 'dead', 30), 'the dead runner lost its lease');
    assert.not.ok(await jobs.finish(d.db, first.id, 'dead'));
    assert.ok(await jobs.extend(d.db, first.id, 'other', 30));
    assert.ok(await jobs.finish(d.db, first.id, 'other'));
    assert.equal(await jobs.depth(d.db), { waiting: 0, leased: 0 });
  } finally {
    await d.drop();
  }
});

test('Terraform states are versioned; logs read back in order', async () => {
  const d = await testDatabase();
  try {
    const { s, version } = await world(d, 1);
    const ws = s.workspaces.get('alice/w0')!;
    const b = await builds.create(d.db, { workspace_id: ws.id, transition: 'start', reason: 'sync', template_version_id: version, parameters: {}, sync_id: null });
    assert.is(await states.latest(d.db, ws.id), null);
    await states.save(d.db, { workspace_id: ws.id, build_id: b.id, serial: 1, lineage: 'L', state: Buffer.from('{"serial":1}') });
    await states.save(d.db, { workspace_id: ws.id, build_id: b.id, serial: 2, lineage: 'L', state: Buffer.from('{"serial":2}') });
    const latest = (await states.latest(d.db, ws.id))!;
    assert.is(latest.state.toString(), '{"serial":2}');
    assert.is(Number(latest.serial), 2);
    const lines = Array.from({ length: 300 }, (_, i) => ({ stream: (i % 2 ? 'stderr' : 'stdout') as 'stdout' | 'stderr', line: `line ${i}` }));
    await logs.append(d.db, b.id, lines);
    const read = await logs.read(d.db, b.id, '0', 1000);
    assert.equal(read.map((r) => r.line), lines.map((l) => l.line));
    assert.equal((await logs.read(d.db, b.id, read[297]!.id)).map((r) => r.line), ['line 298', 'line 299']);
  } finally {
    await d.drop();
  }
});

test('an agent token works only for its workspace\'s latest build; reports update the timestamps', async () => {
  const d = await testDatabase();
  try {
    const { s, version } = await world(d, 1);
    const ws = s.workspaces.get('alice/w0')!;
    const b1 = await builds.create(d.db, { workspace_id: ws.id, transition: 'start', reason: 'sync', template_version_id: version, parameters: {}, sync_id: null });
    const a = await agents.create(d.db, { workspace_id: ws.id, build_id: b1.id, token_hash: sha('token-1') });
    assert.is((await agents.byTokenHash(d.db, sha('token-1')))!.id, a.id);
    assert.is(await agents.byTokenHash(d.db, sha('token-2')), null);
    const c = await agents.report(d.db, a.id, CONN, { connected: true, version: '0.1.0', os: 'linux', arch: 'x64' });
    assert.ok(c.first_connected_at && c.last_connected_at && c.last_heartbeat_at);
    assert.is(c.disconnected_at, null);
    const r = await agents.report(d.db, a.id, CONN, { lifecycle: 'ready', heartbeat: true });
    assert.is(r.lifecycle, 'ready');
    assert.is(r.first_connected_at!.getTime(), c.first_connected_at!.getTime());
    const off = await agents.report(d.db, a.id, CONN, { disconnected: true });
    assert.ok(off.disconnected_at);
    await builds.create(d.db, { workspace_id: ws.id, transition: 'stop', reason: 'sync', template_version_id: version, parameters: {}, sync_id: null });
    assert.is(await agents.byTokenHash(d.db, sha('token-1')), null, 'an old build\'s token grants nothing');
  } finally {
    await d.drop();
  }
});

test('API keys: authenticate by hash while live; not once revoked, expired, or the user suspended', async () => {
  const d = await testDatabase();
  try {
    const { user } = await world(d, 0);
    const soon = new Date(Date.now() + 3600_000);
    const k = await apiKeys.create(d.db, { user_id: user.id, kind: 'token', name: 'laptop', secret_hash: sha('s1'), expires_at: soon });
    await apiKeys.create(d.db, { user_id: user.id, kind: 'token', name: 'old', secret_hash: sha('s2'), expires_at: new Date(Date.now() - 1000) });
    const auth = (await apiKeys.authenticate(d.db, sha('s1')))!;
    assert.is(auth.username, 'alice');
    assert.is(auth.id, k.id);
    assert.is(await apiKeys.authenticate(d.db, sha('s2')), null, 'expired');
    assert.is(await apiKeys.authenticate(d.db, sha('nope')), null);
    assert.ok((await apiKeys.list(d.db, user.id, 'token')).find((x) => x.id === k.id)!.last_used_at, 'marked used');
    await users.upsert(d.db, [{ username: 'alice', email: 'a@e.com', full_name: null, roles: ['member'], login_type: 'none', status: 'suspended', password_hash: null }]);
    assert.is(await apiKeys.authenticate(d.db, sha('s1')), null, 'a suspended user\'s keys stop working at once');
    await users.upsert(d.db, [{ username: 'alice', email: 'a@e.com', full_name: null, roles: ['member'], login_type: 'none', status: 'active', password_hash: null }]);
    assert.ok(await apiKeys.revoke(d.db, user.id, k.id));
    assert.not.ok(await apiKeys.revoke(d.db, user.id, k.id), 'revoked once');
    assert.is(await apiKeys.authenticate(d.db, sha('s1')), null);
    const stored = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE secret_hash = $1", [sha('s1')]);
    assert.is(stored.n, 1, 'only the hash is stored');
  } finally {
    await d.drop();
  }
});

test('cleanup', async () => stopOwnServer());
test.run();
