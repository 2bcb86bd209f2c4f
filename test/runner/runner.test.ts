// The runner as a real process (or two) on a real repository and database: commits applied as they
// land, invalid ones recorded and skipped, the newest of quick commits winning, one leader among
// several runners (and a takeover when it dies), remote repos fetched on an interval, clean SIGTERM.

import { test } from 'uvu';
import { promtoolProblems } from '../helpers/promtool.ts';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, cli } from '../helpers/cli.ts';
import { cleanup, commitAll, git, gitRepo, tempDir } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { until as poll } from '../helpers/wait.ts';

function repoFiles(effects: string, label = 'one') {
  return {
    'coder-git.yaml': 'apiVersion: coder-git/v1\nkind: Deployment\n',
    'users/alice.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: alice@example.com\n',
    'templates/plain/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\nparameters:\n  label: { type: string, default: one }\n',
    'templates/plain/main.tf': `variable "label" {\n  type = string\n}\n\nresource "terraform_data" "x" {\n  triggers_replace = [var.label]\n  provisioner "local-exec" {\n    command = "echo \${var.label} >> ${effects}"\n  }\n}\n`,
    'workspaces/alice/dev.yaml': `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: ${label} }\n`,
  };
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

function startRunner(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, 'runner', ...args], { env: { ...process.env, CODER_GIT_BUILD_LEASE_SECONDS: '3', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => r(code ?? (signal ? 128 : null))));
  return { child, log: () => out, exited };
}

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000) => poll(what, fn, { ms });

/** A notification receiver on 127.0.0.1: what the runner POSTs, in order. */
async function webhookReceiver<T>() {
  const { createServer } = await import('node:http');
  const received: T[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { received, server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook` };
}

const syncOf = (d: TestDb, sha: string) => d.db.oneOrNone<{ status: string; errors: { message: string }[] }>('SELECT status, errors FROM syncs WHERE commit_sha = $1 ORDER BY id DESC LIMIT 1', [sha]);
const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : []);

test('commits are applied as they land; an invalid one is recorded and nothing applied; the newest of quick commits wins', async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const repo = gitRepo(repoFiles(effects));
  const first = git(repo, 'rev-parse', 'HEAD').trim();
  const r = startRunner(['--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, 'data'), '--workers', '2', '--metrics-listen', '127.0.0.1:0']);
  try {
    await until('the first commit applied', async () => (await syncOf(d, first))?.status === 'applied');
    assert.equal(lines(effects), ['one']);

    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plian\n');
    const bad = commitAll(repo, 'typo');
    const invalid = await until('the invalid commit recorded', async () => ((await syncOf(d, bad))?.status === 'invalid' ? syncOf(d, bad) : undefined));
    assert.match(JSON.stringify(invalid!.errors), /template: \\"plian\\" does not exist/);
    assert.equal(lines(effects), ['one'], 'nothing applied');

    // Two quick commits: the newest is applied; the one in between is at most superseded.
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: two }\n');
    const mid = commitAll(repo, 'two');
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: three }\n');
    const last = commitAll(repo, 'three');
    await until('the newest commit applied', async () => (await syncOf(d, last))?.status === 'applied');
    assert.is(lines(effects).at(-1), 'three');
    assert.ok(['superseded', 'applied', 'failed'].includes((await syncOf(d, mid))?.status ?? 'superseded'));
    assert.ok(lines(effects).filter((l) => l === 'three').length === 1, 'the newest applied once');

    const metricsUrl = /metrics on (http:\S+)/.exec(r.log())![1]!;
    const metrics = await (await fetch(metricsUrl)).text();
    assert.match(metrics, /^coder_git_syncs\{status="applied"\} [1-9]/m);
    assert.match(metrics, /^coder_git_syncs\{status="invalid"\} 1$/m);
    assert.match(metrics, /^coder_git_builds\{status="succeeded"\} [1-9]/m);
    assert.match(metrics, /^coder_git_queue_jobs\{state="waiting"\} 0$/m);
    assert.match(metrics, /^coder_git_last_applied_age_seconds \d+$/m);
    assert.match(metrics, /^coder_git_runner_leader 1$/m);
    assert.match(metrics, /^# TYPE coder_git_build_duration_seconds histogram$/m);
    assert.match(metrics, /^coder_git_build_duration_seconds_bucket\{le="\+Inf"\} [1-9]/m);
    assert.match(metrics, /^process_cpu_seconds_total \d/m, "the process's own figures");
    assert.match(metrics, /^nodejs_heap_size_used_bytes \d/m, "and Node's");
    assert.equal(promtoolProblems(metrics), [], 'promtool check metrics passes');
    assert.is((await fetch(metricsUrl.replace('/metrics', '/nope'))).status, 404);
    const s = await cli(['status', '--json', '--postgres-url', d.url]);
    const j = JSON.parse(s.stdout);
    assert.is(j.syncs[0].commit, last);
    assert.is(j.syncs[0].status, 'applied');
    assert.equal(j.workspaces.map((w: { workspace: string; last_build: { status: string } }) => [w.workspace, w.last_build.status]), [['alice/dev', 'succeeded']]);
    assert.equal(j.queue, { waiting: 0, leased: 0 });

    r.child.kill('SIGTERM');
    const code = await r.exited;
    assert.is(code, 143, 'SIGTERM ends it the conventional way');
    assert.match(r.log(), /runner stopped/);
  } finally {
    r.child.kill('SIGKILL');
    await d.drop();
  }
});

test('several runners: one leader at a time; when it dies another takes over', async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const repo = gitRepo(repoFiles(effects));
  const args = (n: number) => ['--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, `data${n}`), '--workers', '1'];
  const a = startRunner(args(1));
  const b = startRunner(args(2));
  try {
    await until('the first commit applied', async () => (await syncOf(d, git(repo, 'rev-parse', 'HEAD').trim()))?.status === 'applied');
    await new Promise((r) => setTimeout(r, 1500));
    const leaders = [a, b].filter((p) => /reconciling \(epoch/.test(p.log()));
    assert.is(leaders.length, 1, 'exactly one reconciles');
    const [leader, other] = leaders[0] === a ? [a, b] : [b, a];
    leader.child.kill('SIGKILL');
    await leader.exited;
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: after }\n');
    const next = commitAll(repo, 'after the leader died');
    await until("the other runner applied the next commit", async () => (await syncOf(d, next))?.status === "applied", 40_000).catch(async (e) => {
      const errs = await d.db.any('SELECT status, error FROM workspace_builds ORDER BY created_at DESC LIMIT 3');
      throw new Error(`${e.message}\n--- builds: ${JSON.stringify(errs)}\n--- the other runner's log:\n${other.log().slice(0, 1500)}`);
    });
    assert.match(other.log(), /reconciling \(epoch 2\)/);
    assert.is(lines(effects).at(-1), 'after');
  } finally {
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await d.drop();
  }
});

