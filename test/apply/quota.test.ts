// Quotas at run time (README: Quotas): validation checks what git declares; a start on connect and a
// schedule's autostart are checked against what runs now, on the real database, with limits from
// the user's own file, a declared group and a group the OIDC claim put them in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { deploymentFixture, type Fixture } from '../server/setup.ts';
import { requestStart } from '../../src/apply/manual-builds.ts';
import { scheduleBuilds } from '../../runner/schedule.ts';
import { quotaRefusal } from '../../src/apply/quota.ts';
import { CoderGitError } from '../../src/errors.ts';

let d: TestDb;
let f: Fixture;

const bob = (extra: string) => `apiVersion: coder-git/v1\nkind: User\nemail: bob@example.com\nroles: [member]\nlogin: none\n${extra}`;
const spare = 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nstate: stopped\nschedule:\n  autostart: "* * * * *"\n';
const plain = 'apiVersion: coder-git/v1\nkind: Template\ncost:\n  base: 1\n';

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CoderGitError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'started';
};

/** spare's latest build: a stop that finished a while ago (so its every-minute autostart is due). */
async function stopSettled(): Promise<void> {
  await d.db.none("UPDATE workspace_builds b SET transition = 'stop', status = 'succeeded', created_at = now() - interval '10 minutes', finished_at = now() - interval '10 minutes' FROM workspaces w WHERE w.latest_build_id = b.id AND w.name = 'spare'");
}

test('quotaRefusal: the running limit first, then the budget', () => {
  const row = { username: 'bob', running_limit: 1, budget: null, cost: 1, running: ['box'], spent: 1 };
  assert.match(quotaRefusal(row)!, /^bob already runs 1 workspace \(box\) and may run 1 at once \(quota\.running\)/);
  assert.is(quotaRefusal({ ...row, running_limit: 2 }), undefined);
  assert.match(quotaRefusal({ ...row, running_limit: null, budget: 1.5 })!, /cost of 2 \(this one 1, the others 1\); quota\.budget allows 1\.5/);
  assert.is(quotaRefusal({ ...row, running_limit: null, budget: 2 }), undefined);
});

test("set-up: bob's box runs (its start is queued), his spare is stopped", async () => {
  d = await testDatabase();
  f = await deploymentFixture(d, { files: { 'templates/plain/template.yaml': plain, 'users/bob.yaml': bob('quota: { running: 1 }\n'), 'workspaces/bob/spare.yaml': spare } });
});

test("a start on connect beyond the user's running limit is refused, and nothing is queued", async () => {
  await stopSettled();
  const before = await d.db.one("SELECT count(*)::int AS n FROM workspace_builds");
  assert.is(await refusal(requestStart(d.db, 'bob', 'spare', { username: 'bob' })), 'CG_QUOTA: bob/spare was not started: bob already runs 1 workspace (box) and may run 1 at once (quota.running); stop one first');
  assert.equal(await d.db.one("SELECT count(*)::int AS n FROM workspace_builds"), before);
});

test("a schedule's autostart beyond it is skipped and said once in the audit log", async () => {
  assert.equal(await scheduleBuilds(d.db), []);
  assert.equal(await scheduleBuilds(d.db), [], 'asked again on the next tick');
  const rows = await d.db.any("SELECT details FROM audit_log WHERE action = 'workspace_autostart_refused' AND target = 'bob/spare'");
  assert.is(rows.length, 1, JSON.stringify(rows));
  assert.match(rows[0].details.why, /may run 1 at once/);
});

test("limits from a declared group: the largest of them; the user's own file wins", async () => {
  await f.apply({ 'users/bob.yaml': bob(''), 'groups/a.yaml': 'apiVersion: coder-git/v1\nkind: Group\nmembers: [bob]\nquota: { running: 1, budget: 1.5 }\n', 'groups/b.yaml': 'apiVersion: coder-git/v1\nkind: Group\nmembers: [bob]\nquota: { running: 3 }\n' }, 'groups');
  // running: 3 (group b) lets it, budget 1.5 (group a) does not: box 1 + spare 1.
  assert.match(await refusal(requestStart(d.db, 'bob', 'spare', { username: 'bob' })), /^CG_QUOTA: .*cost of 2 \(this one 1, the others 1\); quota\.budget allows 1\.5/);
  await f.apply({ 'users/bob.yaml': bob('quota: { budget: 2 }\n') }, 'own budget');
  assert.is(await refusal(requestStart(d.db, 'bob', 'spare', { username: 'bob' })), 'started');
});

test('a group the OIDC claim gives counts too', async () => {
  await f.apply({ 'users/bob.yaml': bob(''), 'groups/a.yaml': null, 'groups/b.yaml': null, 'groups/idp.yaml': 'apiVersion: coder-git/v1\nkind: Group\noidc_group: contractors\nquota: { running: 0 }\n' }, 'claim');
  await stopSettled();
  assert.is(await refusal(requestStart(d.db, 'bob', 'spare', { username: 'bob' })), 'started', 'no limit before the claim');
  await stopSettled();
  await d.db.none("UPDATE users SET idp_groups = '{contractors}' WHERE username = 'bob'");
  assert.match(await refusal(requestStart(d.db, 'bob', 'spare', { username: 'bob' })), /^CG_QUOTA: .*may run 0 at once/);
});

test('cleanup', async () => {
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
