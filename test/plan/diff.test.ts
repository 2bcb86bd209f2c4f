// The plan as a pure function: no git, no database, no terraform.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateSource } from '../../src/config/validate.ts';
import type { DesiredState } from '../../src/config/types.ts';
import { diff, hasChanges, templateVersions, userDefaults } from '../../src/plan/diff.ts';
import { effectiveParameters } from '../../src/plan/hash.ts';
import { effectiveRoles, workspaceCost } from '../../src/config/resolve.ts';
import type { AppliedState } from '../../src/db/state.ts';
import { aliceDev, baseFiles, bob, deployment, smallMain, smallTemplate } from '../fixtures/base.ts';
import type { Files } from '../helpers/git.ts';

function desired(overrides: Files = {}): DesiredState {
  const files = Object.entries({ ...baseFiles(), ...overrides })
    .filter(([, c]) => c !== null)
    .map(([path, c]) => ({ path, size: Buffer.byteLength(c as string), content: Buffer.from(c as string), kind: 'file' as const }));
  const r = validateSource({ dir: '/x', ref: undefined, commit: undefined, files });
  if (!r.state) throw new Error(JSON.stringify(r.diagnostics));
  return r.state;
}

/** The applied state after a successful apply of d (every last build succeeded). */
function appliedOf(d: DesiredState, buildStatus = 'succeeded'): AppliedState {
  const hashes = templateVersions(d);
  const applied: AppliedState = { users: new Map(), groups: new Map(), templates: new Map(), workspaces: new Map(), lastApplied: null, deployment: d.deployment };
  for (const u of d.users.values()) applied.users.set(u.name, { id: `u-${u.name}`, username: u.name, email: u.email, full_name: u.full_name ?? null, roles: effectiveRoles(u, d.groups), login_type: u.login, status: u.status, password_hash: u.password_hash ?? null, groups: u.groups, quota: u.quota ?? {}, defaults: userDefaults(u) });
  for (const g of d.groups.values()) applied.groups.set(g.name, { name: g.name, display_name: g.display_name ?? null, members: [...g.members].sort(), roles: g.roles, oidc_group: g.oidc_group ?? null, quota: g.quota ?? {} });
  for (const t of d.templates.values()) applied.templates.set(t.name, { id: `t-${t.name}`, name: t.name, display_name: t.display_name ?? null, description: t.description ?? null, icon: t.icon ?? null, active_version_id: 'v', active_hash: hashes.get(t.name)! });
  for (const [key, w] of d.workspaces) {
    const t = d.templates.get(w.template)!;
    applied.workspaces.set(key, { id: `w-${key}`, owner: w.owner, name: w.name, template: w.template, template_version_id: 'v', content_hash: hashes.get(w.template)!, parameters: effectiveParameters(t, w), desired_state: w.state, schedule: w.schedule, cost: workspaceCost(t, effectiveParameters(t, w)), build_id: 'b', build_number: 1, build_transition: w.state === 'running' ? 'start' : 'stop', build_status: buildStatus, build_hash: hashes.get(w.template)!, build_parameters: effectiveParameters(t, w) });
  }
  return applied;
}

const empty: AppliedState = { users: new Map(), groups: new Map(), templates: new Map(), workspaces: new Map(), lastApplied: null, deployment: null };

test('from nothing: everything is created; running workspaces start, stopped ones stop', () => {
  const d = desired({ 'workspaces/bob/box.yaml': 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: small\nparameters: { label: box }\nstate: stopped\n' });
  const p = diff(d, empty);
  assert.equal(p.summary, { users: { create: 2, update: 0, delete: 0 }, groups: { create: 0, update: 0, delete: 0 }, templates: { create: 1, update: 0, delete: 0 }, workspaces: { create: 2, update: 0, delete: 0 }, builds: { start: 1, stop: 1, delete: 0 } });
  const dev = p.workspaces.find((w) => w.key === 'alice/dev')!;
  assert.equal(dev.build, { transition: 'start', reason: 'sync', why: ['new workspace'] });
  assert.ok(dev.fields.some((f) => f.field === 'parameters.image' && f.after === 'debian-12'), 'defaults are part of the parameters');
  assert.is(p.workspaces.find((w) => w.key === 'bob/box')!.build!.transition, 'stop');
  assert.equal(p.errors, []);
  assert.ok(hasChanges(p));
});

test('no change: all no-ops, no builds', () => {
  const d = desired();
  const p = diff(d, appliedOf(d));
  assert.ok([...p.users, ...p.templates, ...p.workspaces].every((x) => x.action === 'noop'));
  assert.ok(p.workspaces.every((w) => w.build === null));
  assert.not.ok(hasChanges(p));
});

test('a parameter change updates and rebuilds that workspace only', () => {
  const before = desired();
  const p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 6') }), appliedOf(before));
  const dev = p.workspaces.find((w) => w.key === 'alice/dev')!;
  assert.is(dev.action, 'update');
  assert.equal(dev.fields, [{ field: 'parameters.cpu', before: 4, after: 6 }]);
  assert.equal(dev.build, { transition: 'start', reason: 'sync', why: ['parameters changed'] });
  assert.is(p.workspaces.find((w) => w.key === 'bob/box')!.build, null);
  assert.equal(p.summary.builds, { start: 1, stop: 0, delete: 0 });
});

test('running → stopped builds a stop', () => {
  const before = desired();
  const p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('state: running', 'state: stopped') }), appliedOf(before));
  const dev = p.workspaces.find((w) => w.key === 'alice/dev')!;
  assert.equal(dev.fields, [{ field: 'state', before: 'running', after: 'stopped' }]);
  assert.equal(dev.build, { transition: 'stop', reason: 'sync', why: ['stopped'] });
});

