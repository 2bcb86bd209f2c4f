// What `coder-git apply` prints while it builds: one line per finished build with a running count
// and its duration; a failed build's error, its last log lines and the command for its whole log;
// Terraform's own output only with --verbose; --format json (and --json) as one document on stdout;
// and `coder-git logs`, which prints that whole log. Real git, PostgreSQL, terraform and CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, cli } from '../helpers/cli.ts';
import { cleanup, commitAll } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { localConfigRepo, stopLocalAgents, type LocalRepo } from '../fixtures/local.ts';

let d: TestDb;
let r: LocalRepo;
const cg = (...args: string[]) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 180_000 });

test('set-up: three workspaces of local and one of a template that fails', async () => {
  d = await testDatabase();
  r = await localConfigRepo();
  for (const n of ['one', 'two']) writeFileSync(path.join(r.repo, `workspaces/admin/${n}.yaml`), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: local\nstate: running\n');
  mkdirSync(path.join(r.repo, 'templates/broken'), { recursive: true });
  writeFileSync(path.join(r.repo, 'templates/broken/template.yaml'), 'apiVersion: coder-git/v1\nkind: Template\n');
  writeFileSync(
    path.join(r.repo, 'templates/broken/main.tf'),
    `resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "echo preparing-the-disk; echo the-disk-is-full >&2; exit 7"\n  }\n}\n`,
  );
  writeFileSync(path.join(r.repo, 'workspaces/admin/bad.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: broken\nstate: running\n');
  commitAll(r.repo, 'four workspaces');
});

test('one line per finished build, counted; a failure shows its cause and where the whole log is; no terraform output', async () => {
  const a = await cg('apply', '--auto-approve', '--parallelism', '2');
  assert.is(a.code, 1, 'a build failed');
  const lines = a.stdout.split('\n');
  const done = lines.filter((l) => /^\[\d\/4\] /.test(l));
  assert.is(done.length, 4, a.stdout);
  assert.equal(done.map((l) => l.slice(0, 5)).sort(), ['[1/4]', '[2/4]', '[3/4]', '[4/4]']);
  for (const n of ['dev', 'one', 'two']) assert.ok(done.some((l) => new RegExp(`^\\[\\d/4\\] admin/${n} start succeeded \\d+\\.\\d s$`).test(l)), `admin/${n}: ${a.stdout}`);
  const bad = lines.findIndex((l) => /^\[\d\/4\] admin\/bad start failed \d+\.\d s$/.test(l));
  assert.ok(bad >= 0, a.stdout);
  const after = lines.slice(bad + 1, bad + 14).join('\n');
  assert.match(after, /terraform apply exited with 1/);
  assert.match(after, /the-disk-is-full/, 'the last log lines show the cause');
  assert.match(after, /full log: coder-git logs admin\/bad --build 1/);
  assert.not.match(a.stdout, /terraform_data\.x: Creating/, "terraform's output only with --verbose");
  assert.match(a.stdout, /Apply finished with 1 of 4 build\(s\) not succeeded/);

  const log = await cg('logs', 'admin/bad', '--build', '1');
  assert.is(log.code, 0, log.stderr);
  assert.match(log.stdout, /^# admin\/bad build #1 start failed: terraform apply exited with 1/);
  assert.match(log.stdout, /terraform_data\.x: Creating/);
  assert.match(log.stdout, /preparing-the-disk[\s\S]*the-disk-is-full/);
  const j = JSON.parse((await cg('logs', 'admin/dev', '--json')).stdout);
  assert.is(j.build.status, 'succeeded');
  assert.ok(j.lines.some((l: { line: string }) => /Apply complete!/.test(l.line)));
  assert.is((await cg('logs', 'admin/nope')).code, 1);
  assert.is((await cg('logs', 'not-a-name')).code, 64);
});

test('--verbose prints terraform as it runs, each line named by its build', async () => {
  r.edit('workspaces/admin/one.yaml', (s) => s.replace('state: running', 'state: stopped'));
  commitAll(r.repo, 'stop one');
  const a = await cg('apply', '--auto-approve', '--verbose');
  assert.match(a.stdout, /^admin\/one #2: .*terraform apply/m, a.stdout);
  assert.match(a.stdout, /^\[\d\/2\] admin\/one stop succeeded/m, a.stdout);
});

test('--format json: the outcome, the plan and each build as one document on stdout; the text on stderr', async () => {
  r.edit('workspaces/admin/one.yaml', (s) => s.replace('state: stopped', 'state: running'));
  commitAll(r.repo, 'start one');
  const a = await cg('apply', '--auto-approve', '--format', 'json');
  const j = JSON.parse(a.stdout);
  assert.is(j.status, 'failed', 'admin/bad is retried and fails again');
  assert.match(j.commit, /^[0-9a-f]{40}$/);
  assert.ok(Number(j.sync_id) > 0);
  assert.ok(j.plan.workspaces.some((w: { key: string }) => w.key === 'admin/one'));
  const one = j.builds.find((b: { workspace: string }) => b.workspace === 'admin/one');
  assert.equal({ ...one, seconds: typeof one.seconds }, { workspace: 'admin/one', build_number: 3, transition: 'start', status: 'succeeded', seconds: 'number', error: null });
  assert.match(a.stderr, /\[\d\/2\] admin\/one start succeeded/);
  const nothing = JSON.parse((await cg('apply', '--auto-approve', '--json')).stdout);
  assert.is(nothing.status, 'failed', 'the failed build of admin/bad is tried again: the commit is not applied yet');
});

test('on a terminal a status line names the builds running, and is cleared before each finished line', async () => {
  r.edit('workspaces/admin/two.yaml', (s) => s.replace('state: running', 'state: stopped'));
  commitAll(r.repo, 'stop two');
  const cmd = [process.execPath, BIN, 'apply', '--auto-approve', '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data].map((a) => `'${a}'`).join(' ');
  const out = await new Promise<string>((resolve) => {
    const c = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let o = '';
    c.stdout.on('data', (x) => (o += x));
    c.on('close', () => resolve(o));
    setTimeout(() => c.kill(), 120_000).unref();
  });
  assert.match(out, /building [^\r\n]*admin\/two[^\r\n]*… \(\d\/\d done\)/, out);
  assert.match(out, /\r\x1b\[2K\[\d\/\d\] admin\/two stop succeeded/, 'the status line is cleared before the finished line');
});

test('an invalid commit: status invalid with its errors in JSON, exit 1', async () => {
  r.edit('workspaces/admin/two.yaml', (s) => s.replace('template: local', 'template: lokal'));
  commitAll(r.repo, 'typo');
  const a = await cg('apply', '--auto-approve', '--json');
  assert.is(a.code, 1);
  const j = JSON.parse(a.stdout);
  assert.is(j.status, 'invalid');
  assert.ok(j.errors.some((e: { file: string; line: number }) => e.file === 'workspaces/admin/two.yaml' && e.line === 3), JSON.stringify(j.errors));
});

test('clean up', async () => {
  stopLocalAgents(r.root);
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
