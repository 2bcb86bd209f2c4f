// plan and apply end to end on the built-in `local` template: real git, real PostgreSQL, real
// terraform, the real CLI. The workspace is a folder with an agent process; each step checks the
// folder, the process and what PostgreSQL recorded.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, cli } from '../helpers/cli.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { localConfigRepo } from '../fixtures/local.ts';
import { loadAppliedState } from '../../src/db/state.ts';
import { alive } from '../helpers/wait.ts';

let d: TestDb;
let repo: string;
let root: string;
let data: string;

const cg = (...args: string[]) => cli([...args, '-C', repo, '--postgres-url', d.url, '--data-dir', data], { timeoutMs: 120_000 });
const ws = (owner: string, name: string) => path.join(root, owner, name);
// (the template keeps the pid file beside the workspace folder)
const agentPid = (dir: string) => Number(readFileSync(`${dir}.agent.pid`, 'utf8'));
const edit = (rel: string, fn: (s: string) => string) => writeFileSync(path.join(repo, rel), fn(readFileSync(path.join(repo, rel), 'utf8')));

test('set-up: a config repo from init, workspaces in a temp folder', async () => {
  d = await testDatabase();
  ({ repo, root, data } = await localConfigRepo());
});

test('on a terminal apply asks first, and anything but "yes" applies nothing; elsewhere it needs --auto-approve', async () => {
  const cmd = [process.execPath, BIN, 'apply', '-C', repo, '--postgres-url', d.url, '--data-dir', data].map((a) => `'${a}'`).join(' ');
  const out = await new Promise<string>((resolve) => {
    const c = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let s = '';
    c.stdout.on('data', (x) => {
      s += x;
      if (s.includes("Only 'yes' is accepted: ")) c.stdin.end('no\r'); // script runs until its input ends
    });
    c.on('close', () => resolve(s));
    setTimeout(() => c.kill(), 60_000).unref();
  });
  assert.match(out, /Apply cancelled\./);
  assert.is((await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM syncs')).n, 0, 'nothing applied');
  const r = await cg('apply');
  assert.is(r.code, 64);
  assert.match(r.stderr, /apply asks for confirmation on a terminal; elsewhere \(CI\) pass --auto-approve/);
});

test('apply creates the workspace: folder, agent process, state and logs in PostgreSQL', async () => {
  const plan = await cg('plan', '--detailed-exitcode');
  assert.is(plan.code, 2, plan.stderr);
  assert.match(plan.stdout, /\+ admin\/dev \(create\)[\s\S]*build: start \(new workspace\)/);
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Apply complete: 1 build\(s\) succeeded/);
  assert.ok(existsSync(ws('admin', 'dev')));
  assert.is(readFileSync(path.join(ws('admin', 'dev'), '.motd'), 'utf8'), 'Welcome to your coder-git workspace\n');
  assert.ok(alive(agentPid(ws('admin', 'dev'))), 'the agent process runs');
  const s = await loadAppliedState(d.db);
  const w = s.workspaces.get('admin/dev')!;
  assert.is(w.build_status, 'succeeded');
  const st = await d.db.one<{ n: number; serial: string }>('SELECT count(*)::int AS n, max(serial)::text AS serial FROM terraform_states WHERE workspace_id = $1', [w.id]);
  assert.ok(st.n >= 1 && Number(st.serial) >= 2, `states saved as Terraform wrote them: ${JSON.stringify(st)}`);
  const logs = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM build_logs WHERE build_id = $1 AND line LIKE '%Apply complete!%'", [w.build_id]);
  assert.is(logs.n, 1);
  assert.is(s.lastApplied!.status, 'applied');
  const agent = await d.db.one<{ n: number; len: number }>('SELECT count(*)::int AS n, max(length(token_hash))::int AS len FROM agents WHERE build_id = $1', [w.build_id]);
  assert.equal(agent, { n: 1, len: 32 }, 'one agent for the start build, its token stored as a SHA-256 hash');
  const agentEnv = readFileSync(`/proc/${agentPid(ws('admin', 'dev'))}/environ`, 'utf8').split('\0').find((e) => e.startsWith('CODER_AGENT_TOKEN='))!;
  const token = agentEnv.slice('CODER_AGENT_TOKEN='.length);
  assert.ok(token.length >= 40, 'the agent process got its token');
  const leaks = await d.db.one<{ n: number }>("SELECT (SELECT count(*) FROM build_logs WHERE position($1 in line) > 0) + (SELECT count(*) FROM terraform_states WHERE position(convert_to($1, 'UTF8') in state) > 0) AS n", [token]);
  assert.is(Number(leaks.n), 0, 'the token is in no log and no saved state');
  const again = await cg('plan', '--detailed-exitcode');
  assert.is(again.code, 0);
  assert.match(again.stdout, /No changes/);
});

test('a parameter change updates the workspace: new motd, a fresh agent', async () => {
  const before = agentPid(ws('admin', 'dev'));
  edit('workspaces/admin/dev.yaml', (s) => s.replace('parameters: {}', 'parameters: { motd: "Hello again" }'));
  commitAll(repo, 'new motd');
  const plan = await cg('plan');
  assert.match(plan.stdout, /~ admin\/dev \(update\)\n\s+parameters\.motd: "Welcome to your coder-git workspace" -> "Hello again"\n\s+build: start \(parameters changed\)/);
  assert.match(plan.stdout, /terraform: 1 to add, 0 to change, 1 to destroy\n\s+-\/\+ terraform_data\.agent\[0\] \(replace\)\n/, 'terraform plan: only the agent is replaced');
  const quick = await cg('plan', '--no-terraform');
  assert.not.match(quick.stdout, /terraform:/);
  const md = await cg('plan', '--format', 'markdown');
  assert.match(md.stdout, /\| `admin\/dev` \| update \| start \| 1 \| 0 \| 1 \| parameters changed \|/);
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout);
  assert.is(readFileSync(path.join(ws('admin', 'dev'), '.motd'), 'utf8'), 'Hello again\n');
  const after = agentPid(ws('admin', 'dev'));
  assert.is.not(after, before);
  assert.ok(alive(after));
  assert.not.ok(alive(before), 'the old agent was stopped');
});

