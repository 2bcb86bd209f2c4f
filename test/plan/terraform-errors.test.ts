// A terraform failure inside `coder-git plan` is an error of the plan: exit 1 (also with
// --detailed-exitcode), listed in the JSON's errors and the markdown's Errors, and with
// terraform's whole diagnostic (every error, its cause), not its first lines. Real terraform: a
// provider that cannot be fetched (init fails) and a template terraform refuses to plan.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { cleanup, commitAll } from '../helpers/git.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { localConfigRepo, type LocalRepo } from '../fixtures/local.ts';

let d: TestDb;
let r: LocalRepo;
const cg = (...args: string[]) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 120_000 });
const put = (rel: string, text: string) => {
  mkdirSync(path.dirname(path.join(r.repo, rel)), { recursive: true });
  writeFileSync(path.join(r.repo, rel), text);
};
const template = (name: string, main: string) => {
  put(`templates/${name}/template.yaml`, `apiVersion: coder-git/v1\nkind: Template\ndisplay_name: ${name}\n`);
  put(`templates/${name}/main.tf`, main);
  put(`workspaces/admin/${name}.yaml`, `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: ${name}\nstate: running\n`);
};

test('set-up: the local template, plus one whose provider cannot be fetched and one terraform cannot plan', async () => {
  d = await testDatabase();
  r = await localConfigRepo();
  template('unfetchable', 'terraform {\n  required_providers {\n    nothing = {\n      source = "example.invalid/acme/nothing"\n    }\n  }\n}\n');
  // Two errors, the second one after the first's cause: both must reach the plan.
  template('unplannable', 'resource "terraform_data" "a" {\n  input = var.missing\n}\n\nresource "terraform_data" "b" {\n  input = local.absent\n}\n');
  commitAll(r.repo, 'two templates that cannot build');
});

test('plan exits 1 (with and without --detailed-exitcode) and names each workspace terraform could not plan', async () => {
  for (const extra of [[], ['--detailed-exitcode']]) {
    const p = await cg('plan', ...extra);
    assert.is(p.code, 1, `${extra.join(' ')}: ${p.stdout}${p.stderr}`);
    assert.match(p.stdout, /Error: workspaces\/admin\/unfetchable\.yaml: terraform could not plan/);
    assert.match(p.stdout, /Error: templates\/unplannable\/main\.tf:2: terraform could not plan/);
  }
});

test('the JSON lists the errors with the whole diagnostic: the cause of an init failure, every error of a plan', async () => {
  const p = await cg('plan', '--format', 'json');
  assert.is(p.code, 1);
  const plan = JSON.parse(p.stdout) as { errors: { key: string; file: string; message: string }[] };
  const byKey = new Map(plan.errors.map((e) => [e.key, e]));
  assert.is(plan.errors.length, 2, JSON.stringify(plan.errors, null, 2));
  const init = byKey.get('admin/unfetchable')!;
  assert.match(init.message, /terraform init failed/, init.message);
  assert.match(init.message, /example\.invalid\/acme\/nothing/, `the provider that could not be fetched is named: ${init.message}`);
  const planned = byKey.get('admin/unplannable')!;
  assert.is(planned.file, 'templates/unplannable/main.tf:2');
  assert.match(planned.message, /var\.missing|"missing"/);
  assert.match(planned.message, /local\.absent|"absent"/, 'the second error is kept as well');
  assert.ok(!byKey.has('admin/dev'), 'the workspace that plans is no error');
});

test('the markdown (pull-request comment) lists them under Errors, the diagnostic in a block', async () => {
  const p = await cg('plan', '--format', 'markdown');
  assert.is(p.code, 1);
  const errors = p.stdout.slice(p.stdout.indexOf('**Errors**'));
  assert.match(errors, /^- `workspaces\/admin\/unfetchable\.yaml`: terraform could not plan/m);
  assert.match(errors, /^- `templates\/unplannable\/main\.tf:2`: terraform could not plan/m);
  assert.match(errors, /```[\s\S]*local\.absent[\s\S]*```/);
});

test('plan --out saves no plan with errors (as terraform writes no plan file then)', async () => {
  const out = path.join(r.data, '..', 'broken.plan');
  const p = await cg('plan', '--out', out);
  assert.is(p.code, 1);
  assert.not.ok(existsSync(out), 'no plan file to apply');
  assert.match(p.stderr, /no plan saved/);
});

test.after(async () => {
  await d?.close();
  await stopOwnServer();
  cleanup();
});

test.run();
