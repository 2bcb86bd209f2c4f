// The data layer on a real PostgreSQL (a database cloned from the migrated template): bulk writes,
// loading the applied state in a fixed number of queries, soft deletes, template versions, syncs, audit.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testDatabase, stopOwnServer, type TestDb } from '../helpers/db.ts';
import { users, type UserInput } from '../../src/db/repos/users.ts';
import { templates } from '../../src/db/repos/templates.ts';
import { workspaces, type WorkspaceInput } from '../../src/db/repos/workspaces.ts';
import { syncs } from '../../src/db/repos/syncs.ts';
import { audit } from '../../src/db/repos/audit.ts';
import { loadAppliedState } from '../../src/db/state.ts';
import { queryCount } from '../../src/db/connect.ts';
import { schemaStatus, migrations } from '../../src/db/migrate.ts';

const user = (i: number, extra: Partial<UserInput> = {}): UserInput => ({
  username: `u${i}`, email: `u${i}@example.com`, full_name: `User ${i}`, roles: ['member'], login_type: 'password', status: 'active', password_hash: null, ...extra,
});
const ws = (i: number, users: number, tpls: number, extra: Partial<WorkspaceInput> = {}): WorkspaceInput => ({
  owner: `u${i % users}`, name: `w${i}`, template: `t${i % tpls}`, parameters: { cpu: (i % 8) + 1 }, desired_state: 'running', schedule: { ttl: '8h' }, ...extra,
});

async function seed(d: TestDb, nUsers: number, nTemplates: number, nWorkspaces: number): Promise<void> {
  await d.db.tx(async (t) => {
    await users.upsert(t, Array.from({ length: nUsers }, (_, i) => user(i)));
    await templates.upsert(t, Array.from({ length: nTemplates }, (_, i) => ({ name: `t${i}`, display_name: `T${i}`, description: null, icon: null })));
    await templates.upsertVersions(t, Array.from({ length: nTemplates }, (_, i) => ({ template: `t${i}`, content_hash: `h${i}`, commit_sha: 'c1', manifest: { parameters: {} }, files: { 'main.tf': Buffer.from('x').toString('base64') } })));
    await workspaces.upsert(t, Array.from({ length: nWorkspaces }, (_, i) => ws(i, nUsers, nTemplates)));
  });
}

test('a cloned database is migrated to the latest schema', async () => {
  const d = await testDatabase();
  try {
    const s = await schemaStatus(d.db);
    assert.is(s.current, migrations().at(-1)!.version);
    assert.equal(s.pending, []);
  } finally {
    await d.drop();
  }
});

test('bulk writes round-trip; loading the state takes the same few queries for 10 or 3,000 objects', async () => {
  const counts: number[] = [];
  for (const n of [10, 3000]) {
    const d = await testDatabase();
    try {
      await seed(d, n, 5, n * 2);
      const before = queryCount();
      const s = await loadAppliedState(d.db);
      counts.push(queryCount() - before);
      assert.is(s.users.size, n);
      assert.is(s.templates.size, 5);
      assert.is(s.workspaces.size, n * 2);
      const w = s.workspaces.get('u1/w1')!;
      assert.is(w.template, 't1');
      assert.is(w.content_hash, 'h1');
      assert.equal(w.parameters, { cpu: 2 });
      assert.equal(w.schedule, { ttl: '8h' });
      assert.is(w.build_id, null);
      assert.equal(s.users.get('u3')!.roles, ['member']);
      assert.is(s.templates.get('t2')!.active_hash, 'h2');
    } finally {
      await d.drop();
    }
  }
  assert.is(counts[0], counts[1], `queries: ${counts}`);
  assert.ok(counts[0]! <= 8, `a handful of queries, got ${counts[0]}`);
});

test('upserts update in place; deletes are soft and a name can be used again', async () => {
  const d = await testDatabase();
  try {
    await seed(d, 3, 1, 3);
    const before = await loadAppliedState(d.db);
    await users.upsert(d.db, [user(1, { email: 'new@example.com', roles: ['owner', 'member'], status: 'suspended' })]);
    await workspaces.upsert(d.db, [ws(0, 3, 1, { desired_state: 'stopped', parameters: { cpu: 7 } })]);
    let s = await loadAppliedState(d.db);
    assert.is(s.users.get('u1')!.id, before.users.get('u1')!.id, 'same row');
    assert.is(s.users.get('u1')!.email, 'new@example.com');
    assert.equal(s.users.get('u1')!.roles, ['owner', 'member']);
    assert.is(s.users.get('u1')!.status, 'suspended');
    assert.is(s.workspaces.get('u0/w0')!.desired_state, 'stopped');
    assert.equal(s.workspaces.get('u0/w0')!.parameters, { cpu: 7 });

    await workspaces.remove(d.db, [{ owner: 'u2', name: 'w2' }]);
    await users.remove(d.db, ['u2']);
    s = await loadAppliedState(d.db);
    assert.not.ok(s.users.has('u2'));
    assert.not.ok(s.workspaces.has('u2/w2'));
    const kept = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE username = 'u2' AND deleted_at IS NOT NULL");
    assert.is(kept.n, 1, 'the row is kept for history');

    await users.upsert(d.db, [user(2)]);
    s = await loadAppliedState(d.db);
    assert.ok(s.users.has('u2'));
    assert.is.not(s.users.get('u2')!.id, before.users.get('u2')!.id, 'a new user, not the deleted one');
  } finally {
    await d.drop();
  }
});