test('state: stopped removes the compute and keeps the folder', async () => {
  const pid = agentPid(ws('admin', 'dev'));
  edit('workspaces/admin/dev.yaml', (s) => s.replace('state: running', 'state: stopped'));
  commitAll(repo, 'stop');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout);
  assert.not.ok(alive(pid), 'agent stopped');
  assert.ok(existsSync(path.join(ws('admin', 'dev'), '.motd')), 'folder kept');
  assert.not.ok(existsSync(`${ws('admin', 'dev')}.agent.pid`));
});

test('a template that fails: the build fails with its log, state is kept, the next apply retries', async () => {
  mkdirSync(path.join(repo, 'templates', 'flaky'), { recursive: true });
  writeFileSync(path.join(repo, 'templates/flaky/template.yaml'), 'apiVersion: coder-git/v1\nkind: Template\n');
  const flag = path.join(root, 'flaky-ok');
  writeFileSync(
    path.join(repo, 'templates/flaky/main.tf'),
    `resource "terraform_data" "first" {\n  provisioner "local-exec" {\n    command = "echo first >> ${root}/flaky-count"\n  }\n}\n\nresource "terraform_data" "second" {\n  depends_on = [terraform_data.first]\n  provisioner "local-exec" {\n    command = "test -f ${flag} || { echo flaky-failure-marker >&2; exit 3; }"\n  }\n}\n`,
  );
  writeFileSync(path.join(repo, 'workspaces/admin/flaky.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: flaky\n');
  commitAll(repo, 'a flaky workspace');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 1);
  assert.match(r.stdout, /flaky-failure-marker/);
  assert.match(r.stdout, /1 of 1 build\(s\) not succeeded/);
  let w = (await loadAppliedState(d.db)).workspaces.get('admin/flaky')!;
  assert.is(w.build_status, 'failed');
  const err = await d.db.one<{ error: string }>('SELECT error FROM workspace_builds WHERE id = $1', [w.build_id]);
  assert.is(err.error, 'terraform apply exited with 1');
  const logged = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM build_logs WHERE build_id = $1 AND line LIKE '%flaky-failure-marker%'", [w.build_id]);
  assert.ok(logged.n >= 1, 'the failure is in the build log');
  const state = await d.db.one<{ state: Buffer }>('SELECT state FROM terraform_states WHERE workspace_id = $1 ORDER BY id DESC LIMIT 1', [w.id]);
  assert.match(state.state.toString(), /terraform_data[\s\S]*"first"/, 'what was created before the failure is in the state');

  writeFileSync(flag, '');
  const plan = await cg('plan');
  assert.match(plan.stdout, /admin\/flaky[\s\S]*build: start \(the last build failed\)/);
  const again = await cg('apply', '--auto-approve');
  assert.is(again.code, 0, again.stdout);
  w = (await loadAppliedState(d.db)).workspaces.get('admin/flaky')!;
  assert.is(w.build_status, 'succeeded');
  assert.is(readFileSync(path.join(root, 'flaky-count'), 'utf8'), 'first\n', 'the resource created before the failure was not created twice');
});

