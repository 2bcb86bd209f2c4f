// The CI pipelines `coder-git init` copies into a config repo, run here as the hosts would run them
// (test/helpers/ci.ts): the workflow's own YAML decides which jobs and steps run, its `run:` lines
// run in bash with the documented environment, against a real config repo (local template), a real
// PostgreSQL, a coder-git server the workspace agent connects to, and a stand-in of the GitHub and
// GitLab comment APIs. coder-git itself is this checkout packed with `npm pack` and served over HTTP,
// so the jobs run it the way a config repo pins an unreleased build: CODER_GIT set to
// `npx --yes --package=<tarball URL> coder-git` (the default is the registry's coder-git@<version>).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { packedTarball } from '../helpers/pack.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, git, tempDir, writeFiles } from '../helpers/git.ts';
import { forgeStandin, type ForgeStandin } from '../helpers/forge-standin.ts';
import { runGithubJob, runGitlabJob, type JobRun } from '../helpers/ci.ts';
import { freePort, until } from '../helpers/wait.ts';
import { localConfigRepo, type LocalRepo } from '../fixtures/local.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { VERSION } from '../../src/version.ts';

const TOKENS = { github: 'ghs_pipeline', gitlab: 'glpat-pipeline' };
let d: TestDb;
let r: LocalRepo;
let host: ForgeStandin;
let app: FastifyInstance;
let port: number;
let apiToken: string;

const workflowFile = () => path.join(r.repo, '.github/workflows/coder-git.yaml');
const gitlabFile = () => path.join(r.repo, '.gitlab-ci.yml');
const head = () => git(r.repo, 'rev-parse', 'HEAD').trim();
/** The machine's environment without the caller's own coder-git settings. */
const machineEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CODER_GIT_') && k !== 'NO_COLOR' && k !== 'FORCE_COLOR'));
/** A fresh data dir per job, as on a hosted runner: Terraform state must come from PostgreSQL. */
const runnerEnv = (extra: Record<string, string>) => ({ ...machineEnv(), CODER_GIT_DATA_DIR: path.join(tempDir('coder-git-ci-home-'), 'data'), ...extra });
/** CODER_GIT pinned to a tarball URL: this checkout, packed (set up in the first test). */
const thisCoderGit: { CODER_GIT: string } = { CODER_GIT: '' };
let tarballServer: Server;

function github(job: string, event: 'pull_request' | 'push', pr?: number): Promise<JobRun> {
  const sha = head();
  return runGithubJob({
    file: workflowFile(),
    job,
    workspace: r.repo,
    event: event === 'push' ? { name: 'push', ref: 'refs/heads/main', sha, payload: { ref: 'refs/heads/main', after: sha } } : { name: 'pull_request', ref: `refs/pull/${pr}/merge`, sha, payload: { number: pr, pull_request: { number: pr, head: { sha } } } },
    repository: 'acme/config',
    secrets: { CODER_GIT_POSTGRES_URL: d.url, GITHUB_TOKEN: TOKENS.github },
    env: runnerEnv({ GITHUB_API_URL: `${host.url}/github` }),
    override: thisCoderGit,
  });
}

const show = (j: JobRun) => j.steps.map((s) => `--- ${s.name}: ${s.outcome} (${s.code})\n${s.stdout}${s.stderr}`).join('\n');
const outcomes = (j: JobRun) => Object.fromEntries(j.steps.filter((s) => !s.name.includes('/')).map((s) => [s.name, s.outcome]));
const comments = (thread: string) => (host.threads.get(thread) ?? []).filter((c) => c.body.startsWith('<!-- coder-git:plan part '));
const sync = (sha: string) => d.db.oneOrNone<{ status: string }>('SELECT status FROM syncs WHERE commit_sha = $1', [sha]);
const agent = async () =>
  ((await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev`, { headers: { authorization: `Bearer ${apiToken}` } })).json()) as { agent?: { status: string; lifecycle: string } }).agent;

test('set-up: a config repo made by init, a database, a server for the agent, a code host', async () => {
  d = await testDatabase();
  host = await forgeStandin(TOKENS);
  port = await freePort();
  r = await localConfigRepo({ accessUrl: `http://127.0.0.1:${port}` });
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
  const tarball = packedTarball();
  tarballServer = createServer((req, res) => {
    if (req.url !== `/${path.basename(tarball)}`) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(tarball));
  });
  await new Promise<void>((r) => tarballServer.listen(0, '127.0.0.1', r));
  thisCoderGit.CODER_GIT = `npx --yes --package=http://127.0.0.1:${(tarballServer.address() as AddressInfo).port}/${path.basename(tarball)} coder-git`;
});