test('template versions: a known content hash keeps its version; a new one becomes active', async () => {
  const d = await testDatabase();
  try {
    await seed(d, 1, 1, 1);
    const v1 = (await loadAppliedState(d.db)).templates.get('t0')!.active_version_id;
    await templates.upsertVersions(d.db, [{ template: 't0', content_hash: 'h0', commit_sha: 'c2', manifest: {}, files: {} }]);
    assert.is((await loadAppliedState(d.db)).templates.get('t0')!.active_version_id, v1, 'same content, same version');
    await templates.upsertVersions(d.db, [{ template: 't0', content_hash: 'h0b', commit_sha: 'c3', manifest: {}, files: {} }]);
    const t = (await loadAppliedState(d.db)).templates.get('t0')!;
    assert.is.not(t.active_version_id, v1);
    assert.is(t.active_hash, 'h0b');
    const n = await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM template_versions');
    assert.is(n.n, 2);
  } finally {
    await d.drop();
  }
});

test('syncs and the audit log', async () => {
  const d = await testDatabase();
  try {
    const id = await syncs.insert(d.db, { commit_sha: 'abc', ref: 'main', author: 'Alice', message: 'add bob', status: 'applying', errors: [], plan_summary: { add: 1 } });
    assert.is((await syncs.lastApplied(d.db)), null);
    await syncs.setStatus(d.db, id, 'applying');
    await syncs.setStatus(d.db, id, 'applied');
    const last = (await syncs.lastApplied(d.db))!;
    assert.is(last.commit_sha, 'abc');
    assert.ok(last.finished_at instanceof Date);
    let refused = '';
    await syncs.insert(d.db, { commit_sha: 'abc', ref: 'main', author: null, message: null, status: 'planned' as never, errors: [], plan_summary: null }).catch((e: Error) => (refused = e.message));
    assert.match(refused, /syncs_status_check/, "no status that nothing sets ('planned' is gone since migration 6)");
    const bad = await syncs.insert(d.db, { commit_sha: 'def', ref: 'main', author: 'Bob', message: 'oops', status: 'invalid', errors: [{ file: 'users/x.yaml', line: 1 }], plan_summary: null });
    const recent = await syncs.recent(d.db, 5);
    assert.equal(recent.map((r) => r.id), [bad, id]);
    assert.equal(recent[0]!.errors, [{ file: 'users/x.yaml', line: 1 }]);
    assert.is((await loadAppliedState(d.db)).lastApplied!.id, id);

    await audit.append(d.db, { actor: 'git:Alice', action: 'user_created', target: 'bob', sync_id: id });
    await audit.append(d.db, { actor: 'bob', action: 'login', ip: '127.0.0.1', details: { method: 'password' } });
    const log = await audit.recent(d.db, 10);
    assert.equal(log.map((e) => e.action), ['login', 'user_created']);
    assert.is(log[0]!.ip, '127.0.0.1');
    assert.equal(log[0]!.details, { method: 'password' });
    assert.equal((await audit.recent(d.db, 10, log[0]!.id)).map((e) => e.action), ['user_created']);
  } finally {
    await d.drop();
  }
});

test('database constraints refuse what the schema forbids', async () => {
  const d = await testDatabase();
  try {
    await seed(d, 1, 1, 1);
    for (const bad of [
      "INSERT INTO users (username, email, login_type, status) VALUES ('x', 'x@e.com', 'magic', 'active')",
      "INSERT INTO users (username, email, login_type, status) VALUES ('u0', 'other@e.com', 'none', 'active')",
      "INSERT INTO users (username, email, login_type, status) VALUES ('y', 'U0@EXAMPLE.COM', 'none', 'active')",
      "UPDATE workspaces SET desired_state = 'paused'",
    ]) {
      try {
        await d.db.none(bad);
        assert.unreachable(bad);
      } catch (err) {
        assert.match(String((err as Error).message), /violates|invalid/, bad);
      }
    }
  } finally {
    await d.drop();
  }
});

test('cleanup', async () => stopOwnServer());
test.run();
