// The Terraform driver with the real binary: a clean environment for templates, timeouts that
// interrupt and then kill, and clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanup, tempDir } from '../helpers/git.ts';
import { TerraformDriver } from '../../src/terraform/driver.ts';
import { CoderGitError } from '../../src/errors.ts';

const module = (cmd: string) => `resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "${cmd}"\n  }\n}\n`;

test('a template sees only the base environment, what terraform.env names, and its own variables', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'main.tf'), module(`env > ${dir}/seen`));
  process.env.CODER_GIT_POSTGRES_URL = 'postgres://runner:secret@db/coder';
  process.env.AWS_SECRET_ACCESS_KEY = 'aws-secret';
  process.env.PASSED_ON = 'yes';
  try {
    const d = new TerraformDriver({ binary: 'terraform', passEnv: ['PASSED_ON'], pluginCacheDir: path.join(dir, '.cache') });
    assert.is((await d.run(['init', '-input=false'], { cwd: dir, env: {} })).code, 0);
    const r = await d.run(['apply', '-auto-approve', '-input=false'], { cwd: dir, env: { CODER_WORKSPACE_NAME: 'dev' } });
    assert.is(r.code, 0);
    const seen = readFileSync(path.join(dir, 'seen'), 'utf8');
    assert.match(seen, /^PASSED_ON=yes$/m);
    assert.match(seen, /^CODER_WORKSPACE_NAME=dev$/m);
    assert.match(seen, /^PATH=/m);
    assert.not.match(seen, /secret/, 'no secret of the runner reaches the template');
    assert.not.match(seen, /CODER_GIT_/);
  } finally {
    delete process.env.CODER_GIT_POSTGRES_URL;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.PASSED_ON;
  }
});

test('output is streamed line by line, stdout and stderr apart', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'main.tf'), 'variable "broken" {\n  type = nope\n}\n');
  const d = new TerraformDriver({ binary: 'terraform', passEnv: [], pluginCacheDir: path.join(dir, '.cache') });
  const lines: [string, string][] = [];
  const r = await d.run(['validate'], { cwd: dir, env: {}, onLine: (s, l) => lines.push([s, l]) });
  assert.is.not(r.code, 0);
  assert.ok(lines.some(([s, l]) => s === 'stderr' && /Invalid type specification/.test(l)), JSON.stringify(lines));
});

test('a run past its timeout is interrupted, then killed after the grace period', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'main.tf'), module('sleep 60'));
  const d = new TerraformDriver({ binary: 'terraform', passEnv: [], pluginCacheDir: path.join(dir, '.cache') });
  await d.run(['init', '-input=false'], { cwd: dir, env: {} });
  const lines: string[] = [];
  const started = Date.now();
  const r = await d.run(['apply', '-auto-approve', '-input=false'], { cwd: dir, env: {}, timeoutMs: 1500, graceMs: 3000, onLine: (_, l) => lines.push(l) });
  const took = Date.now() - started;
  assert.ok(r.timedOut);
  assert.is.not(r.code, 0);
  assert.ok(took < 15_000, `stopped within bounds (${took}ms)`);
  assert.ok(lines.some((l) => /ran longer than 2s; interrupting it|ran longer than 1s/.test(l)), lines.join('\n'));
});

test('a missing binary is a clear error', async () => {
  const dir = tempDir();
  const d = new TerraformDriver({ binary: 'terraform-that-is-not-there', passEnv: [], pluginCacheDir: path.join(dir, '.cache') });
  try {
    await d.run(['version'], { cwd: dir, env: {} });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CoderGitError);
    assert.match((err as Error).message, /terraform-that-is-not-there not found on PATH/);
  }
});

test('cleanup', () => cleanup());
test.run();