test('a saved plan is refused once the applied state or its ref moved', async () => {
  const file = path.join(tempDir(), 'plan.json');
  edit('workspaces/admin/dev.yaml', (s) => s.replace('state: stopped', 'state: running'));
  commitAll(repo, 'start again');
  const p = await cg('plan', '--out', file);
  assert.is(p.code, 0);
  edit('workspaces/admin/dev.yaml', (s) => s.replace('"Hello again"', '"Hello a third time"'));
  commitAll(repo, 'moved on');
  let r = await cg('apply', file);
  assert.is(r.code, 1);
  assert.match(r.stderr, /the saved plan is stale: HEAD moved from [0-9a-f]{12} to [0-9a-f]{12}/);
  const fresh = path.join(tempDir(), 'plan2.json');
  await cg('plan', '--out', fresh);
  await cg('apply', '--auto-approve'); // someone else applies first
  r = await cg('apply', fresh);
  assert.is(r.code, 1);
  assert.match(r.stderr, /the saved plan is stale: the applied state changed since it was made/);
});

test('two applies at once never interleave: each build happens once', async () => {
  edit('workspaces/admin/dev.yaml', (s) => s.replace(/motd: "[^"]*"/, 'motd: "Concurrent"'));
  commitAll(repo, 'concurrent');
  const before = (await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM workspace_builds')).n;
  const [a, b] = await Promise.all([cg('apply', '--auto-approve'), cg('apply', '--auto-approve')]);
  const outcomes = [a, b].map((r) => (r.code === 0 ? (/No changes|Apply complete/.test(r.stdout) ? 'ok' : r.stdout) : /stale/.test(r.stderr) ? 'stale' : r.stderr));
  assert.ok(outcomes.every((o) => o === 'ok' || o === 'stale'), JSON.stringify(outcomes));
  assert.ok(outcomes.includes('ok'));
  assert.is((await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM workspace_builds')).n, before + 1, 'one build, not two');
  assert.is(readFileSync(path.join(ws('admin', 'dev'), '.motd'), 'utf8'), 'Concurrent\n');
});

test('an invalid commit applies nothing; its sync is recorded invalid with the errors, as the runner does', async () => {
  const before = await loadAppliedState(d.db);
  const builds = (await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM workspace_builds')).n;
  edit('workspaces/admin/dev.yaml', (s) => s.replace('template: local', 'template: lokal'));
  const typo = commitAll(repo, 'typo');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 1);
  assert.match(r.stdout, /workspaces\/admin\/dev\.yaml:\d+:\d+: template: "lokal" does not exist \(did you mean "local"\?\)/);
  const rows = await d.db.any<{ status: string; errors: { file: string; message: string }[] }>('SELECT status, errors FROM syncs WHERE commit_sha = $1', [typo]);
  assert.is(rows.length, 1, 'one sync row for the commit');
  assert.is(rows[0]!.status, 'invalid');
  assert.ok(rows[0]!.errors.some((e) => e.file === 'workspaces/admin/dev.yaml' && /lokal/.test(e.message)), JSON.stringify(rows[0]!.errors));
  assert.equal(await loadAppliedState(d.db), before, 'nothing applied');
  assert.is((await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM workspace_builds')).n, builds, 'no build');
  const again = await cg('apply', '--auto-approve');
  assert.is(again.code, 1, 'still invalid');
  assert.is((await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM syncs WHERE commit_sha = $1', [typo])).n, 1, 'not recorded twice');
  edit('workspaces/admin/dev.yaml', (s) => s.replace('template: lokal', 'template: local'));
  commitAll(repo, 'fixed');
});

test('removing files destroys the workspaces; more than --max-destroy needs --allow-destroy', async () => {
  for (let i = 0; i < 2; i++) writeFileSync(path.join(repo, `workspaces/admin/extra${i}.yaml`), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: local\nstate: stopped\n');
  commitAll(repo, 'extras');
  const extras = await cg('apply', '--auto-approve');
  assert.is(extras.code, 0, extras.stdout + extras.stderr);
  for (const f of ['dev', 'flaky', 'extra0', 'extra1']) rmSync(path.join(repo, `workspaces/admin/${f}.yaml`));
  commitAll(repo, 'remove all');
  let r = await cg('apply', '--auto-approve', '--max-destroy', '3');
  assert.is(r.code, 1);
  assert.match(r.stderr, /the plan destroys 4 workspaces, more than the limit of 3; nothing was applied/);
  assert.ok(existsSync(ws('admin', 'dev')), 'nothing was destroyed');
  const plan = await cg('plan');
  assert.match(plan.stdout, /- admin\/dev \(delete\)\n\s+build: delete \(removed from git\)\n\s+terraform: 0 to add, 0 to change, 2 to destroy\n\s+- terraform_data\.agent\[0\]\n\s+- terraform_data\.home/, plan.stdout);
  r = await cg('apply', '--auto-approve', '--max-destroy', '3', '--allow-destroy');
  assert.is(r.code, 0, r.stdout);
  for (const f of ['dev', 'extra0', 'extra1']) assert.not.ok(existsSync(ws('admin', f)), `${f} destroyed`);
  const s = await loadAppliedState(d.db);
  assert.is(s.workspaces.size, 0);
  assert.match((await cg('plan')).stdout, /No changes/);
});

test('cleanup', async () => {
  await d?.drop();
  await stopOwnServer();
  cleanup();
});
test.run();