test('the shipped pipelines: pinned version, apply never overlapping, PR jobs with write access to comments only', () => {
  const wf = parse(readFileSync(workflowFile(), 'utf8'));
  assert.is(wf.env.CODER_GIT, `npx --yes coder-git@${VERSION}`);
  assert.equal(wf.permissions, { contents: 'read' });
  assert.equal(wf.jobs.plan.permissions, { contents: 'read', 'pull-requests': 'write' });
  assert.is(wf.jobs.apply.concurrency['cancel-in-progress'], false);
  assert.match(wf.jobs.apply.concurrency.group, /coder-git-apply/);
  assert.equal(wf.on.push.branches, ['main']);
  const gl = parse(readFileSync(gitlabFile(), 'utf8'));
  assert.is(gl.variables.CODER_GIT, `npx --yes coder-git@${VERSION}`);
  assert.is(gl['coder-git-apply'].resource_group, 'coder-git-apply');
  assert.is(gl['coder-git-apply'].variables.GIT_DEPTH, '0', 'the history, to tell an older commit from a newer one');
  assert.is(wf.jobs.apply.steps[0].with['fetch-depth'], 0);
  // coder-git check on pull requests and reviews, with the history for base...head and read access to the reviews
  assert.equal(wf.jobs.check.permissions, { contents: 'read', 'pull-requests': 'read' });
  assert.is(wf.jobs.check.steps[0].with['fetch-depth'], 0);
  assert.equal(wf.on.pull_request_review.types, ['submitted', 'dismissed']);
  assert.is(wf.jobs.check.steps.at(-1).run, '$CODER_GIT check --base "$BASE" --forge-approvals --format github');
  assert.is(wf.jobs.check.steps.at(-1).env.GITHUB_TOKEN, '${{ secrets.GITHUB_TOKEN }}');
  assert.equal(gl['coder-git-check'].rules, [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
  assert.is(gl['coder-git-check'].variables.GIT_DEPTH, '0');
  assert.match(gl['coder-git-check'].script.at(-1), /check --base "origin\/\$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" --forge-approvals/);
  assert.is(gl['coder-git-validate'].artifacts.reports.codequality, 'gl-code-quality-report.json');
});

test('push to main: the apply job applies the commit; the agent connects to the server', async () => {
  const sha = head();
  const j = await github('apply', 'push');
  assert.ok(j.ran && j.ok, show(j));
  assert.is((await github('plan', 'push')).ran, false, 'no plan job on a push');
  assert.is((await sync(sha))?.status, 'applied');
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  apiToken = (await issueKey(d.db, admin.id, 'token', 'test', 3_600_000)).secret;
  await until('the agent is connected and ready', async () => {
    const a = await agent().catch(() => undefined);
    return a?.status === 'connected' && a.lifecycle === 'ready';
  }, { ms: 60_000 });
});

test('pull request: validated, planned (nothing applied), the plan posted as one comment, edited on the next push', async () => {
  git(r.repo, 'checkout', '-q', '-b', 'change');
  writeFiles(r.repo, {
    'users/bob.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: bob@example.com\nroles: [member]\nlogin: none\n',
    'workspaces/admin/dev.yaml': readFileSync(path.join(r.repo, 'workspaces/admin/dev.yaml'), 'utf8').replace(/parameters:.*\n|$/, 'parameters:\n  motd: Hello from the pull request\n'),
  });
  const first = commitAll(r.repo, 'bob, and a new motd');
  let j = await github('plan', 'pull_request', 5);
  assert.ok(j.ran && j.ok, show(j));
  assert.equal(outcomes(j), { Validate: 'success', Plan: 'success', Comment: 'success' });
  assert.is((await github('apply', 'pull_request', 5)).ran, false, 'no apply on a pull request');
  assert.is(await sync(first), null, 'a plan applies nothing');
  let c = comments('github:acme/config#5');
  assert.is(c.length, 1);
  assert.match(c[0]!.body, /### coder-git plan/);
  assert.match(c[0]!.body, /\| `admin\/dev` \| update \| start \| 1 \| 0 \| 1 \|/, 'the agent is replaced to take the new motd: 1 to add, 0 to change, 1 to destroy');
  assert.match(c[0]!.body, /\+ bob/);
  assert.match(j.summary, /### coder-git plan/, 'the plan is in the job summary too');

  writeFiles(r.repo, { 'users/carol.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: carol@example.com\nroles: [member]\nlogin: none\n' });
  commitAll(r.repo, 'carol too');
  j = await github('plan', 'pull_request', 5);
  assert.ok(j.ok, show(j));
  c = comments('github:acme/config#5');
  assert.is(c.length, 1, 'the same comment, edited');
  assert.match(c[0]!.body, /\+ carol/);
});

test('an invalid commit: annotations on the file and line, the comment lists the errors, the job fails', async () => {
  writeFiles(r.repo, { 'users/carol.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: carol@example.com\nroles: [admn]\nlogin: none\n' });
  commitAll(r.repo, 'a typo');
  const j = await github('plan', 'pull_request', 5);
  assert.ok(j.ran && !j.ok, show(j));
  assert.equal(outcomes(j), { Validate: 'failure', Plan: 'failure', Comment: 'success' });
  assert.match(j.steps.find((s) => s.name === 'Validate')!.stdout, /^::error file=users\/carol\.yaml,line=4,col=\d+,title=coder-git [\w-]+::roles\[0\]: "admn" is not one of/m);
  const c = comments('github:acme/config#5');
  assert.is(c.length, 1);
  assert.match(c[0]!.body, /\*\*Nothing can be applied\*\*: invalid: .*1 error in 1 file/);
  assert.match(c[0]!.body, /users\/carol\.yaml:4:\d+: roles\[0\]: "admn"/);
  writeFiles(r.repo, { 'users/carol.yaml': null });
  commitAll(r.repo, 'no carol after all');
});

test('merge: the push to main applies it, with Terraform state from PostgreSQL on a fresh runner', async () => {
  git(r.repo, 'checkout', '-q', 'main');
  git(r.repo, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #5', 'change');
  const sha = head();
  const j = await github('apply', 'push');
  assert.ok(j.ok, show(j));
  assert.is((await sync(sha))?.status, 'applied');
  assert.ok(await d.db.oneOrNone("SELECT 1 FROM users WHERE username = 'bob' AND deleted_at IS NULL"));
  assert.is(readFileSync(path.join(r.root, 'admin/dev/.motd'), 'utf8'), 'Hello from the pull request\n');
  // One home folder resource, never re-created: the fresh runner found the state in PostgreSQL.
  const builds = await d.db.any<{ transition: string; status: string }>("SELECT b.transition, b.status FROM workspace_builds b JOIN workspaces w ON w.id = b.workspace_id WHERE w.name = 'dev' ORDER BY b.build_number");
  assert.equal(builds.map((b) => `${b.transition}:${b.status}`), ['start:succeeded', 'start:succeeded']);
  await until('the new agent is ready', async () => (await agent().catch(() => undefined))?.lifecycle === 'ready', { ms: 60_000 });
});

test('an older apply job running after a newer one applies nothing', async () => {
  const newest = head();
  git(r.repo, 'checkout', '-q', 'HEAD~1');
  const older = head();
  const count = () => d.db.one<{ syncs: number; builds: number }>('SELECT (SELECT count(*) FROM syncs)::int AS syncs, (SELECT count(*) FROM workspace_builds)::int AS builds');
  const before = await count();
  try {
    const j = await github('apply', 'push');
    assert.ok(j.ok, show(j));
    assert.match(j.steps.at(-1)!.stdout, new RegExp(`Nothing applied: ${older.slice(0, 12)} is older than ${newest.slice(0, 12)}, which is applied already`));
    assert.equal(await count(), before, 'no sync recorded, no build queued');
  } finally {
    git(r.repo, 'checkout', '-q', 'main');
  }
});

test('GitLab: merge request pipeline validates and notes the plan; the default branch applies', async () => {
  const vars = (mr: boolean): Record<string, string> => ({
    CI_PIPELINE_SOURCE: mr ? 'merge_request_event' : 'push',
    CI_DEFAULT_BRANCH: 'main',
    ...(mr ? { CI_MERGE_REQUEST_IID: '9', CI_COMMIT_REF_NAME: 'gl-change', CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'main' } : { CI_COMMIT_BRANCH: 'main' }),
    CI_API_V4_URL: `${host.url}/gitlab/api/v4`,
    CI_PROJECT_ID: '42',
    CI_PROJECT_DIR: r.repo,
    CODER_GIT_POSTGRES_URL: d.url,
    GITLAB_TOKEN: TOKENS.gitlab,
  });
  const job = (name: string, mr: boolean, earlierFailed = false) =>
    runGitlabJob({ file: gitlabFile(), job: name, workspace: r.repo, variables: vars(mr), env: runnerEnv({}), override: thisCoderGit, earlierFailed });
  const tidy = () => ['plan.md', 'gl-code-quality-report.json'].forEach((f) => rmSync(path.join(r.repo, f), { force: true }));

  git(r.repo, 'checkout', '-q', '-b', 'gl-change');
  writeFiles(r.repo, { 'users/dora.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: dora@example.com\nroles: [membr]\nlogin: none\n' });
  commitAll(r.repo, 'dora, with a typo');
  let v = await job('coder-git-validate', true);
  assert.ok(v.ran && !v.ok, show(v));
  const report = JSON.parse(readFileSync(path.join(r.repo, 'gl-code-quality-report.json'), 'utf8'));
  assert.equal(report.map((x: { location: { path: string; lines: { begin: number } }; severity: string }) => [x.location.path, x.location.lines.begin, x.severity]), [['users/dora.yaml', 4, 'major']]);
  let p = await job('coder-git-plan', true, true);
  assert.ok(p.ran && !p.ok, 'the plan job runs after a failed validation (when: always) and fails');
  assert.match(comments('gitlab:42!9')[0]!.body, /users\/dora\.yaml:4:\d+: roles\[0\]: "membr"/);
  tidy();

  writeFiles(r.repo, { 'users/dora.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: dora@example.com\nroles: [member]\nlogin: none\n' });
  commitAll(r.repo, 'dora');
  v = await job('coder-git-validate', true);
  assert.ok(v.ok, show(v));
  p = await job('coder-git-plan', true);
  assert.ok(p.ok, show(p));
  assert.is((await job('coder-git-apply', true)).ran, false, 'no apply in a merge request pipeline');
  // The check job: a user file needs a user-admin or an owner; the merge request's author (from the
  // API, not whoever runs the pipeline) is an owner here, then a stranger that nobody approved.
  git(r.repo, 'remote', 'add', 'origin', r.repo); // (what the job fetches its base from)
  try {
    host.authors.set('gitlab:42!9', 'admin');
    const c = await job('coder-git-check', true);
    assert.ok(c.ran && c.ok, show(c));
    host.authors.set('gitlab:42!9', 'stranger');
    const refused = await job('coder-git-check', true);
    assert.ok(refused.ran && !refused.ok, show(refused));
    assert.match(refused.steps.at(-1)!.stdout, /NO   users\/dora\.yaml: users may be changed by a user-admin or an owner/);
  } finally {
    git(r.repo, 'remote', 'remove', 'origin');
  }
  assert.is(comments('gitlab:42!9').length, 1);
  assert.match(comments('gitlab:42!9')[0]!.body, /\+ dora/);
  tidy();

  git(r.repo, 'checkout', '-q', 'main');
  git(r.repo, 'merge', '-q', '--no-ff', '-m', 'Merge branch gl-change', 'gl-change');
  assert.is((await job('coder-git-plan', false)).ran, false, 'no plan on the default branch');
  const a = await job('coder-git-apply', false);
  assert.ok(a.ok, show(a));
  assert.is((await sync(head()))?.status, 'applied');
  tidy();
});

test('cleanup: the workspace removed by a merged change, so its agent stops', async () => {
  writeFiles(r.repo, { 'workspaces/admin/dev.yaml': null });
  commitAll(r.repo, 'no workspace');
  const pidFile = path.join(r.root, 'admin/dev.agent.pid');
  try {
    const j = await github('apply', 'push');
    assert.ok(j.ok, show(j));
    assert.not.ok(existsSync(pidFile));
  } finally {
    // after a failure above, the agent may still run: stop its process group
    if (existsSync(pidFile)) process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    await app.close();
    await host.close();
    tarballServer.close();
    await d.drop();
    await stopOwnServer();
    cleanup();
  }
});

test.run();