test('a change to the module is a new template version: it lists and rebuilds every workspace on it', () => {
  const before = desired();
  const p = diff(desired({ 'templates/small/main.tf': `${smallMain}\n# tweak\n` }), appliedOf(before));
  const t = p.templates[0]!;
  assert.is(t.action, 'update');
  assert.equal(t.fields.map((f) => f.field), ['version']);
  assert.equal(t.workspaces, ['alice/dev', 'bob/box']);
  for (const w of p.workspaces) {
    assert.is(w.action, 'update');
    assert.equal(w.build!.why, ['template "small" has a new version']);
    assert.is(w.fields[0]!.field, 'template_version');
  }
});

test('a template description or a schedule changes metadata only: nothing rebuilds', () => {
  const before = desired();
  let p = diff(desired({ 'templates/small/template.yaml': smallTemplate.replace('display_name: Small', 'display_name: Small one\ndescription: tiny') }), appliedOf(before));
  assert.equal(p.templates[0]!.fields.map((f) => f.field), ['display_name', 'description']);
  assert.equal(p.templates[0]!.workspaces, []);
  assert.ok(p.workspaces.every((w) => w.build === null && w.action === 'noop'));
  p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('ttl: 8h', 'ttl: 4h') }), appliedOf(before));
  const dev = p.workspaces.find((w) => w.key === 'alice/dev')!;
  assert.is(dev.action, 'update');
  assert.equal(dev.fields.map((f) => f.field), ['schedule']);
  assert.is(dev.build, null);
});

test('a changed default rebuilds the workspaces that rely on it', () => {
  const before = desired();
  const p = diff(desired({ 'templates/small/template.yaml': smallTemplate.replace('default: 2', 'default: 3') }), appliedOf(before));
  assert.is(p.workspaces.find((w) => w.key === 'alice/dev')!.build, null, 'alice sets cpu herself');
  assert.equal(p.workspaces.find((w) => w.key === 'bob/box')!.fields, [{ field: 'parameters.cpu', before: 2, after: 3 }]);
});

test('changing an immutable parameter is an error naming the file', () => {
  const before = desired();
  const p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('  label: dev', '  label: dev\n  image: ubuntu-22.04') }), appliedOf(before));
  assert.equal(p.errors, [{ key: 'alice/dev', file: 'workspaces/alice/dev.yaml', message: 'parameters.image: cannot change from "debian-12" to "ubuntu-22.04": template "small" declares it mutable: false (fixed when the workspace was created); delete the workspace and create a new one to change it' }]);
});

test('removals: a workspace is destroyed, a user deleted', () => {
  const before = desired({ 'users/carol.yaml': bob.replace('bob@', 'carol@') });
  const p = diff(desired({ 'workspaces/bob/box.yaml': null }), appliedOf(before));
  assert.equal(p.workspaces.find((w) => w.key === 'bob/box'), { key: 'bob/box', action: 'delete', template: 'small', fields: [], build: { transition: 'delete', reason: 'sync', why: ['removed from git'] } });
  assert.equal(p.users.find((u) => u.key === 'carol'), { key: 'carol', action: 'delete', fields: [] });
  assert.equal(p.summary.builds.delete, 1);
});

