// Schedules and drift for real: the `local` template applied with real terraform and PostgreSQL;
// the schedule's clock is moved by the test (the runner's own clock is the system's), so ttl and
// autostart happen at once instead of at the autostart hour tomorrow.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { localConfigRepo } from '../fixtures/local.ts';
import { loadAppliedState } from '../../src/db/state.ts';
import { scheduleBuilds } from '../../runner/schedule.ts';
import { checkDrift, type DriftOptions } from '../../runner/drift.ts';
import { runBuilds } from '../../runner/workers.ts';
import { driverFor, loadCommit } from '../../src/apply/session.ts';
import type { Deployment } from '../../src/config/types.ts';
import { nextRun, parseCron, type CronSchedule } from '../../src/time/cron.ts';
import { alive } from '../helpers/wait.ts';

let d: TestDb;
let repo: string;
let root: string;
let data: string;
let deployment: Deployment;

const cg = (...args: string[]) => cli([...args, '-C', repo, '--postgres-url', d.url, '--data-dir', data], { timeoutMs: 120_000 });
const dir = () => path.join(root, 'admin', 'dev');
const pidFile = () => `${dir()}.agent.pid`; // beside the folder, so removing the folder does not orphan the agent
const agentRuns = () => existsSync(pidFile()) && alive(Number(readFileSync(pidFile(), 'utf8')));
const edit = (rel: string, fn: (s: string) => string) => writeFileSync(path.join(repo, rel), fn(readFileSync(path.join(repo, rel), 'utf8')));
const latest = async () => (await loadAppliedState(d.db)).workspaces.get('admin/dev')!;
const latestBuild = async () => d.db.one<{ id: string; build_number: number; transition: string; reason: string; status: string; created_at: Date; finished_at: Date | null }>(
  'SELECT b.* FROM workspace_builds b JOIN workspaces w ON w.latest_build_id = b.id WHERE w.name = $1 AND w.deleted_at IS NULL',
  ['dev'],
);
const build = async (ids: string[]) =>
  runBuilds({ parallelism: 1, buildIds: ids, env: { db: d.db, databaseUrl: d.childUrl, driver: driverFor(deployment, data), dataDir: data, deployment, leaseSeconds: 30 } });
const drift = (o: Partial<DriftOptions> = {}) =>
  checkDrift({ db: d.db, driver: driverFor(deployment, data), deployment, runnerId: 'test:drift', leaseSeconds: 30, intervalMs: 0, parallelism: 1, selfHeal: false, ...o });
// The autostart hour is twelve hours from when the test runs: with a fixed 09:00 a run between
// 08:00 and 09:00 saw the real autostart inside the 1 h ttl window the test moves the clock over.
const HOUR = (new Date().getUTCHours() + 12) % 24;
const HH = String(HOUR).padStart(2, '0');
const AUTOSTART = `0 ${HOUR} * * *`;
const autostartAfter = (after: Date) => nextRun((parseCron(AUTOSTART) as { schedule: CronSchedule }).schedule, after)!;

test('set-up: a running workspace with autostart twelve hours from now (UTC) and a 1h ttl', async () => {
  d = await testDatabase();
  ({ repo, root, data } = await localConfigRepo());
  edit('workspaces/admin/dev.yaml', (s) => `${s.replace(/\nschedule:[\s\S]*$/, '\n')}schedule:\n  autostart: "${AUTOSTART}"\n  ttl: 1h\n`);
  commitAll(repo, 'a schedule');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.ok(agentRuns());
  deployment = (await loadCommit(repo, 'HEAD')).desired!.deployment;
});

test('before the ttl runs out nothing happens; at it, one autostop build stops the workspace', async () => {
  const started = (await latestBuild()).finished_at!;
  assert.equal(await scheduleBuilds(d.db, { now: () => new Date(started.getTime() + 3_599_000) }), []);
  const after = () => new Date(started.getTime() + 3_600_000);
  const made = await scheduleBuilds(d.db, { now: after });
  assert.equal(made.map((b) => [b.workspace, b.transition, b.reason]), [['admin/dev', 'stop', 'autostop']]);
  assert.equal(await scheduleBuilds(d.db, { now: after }), [], 'a build in progress: nothing more');
  const results = await build([made[0]!.build_id]);
  assert.equal([...results.values()], ['succeeded']);
  assert.not.ok(agentRuns(), 'the agent stopped');
  assert.ok(existsSync(dir()), 'the folder is kept');
  assert.is((await latest()).scheduled_state, 'stopped');
  assert.equal(await scheduleBuilds(d.db, { now: () => new Date(after().getTime() + 60_000) }), [], 'stopped: no second stop');
});

test('git still says running, and the plan leaves the schedule\'s stop alone', async () => {
  const p = await cg('plan', '--detailed-exitcode');
  assert.is(p.code, 0, p.stdout + p.stderr);
  assert.match(p.stdout, /No changes/);
  const s = await cg('status', '--json');
  const w = JSON.parse(s.stdout).workspaces.find((x: { workspace: string }) => x.workspace === 'admin/dev');
  assert.is(w.scheduled_state, 'stopped');
  assert.is(w.next_autostart, autostartAfter(new Date()).toISOString());
  const text = await cg('status');
  assert.match(text.stdout, new RegExp(`admin/dev\\s+stopped\\*\\s+build #2 stop succeeded {2}autostart \\d{4}-\\d\\d-\\d\\d ${HH}:00Z`));
});