test('three runners and 50 rapid commits: every build exactly once, never two terraform runs on one workspace', async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  // The template detects overlap: a lock folder per workspace, held for the provisioner's run.
  const module = `variable "label" {\n  type = string\n}\n\nvariable "coder_workspace_name" {\n  type = string\n}\n\nresource "terraform_data" "x" {\n  triggers_replace = [var.label]\n  provisioner "local-exec" {\n    command = "mkdir ${base}/lock-\${var.coder_workspace_name} 2>/dev/null || echo OVERLAP >> ${effects}; echo \${var.coder_workspace_name}=\${var.label} >> ${effects}; sleep 0.2; rmdir ${base}/lock-\${var.coder_workspace_name}"\n  }\n}\n`;
  const files: Record<string, string> = { ...repoFiles(effects), 'templates/plain/main.tf': module };
  delete files['workspaces/alice/dev.yaml'];
  const wsFile = (n: number, label: string) => [`workspaces/alice/w${n}.yaml`, `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: ${label} }\n`] as const;
  for (let n = 0; n < 3; n++) files[wsFile(n, 'v0')[0]] = wsFile(n, 'v0')[1];
  const repo = gitRepo(files);
  const runners = [1, 2, 3].map((i) => startRunner(['--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, `data${i}`), '--workers', '2']));
  try {
    let last = '';
    for (let c = 1; c <= 50; c++) {
      for (let n = 0; n < 3; n++) writeFileSync(path.join(repo, wsFile(n, `v${c}`)[0]), wsFile(n, `v${c}`)[1]);
      last = commitAll(repo, `v${c}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until('the last commit applied', async () => (await syncOf(d, last))?.status === 'applied', 90_000);
    const effectLines = lines(effects);
    assert.not.ok(effectLines.includes('OVERLAP'), 'never two terraform runs on one workspace at once');
    for (let n = 0; n < 3; n++) assert.is(effectLines.filter((l) => l.startsWith(`w${n}=`)).at(-1), `w${n}=v50`);
    const builds = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM workspace_builds WHERE status = 'succeeded'");
    assert.is(effectLines.length, builds.n, 'every succeeded build ran terraform exactly once (one provisioner run each)');
    const extra = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM workspace_builds WHERE status NOT IN ('succeeded')");
    assert.is(extra.n, 0, 'no failed or interrupted builds');
  } finally {
    for (const r of runners) r.child.kill('SIGKILL');
    await d.drop();
  }
});

test('PostgreSQL restarted under a running runner: it recovers by itself', async () => {
  const { pgDataDir } = await import('../helpers/db.ts');
  const { startEmbedded, stopEmbedded } = await import('../../src/db/embedded.ts');
  const pgDir = pgDataDir('coder-git-runner-pg-');
  const keep = await startEmbedded({ dataDir: pgDir }); // an "external" server the test controls
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const repo = gitRepo(repoFiles(effects));
  const r = startRunner(['--repo', repo, '--postgres-url', keep.url, '--data-dir', path.join(base, 'data'), '--workers', '1']);
  const pg = await import('pg');
  const status = async (sha: string) => {
    const c = new pg.default.Client({ connectionString: keep.url });
    try {
      await c.connect();
      return (await c.query('SELECT status FROM syncs WHERE commit_sha = $1 ORDER BY id DESC LIMIT 1', [sha])).rows[0]?.status as string | undefined;
    } catch {
      return undefined;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  try {
    await until('the first commit applied', async () => (await status(git(repo, 'rev-parse', 'HEAD').trim())) === 'applied');
    await stopEmbedded(pgDir);
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: while-down }\n');
    const next = commitAll(repo, 'while the database was down');
    await new Promise((res) => setTimeout(res, 3000));
    const again = await startEmbedded({ dataDir: pgDir });
    assert.is(again.port, keep.port);
    await until('the commit made while the database was down applied', async () => (await status(next)) === 'applied', 40_000);
    assert.is(lines(effects).at(-1), 'while-down');
    assert.ok(r.child.exitCode === null, 'the runner kept running');
    await again.release();
  } finally {
    r.child.kill('SIGKILL');
    await keep.release();
    await stopEmbedded(pgDir);
    (await import('node:fs')).rmSync(pgDir, { recursive: true, force: true });
  }
});

test('notifications: an invalid commit, a failed build and its failed sync are posted to the webhook', async () => {
  const { received, url, server } = await webhookReceiver<{ event: string; errors?: unknown[]; workspace?: string; build?: { error: string }; commit?: { sha: string } }>();
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const repo = gitRepo({ ...repoFiles(effects), 'coder-git.yaml': `apiVersion: coder-git/v1\nkind: Deployment\nnotifications:\n  webhook_url: ${url}\n` });
  const r = startRunner(['--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, 'data'), '--workers', '1']);
  try {
    await until('the first commit applied', async () => (await syncOf(d, git(repo, 'rev-parse', 'HEAD').trim()))?.status === 'applied');
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plian\n');
    const bad = commitAll(repo, 'typo');
    const invalid = await until('sync_invalid posted', async () => received.find((n) => n.event === 'sync_invalid'));
    assert.is(invalid.commit!.sha, bad);
    assert.match(JSON.stringify(invalid.errors), /workspaces\/alice\/dev\.yaml/);
    writeFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: x }\n');
    writeFileSync(path.join(repo, 'templates/plain/main.tf'), 'variable "label" {\n  type = string\n}\n\nresource "terraform_data" "x" {\n  triggers_replace = [var.label]\n  provisioner "local-exec" {\n    command = "exit 7"\n  }\n}\n');
    const failing = commitAll(repo, 'a template that fails');
    const build = await until('build_failed posted', async () => received.find((n) => n.event === 'build_failed'));
    assert.is(build.workspace, 'alice/dev');
    assert.is(build.build!.error, 'terraform apply exited with 1');
    const sync = await until('sync_failed posted', async () => received.find((n) => n.event === 'sync_failed'));
    assert.is(sync.commit!.sha, failing);
  } finally {
    r.child.kill('SIGKILL');
    server.close();
    await d.drop();
  }
});

test('drift: a runner with --drift-interval and --self-heal finds a workspace changed by hand, reports it and repairs it', async () => {
  const { received, url, server } = await webhookReceiver<{ event: string; workspace?: string; drift?: unknown }>();
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const marker = path.join(base, 'marker');
  // Every start brings a new agent token, so a start replaces x and remakes the marker; the output
  // reads the marker through x's output, so an apply evaluates it after the provisioner.
  const main = `variable "coder_agent_token" {\n  type      = string\n  sensitive = true\n}\n\nresource "terraform_data" "x" {\n  input            = "${marker}"\n  triggers_replace = [sha256(var.coder_agent_token)]\n  provisioner "local-exec" {\n    command = "touch ${marker} && echo built >> ${effects}"\n  }\n}\n\noutput "present" {\n  value = fileexists(terraform_data.x.output)\n}\n`;
  const repo = gitRepo({ ...repoFiles(effects), 'coder-git.yaml': `apiVersion: coder-git/v1\nkind: Deployment\nnotifications:\n  webhook_url: ${url}\n`, 'templates/plain/main.tf': main, 'templates/plain/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\n', 'workspaces/alice/dev.yaml': 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\n' });
  const metricsPort = 20000 + Math.floor(Math.random() * 20000);
  const r = startRunner(['--repo', repo, '--postgres-url', d.url, '--data-dir', path.join(base, 'data'), '--workers', '1', '--drift-interval', '1s', '--self-heal', '--metrics-listen', `127.0.0.1:${metricsPort}`]);
  try {
    await until('the commit applied', async () => (await syncOf(d, git(repo, 'rev-parse', 'HEAD').trim()))?.status === 'applied');
    assert.ok(existsSync(marker));
    await new Promise((res) => setTimeout(res, 2500));
    assert.equal(received, [], 'checked, and nothing drifted');
    (await import('node:fs')).rmSync(marker);
    const n = await until('workspace_drifted posted', async () => received.find((x) => x.event === 'workspace_drifted'));
    assert.equal([n.workspace, n.drift], ['alice/dev', { resources: [], outputs: ['present'] }]);
    await until('the repair build succeeded', async () => (await d.db.oneOrNone("SELECT 1 FROM workspace_builds WHERE reason = 'drift' AND status = 'succeeded'")) !== null);
    assert.ok(existsSync(marker), 'repaired');
    assert.equal(lines(effects), ['built', 'built']);
    assert.match(r.log(), /alice\/dev: drifted: output present; build #2 repairs it/);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(text, /coder_git_drifted_workspaces 0/, 'the repair cleared it');
  } finally {
    r.child.kill('SIGKILL');
    server.close();
    await d.drop();
  }
});

test('lost agents: a running workspace whose agent never connects is reported, started again once with --self-heal, then left to people', async () => {
  const { received, url, server } = await webhookReceiver<{ event: string; workspace?: string; agent?: { status: string } }>();
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  // no server: the agent of every start build never connects
  const repo = gitRepo({
    ...repoFiles(effects),
    'coder-git.yaml': `apiVersion: coder-git/v1\nkind: Deployment\nnotifications:\n  webhook_url: ${url}\n`,
    'templates/plain/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\nparameters:\n  label: { type: string, default: one }\nagent:\n  connection_timeout: 2s\n',
  });
  const data = path.join(base, 'data');
  const metricsPort = 20000 + Math.floor(Math.random() * 20000);
  const r = startRunner(['--repo', repo, '--postgres-url', d.url, '--data-dir', data, '--workers', '1', '--self-heal', '--metrics-listen', `127.0.0.1:${metricsPort}`], { CODER_GIT_AGENT_CHECK_SECONDS: '1' });
  try {
    const n = await until('workspace_agent_lost posted', async () => received.find((x) => x.event === 'workspace_agent_lost'));
    assert.equal([n.workspace, n.agent?.status], ['alice/dev', 'timeout']);
    await until('the self-heal build succeeded', async () => (await d.db.oneOrNone("SELECT 1 FROM workspace_builds WHERE reason = 'agent-lost' AND status = 'succeeded'")) !== null);
    assert.match(r.log(), /alice\/dev: its agent never connected \(since .*\); build #2 starts it again/);
    // the new build's agent never connects either: reported again, and not healed again
    await until('lost again, not repeated', async () => /the self-heal build did not bring it back, so it is not repeated/.test(r.log()));
    await until('reported again', async () => received.filter((x) => x.event === 'workspace_agent_lost').length === 2);
    await new Promise((res) => setTimeout(res, 2500));
    assert.is((await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM workspace_builds WHERE reason = 'agent-lost'")).n, 1, 'one self-heal build only');
    const status = JSON.parse((await cli(['status', '--json', '--postgres-url', d.url, '--data-dir', data])).stdout);
    assert.ok(status.workspaces[0].agent_lost_since, 'status says since when');
    assert.match((await cli(['status', '--postgres-url', d.url, '--data-dir', data])).stdout, /alice\/dev .*agent timeout .*agent lost/);
    assert.match(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), /^coder_git_agent_lost_workspaces 1$/m);
  } finally {
    r.child.kill('SIGKILL');
    server.close();
    await d.drop();
  }
});

test('a remote repository is cloned and fetched every --interval', async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const origin = gitRepo(repoFiles(effects));
  const r = startRunner(['--repo', `file://${origin}`, '--interval', '1s', '--postgres-url', d.url, '--data-dir', path.join(base, 'data'), '--workers', '1']);
  try {
    await until('the remote commit applied', async () => (await syncOf(d, git(origin, 'rev-parse', 'HEAD').trim()))?.status === 'applied');
    writeFileSync(path.join(origin, 'workspaces/alice/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: pushed }\n');
    const pushed = commitAll(origin, 'pushed');
    await until('the pushed commit applied', async () => (await syncOf(d, pushed))?.status === 'applied');
    assert.is(lines(effects).at(-1), 'pushed');
    assert.match(r.log(), /fetched every 1s/);
  } finally {
    r.child.kill('SIGKILL');
    await d.drop();
  }
});

test('status says what is deployed: after a force-push back to an older commit, and past a refused sync', async () => {
  const d = await testDatabase();
  const base = tempDir();
  const effects = path.join(base, 'effects');
  const origin = gitRepo(repoFiles(effects));
  const a = git(origin, 'rev-parse', 'HEAD').trim();
  const data = path.join(base, 'data');
  const r = startRunner(['--repo', `file://${origin}`, '--interval', '1s', '--postgres-url', d.url, '--data-dir', data, '--workers', '1', '--max-destroy', '0']);
  const status = async () => JSON.parse((await cli(['status', '--json', '--postgres-url', d.url, '--data-dir', data])).stdout);
  const label = (l: string) => {
    mkdirSync(path.join(origin, 'workspaces/alice'), { recursive: true });
    writeFileSync(path.join(origin, 'workspaces/alice/dev.yaml'), `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nparameters: { label: ${l} }\n`);
  };
  try {
    await until('A applied', async () => (await syncOf(d, a))?.status === 'applied');
    label('two');
    const b = commitAll(origin, 'B');
    await until('B applied', async () => (await syncOf(d, b))?.status === 'applied');
    git(origin, 'reset', '-q', '--hard', a); // B dropped, as by a force-push
    await until('A deployed again', async () => (await status()).deployed?.commit === a);
    assert.is(lines(effects).at(-1), 'one', 'the workspace went back to A');
    const s = await status();
    assert.equal([s.syncs[0].commit, s.syncs[0].status, s.syncs[0].deployed], [a, 'applied', true], 'the newest sync is A, deployed');
    assert.equal([s.syncs[1].commit, s.syncs[1].deployed], [b, false]);
    const text = (await cli(['status', '--postgres-url', d.url, '--data-dir', data])).stdout;
    assert.match(text, new RegExp(`^Deployed: ${a.slice(0, 12)} {2}"initial" \\(sync #\\d+\\)$`, 'm'));
    assert.match(text, new RegExp(`#\\d+ applied +${a.slice(0, 12)} .*← deployed`));

    git(origin, 'rm', '-q', 'workspaces/alice/dev.yaml');
    const c = commitAll(origin, 'C deletes the workspace');
    await until('C refused', async () => (await syncOf(d, c))?.status === 'failed');
    label('four');
    const e = commitAll(origin, 'D brings it back');
    await until('D applied', async () => (await syncOf(d, e))?.status === 'applied');
    const after = await status();
    const refused = after.syncs.find((x: { commit: string }) => x.commit === c);
    assert.is(refused.status, 'failed');
    assert.is(refused.superseded_by, after.deployed.sync, 'the refused sync was overtaken by what is deployed');
    assert.match((await cli(['status', '--postgres-url', d.url, '--data-dir', data])).stdout, new RegExp(`failed +${c.slice(0, 12)} .*\\(superseded by #${after.deployed.sync}\\)`));
  } finally {
    r.child.kill('SIGKILL');
    await d.drop();
  }
});

test('cleanup', async () => {
  await stopOwnServer();
  cleanup();
});
test.run();