test('a destroy in progress is not repeated; a failed destroy is retried', () => {
  const before = desired();
  const applied = appliedOf(before);
  const box = applied.workspaces.get('bob/box')!;
  applied.workspaces.set('bob/box', { ...box, build_transition: 'delete', build_status: 'running', build_number: 2 });
  let p = diff(desired({ 'workspaces/bob/box.yaml': null }), applied);
  assert.equal(p.workspaces.find((w) => w.key === 'bob/box'), { key: 'bob/box', action: 'delete', template: 'small', fields: [], build: null, inProgress: 'build #2 (delete) is running' });
  applied.workspaces.set('bob/box', { ...box, build_transition: 'delete', build_status: 'failed', build_number: 2 });
  p = diff(desired({ 'workspaces/bob/box.yaml': null }), applied);
  assert.equal(p.workspaces.find((w) => w.key === 'bob/box')!.build, { transition: 'delete', reason: 'retry', why: ['the last destroy failed'] });
});

test('a failed last build is retried; a running one is left alone and said so', () => {
  const d = desired();
  let p = diff(d, appliedOf(d, 'failed'));
  assert.equal(p.workspaces[0]!.build, { transition: 'start', reason: 'retry', why: ['the last build failed'] });
  p = diff(d, appliedOf(d, 'running'));
  assert.is(p.workspaces[0]!.build, null);
  assert.is(p.workspaces[0]!.inProgress, 'build #1 is running');
});

test('with a retry delay (the runner), a failed build waits before it is tried again', () => {
  const d = desired();
  const applied = appliedOf(d, 'failed');
  const now = new Date('2026-01-01T12:00:00Z');
  for (const w of applied.workspaces.values()) w.build_finished_at = new Date(now.getTime() - 30_000);
  const waiting = diff(d, applied, undefined, { retryAfterMs: 60_000, now });
  assert.ok(waiting.workspaces.every((w) => w.build === null), 'failed 30s ago: not yet');
  assert.ok(waiting.workspaces.every((w) => w.inProgress === 'the last build failed; retrying in 30s'), 'but there is still work to do');
  assert.ok(diff(d, applied, undefined, { retryAfterMs: 20_000, now }).workspaces.every((w) => w.build?.reason === 'retry'), 'failed 30s ago, delay 20s: now');
  assert.ok(diff(d, applied).workspaces.every((w) => w.build?.reason === 'retry'), 'no delay (apply): at once');
});

test('a change recorded while a build was in progress gets its build once that build is done', () => {
  const before = desired();
  const applied = appliedOf(before);
  const after = desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 6') });
  // The metadata already says cpu 6 (written while an older build ran), but the last build used 4.
  const dev = applied.workspaces.get('alice/dev')!;
  applied.workspaces.set('alice/dev', { ...dev, parameters: { ...dev.parameters, cpu: 6 } });
  const p = diff(after, applied);
  const w = p.workspaces.find((x) => x.key === 'alice/dev')!;
  assert.is(w.action, 'noop', 'nothing left to record');
  assert.equal(w.build, { transition: 'start', reason: 'sync', why: ['parameters changed'] });
});

test('the schedule\'s state stands until a commit changes state:; then git takes over', () => {
  const d = desired();
  // The schedule stopped alice/dev (git says running): no build puts it back.
  const a = appliedOf(d);
  const w = a.workspaces.get('alice/dev')!;
  Object.assign(w, { scheduled_state: 'stopped', build_transition: 'stop' });
  let p = diff(d, a);
  assert.is(p.workspaces.find((x) => x.key === 'alice/dev')!.build, null);
  assert.not.ok(hasChanges(p));
  // A parameter change rebuilds it in the schedule's state.
  p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 6') }), a);
  assert.equal(p.workspaces.find((x) => x.key === 'alice/dev')!.build, { transition: 'stop', reason: 'sync', why: ['parameters changed'] });
  // A failed schedule build is retried as the schedule's transition.
  p = diff(d, { ...a, workspaces: new Map([...a.workspaces].map(([k, v]) => [k, k === 'alice/dev' ? { ...v, build_status: 'failed' } : v])) });
  assert.equal(p.workspaces.find((x) => x.key === 'alice/dev')!.build?.transition, 'stop');
  // A commit that says stopped agrees: nothing to build. One that says running after saying stopped: started.
  p = diff(desired({ 'workspaces/alice/dev.yaml': aliceDev.replace('state: running', 'state: stopped') }), a);
  assert.is(p.workspaces.find((x) => x.key === 'alice/dev')!.build, null);
  Object.assign(w, { desired_state: 'stopped' });
  p = diff(d, a);
  assert.equal(p.workspaces.find((x) => x.key === 'alice/dev')!.build, { transition: 'start', reason: 'sync', why: ['started'] });
});