test('at the autostart hour autostart starts it, once', async () => {
  const stopped = (await latestBuild()).created_at;
  const at = () => new Date(autostartAfter(stopped).getTime() + 5000);
  const made = await scheduleBuilds(d.db, { now: at });
  assert.equal(made.map((b) => [b.transition, b.reason]), [['start', 'autostart']]);
  await build([made[0]!.build_id]);
  assert.ok(agentRuns());
  assert.is((await latest()).scheduled_state, 'running');
  // (The clock cannot stay at the autostart hour tomorrow: the start just finished now, so its ttl runs from now.)
  assert.equal(await scheduleBuilds(d.db), [], 'fired once, and the ttl runs from the start');
  const audit = await d.db.any<{ action: string }>("SELECT action FROM audit_log WHERE actor = 'schedule' ORDER BY id");
  assert.equal(audit.map((a) => a.action), ['workspace_autostop', 'workspace_autostart']);
});

test('a commit that changes state: takes over from the schedule, which still runs afterwards', async () => {
  edit('workspaces/admin/dev.yaml', (s) => s.replace('state: running', 'state: stopped'));
  commitAll(repo, 'stop it');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout + r.stderr);
  const b = await latestBuild();
  assert.equal([b.transition, b.reason, b.status], ['stop', 'sync', 'succeeded']);
  assert.is((await latest()).scheduled_state, null);
  assert.not.ok(agentRuns());
  const made = await scheduleBuilds(d.db, { now: () => new Date(autostartAfter(b.created_at).getTime() + 1000) });
  assert.equal(made.map((x) => x.reason), ['autostart'], 'stopped in git, started by the schedule the next morning');
  await build([made[0]!.build_id]);
  assert.ok(agentRuns());
});

test('drift: a clean workspace has none; its folder removed by hand is drift, recorded and shown', async () => {
  assert.equal((await drift()).map((r) => [r.workspace, r.drift, r.error]), [['admin/dev', null, undefined]]);
  assert.equal(await drift({ intervalMs: 3_600_000 }), [], 'checked a moment ago: not due');
  rmSync(dir(), { recursive: true, force: true });
  const [r] = await drift();
  assert.equal(r?.drift, { resources: [], outputs: ['home_present'] });
  assert.ok(r?.newly);
  assert.not.ok((await drift())[0]?.newly, 'reported once');
  const s = JSON.parse((await cg('status', '--json')).stdout);
  assert.equal(s.drifted, ['admin/dev']);
  assert.equal(s.workspaces.find((x: { workspace: string }) => x.workspace === 'admin/dev').drift.changes, { resources: [], outputs: ['home_present'] });
  const audit = await d.db.any<{ action: string }>("SELECT action FROM audit_log WHERE action LIKE 'drift%'");
  assert.equal(audit.map((a) => a.action), ['drift_detected']);
});

test('drift: no check while a build is queued; self-heal starts it again and the drift is gone', async () => {
  const made = await scheduleBuilds(d.db, { now: () => new Date(Date.now() + 2 * 3_600_000) });
  assert.equal(made.map((x) => x.reason), ['autostop']);
  assert.equal(await drift(), [], 'the workspace is being built: not checked');
  await build([made[0]!.build_id]);
  const start = await scheduleBuilds(d.db, { now: () => new Date(autostartAfter(new Date(Date.now() + 1000)).getTime() + 1000) });
  await build([start[0]!.build_id]);
  rmSync(dir(), { recursive: true, force: true });
  const [r] = await drift({ selfHeal: true });
  assert.ok(r?.heal_build, `a repair build is queued: ${JSON.stringify(r)}`);
  const b = await latestBuild();
  assert.equal([b.transition, b.reason], ['start', 'drift']);
  await build([b.id]);
  assert.ok(existsSync(path.join(dir(), '.coder-git-workspace')), 'the folder is back');
  assert.ok(agentRuns());
  assert.equal(JSON.parse((await cg('status', '--json')).stdout).drifted, [], 'the successful build cleared it');
  assert.equal((await drift()).map((x) => x.drift), [null]);
});

test('drift: a self-heal build that did not repair it is not repeated', async () => {
  const [r] = await drift({ selfHeal: true });
  assert.equal(r?.drift, null, 'clean after the repair');
  rmSync(dir(), { recursive: true, force: true });
  const [again] = await drift({ selfHeal: true });
  assert.ok(again?.heal_build, 'a clean check came between: a new drift, healed');
  const heal = await latestBuild();
  await build([heal.id]);
  // Gone again before any check: as if the repair had not repaired it.
  rmSync(dir(), { recursive: true, force: true });
  const [third] = await drift({ selfHeal: true });
  assert.equal([third?.heal_build, third?.heal_failed, third?.drift?.outputs], [undefined, true, ['home_present']]);
  assert.is((await latestBuild()).id, heal.id, 'no new build');
});

test('cleanup', async () => {
  if (agentRuns()) process.kill(-Number(readFileSync(pidFile(), 'utf8')), 'SIGTERM');
  rmSync(root, { recursive: true, force: true });
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