test('coder-git.yaml is applied too: created once, then updated field by field', () => {
  const d = desired();
  assert.equal(diff(d, empty).deployment.action, 'create');
  const changed = desired({ 'coder-git.yaml': deployment.replace('https://coder.example.com', 'https://coder.elsewhere.example.com') });
  const p = diff(changed, appliedOf(d));
  assert.is(p.deployment.action, 'update');
  assert.equal(p.deployment.fields.map((f) => f.field), ['access_url']);
  assert.ok(hasChanges(p), 'a settings-only commit is a change to apply');
  // As read back from jsonb: same values, other key order.
  const reverse = (v: unknown): unknown => (Array.isArray(v) ? v.map(reverse) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)])) : v);
  const back = { ...appliedOf(d), deployment: reverse(d.deployment) as typeof d.deployment };
  assert.not.equal(JSON.stringify(back.deployment), JSON.stringify(d.deployment));
  assert.is(diff(d, back).deployment.action, 'noop', 'key order is not a change');
});

test('password hashes are never shown', () => {
  const d = desired();
  const hash = '$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';
  const p = diff(desired({ 'users/alice.yaml': `apiVersion: coder-git/v1\nkind: User\nemail: alice@example.com\nfull_name: Alice Liddell\nroles: [owner]\nlogin: password\nstatus: active\npassword_hash: ${hash}\n` }), appliedOf(d));
  assert.equal(p.users.find((u) => u.key === 'alice')!.fields, [{ field: 'password_hash', before: null, after: '(sensitive)', sensitive: true }]);
  assert.not.ok(JSON.stringify(p).includes('aGFzaG'));
});

test('a workspace cannot move to another template', () => {
  const before = desired();
  const other = { 'templates/other/template.yaml': smallTemplate, 'templates/other/main.tf': smallMain };
  const p = diff(desired({ ...other, 'workspaces/alice/dev.yaml': aliceDev.replace('template: small', 'template: other') }), appliedOf(before));
  assert.match(p.errors[0]!.message, /cannot move from template "small" to "other"/);
});

test('groups: roles given through a group show on the member; removing the group takes them back; nothing builds', () => {
  const devs = 'apiVersion: coder-git/v1\nkind: Group\nmembers: [bob]\nroles: [template-admin]\nquota: { running: 2 }\n';
  const before = desired();
  const withGroup = desired({ 'groups/devs.yaml': devs });
  let p = diff(withGroup, appliedOf(before));
  assert.equal(p.groups, [{ key: 'devs', action: 'create', fields: [{ field: 'members', before: null, after: ['bob'] }, { field: 'roles', before: null, after: ['template-admin'] }, { field: 'quota', before: null, after: { running: 2 } }] }]);
  assert.equal(p.users.find((u) => u.key === 'bob')!.fields, [{ field: 'roles', before: ['member'], after: ['template-admin', 'member'] }, { field: 'groups', before: [], after: ['devs'] }]);
  assert.equal(p.summary.groups, { create: 1, update: 0, delete: 0 });
  assert.ok(p.workspaces.every((w) => !w.build), 'roles never build');
  assert.is(diff(withGroup, appliedOf(withGroup)).groups[0]!.action, 'noop');
  p = diff(before, appliedOf(withGroup));
  assert.equal(p.groups.map((g) => [g.key, g.action]), [['devs', 'delete']]);
  assert.equal(p.users.find((u) => u.key === 'bob')!.fields.map((f) => [f.field, f.after]), [['roles', ['member']], ['groups', []]]);
});

test("a user's defaults: schedule defaults land on their workspaces; shell and dotfiles change the user only", () => {
  const before = desired();
  const bobWith = `${bob}schedule:\n  autostart: "0 9 * * 1-5"\n  ttl: 4h\nshell: /bin/zsh\ndotfiles:\n  repository: https://git.example.com/bob/dotfiles\n`;
  const p = diff(desired({ 'users/bob.yaml': bobWith }), appliedOf(before));
  assert.equal(p.users.find((u) => u.key === 'bob')!.fields.map((f) => f.field), ['schedule', 'shell', 'dotfiles']);
  const box = p.workspaces.find((w) => w.key === 'bob/box')!;
  assert.equal(box.fields, [{ field: 'schedule', before: {}, after: { autostart: '0 9 * * 1-5', ttl: '4h' } }]);
  assert.is(box.build, null, 'a schedule alone does not build');
  // alice's workspace keeps its own schedule: her (empty) defaults change nothing.
  assert.is(p.workspaces.find((w) => w.key === 'alice/dev')!.action, 'noop');
});

test('cost: a workspace records what it costs while it runs', () => {
  const before = desired();
  const costly = desired({ 'templates/small/template.yaml': `${smallTemplate}cost:\n  base: 1\n  parameters:\n    cpu: 0.5\n` });
  const dev = diff(costly, appliedOf(before)).workspaces.find((w) => w.key === 'alice/dev')!;
  assert.equal(dev.fields.find((f) => f.field === 'cost'), { field: 'cost', before: null, after: 3 });
});

test.run();
