// The built-in templates: formatted as terraform fmt wants; `local` passes terraform init + validate
// for real (it needs no provider); the others need providers, so they are checked statically: their
// variable blocks must match their template.yaml (validation checks that for every template).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanup, tempDir } from './helpers/git.ts';
import { readModule } from '../src/config/terraform-module.ts';
import { BUILTIN_TEMPLATES } from '../src/init.ts';
import { BUILTIN_VARIABLES } from '../src/config/types.ts';
import { parseConfigFile } from '../src/config/yaml.ts';

const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url));
const tfEnv = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' };
const terraform = (cwd: string, ...args: string[]) => execFileSync('terraform', args, { cwd, env: tfEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('the built-in template list matches templates/', () => {
  assert.equal(readdirSync(templatesDir).sort(), [...BUILTIN_TEMPLATES].sort());
});

test('every template is formatted (terraform fmt -check)', () => {
  terraform(templatesDir, 'fmt', '-check', '-recursive');
});

test('local and sandbox: terraform init and validate succeed offline', () => {
  for (const t of ['local', 'sandbox']) validateOffline(t);
});

function validateOffline(name: string): void {
  const dir = tempDir();
  cpSync(path.join(templatesDir, name), dir, { recursive: true });
  terraform(dir, 'init', '-backend=false', '-input=false');
  const out = JSON.parse(terraform(dir, 'validate', '-json'));
  assert.is(out.valid, true, JSON.stringify(out.diagnostics));
  assert.is(out.error_count, 0);
}

test('every template declares a variable for each parameter and only known built-ins', () => {
  for (const name of BUILTIN_TEMPLATES) {
    const dir = path.join(templatesDir, name);
    const parsed = parseConfigFile(`templates/${name}/template.yaml`, readFileSync(path.join(dir, 'template.yaml')));
    assert.ok(parsed.ok, name);
    if (!parsed.ok) continue;
    const params = Object.keys((parsed.parsed.value as { parameters?: object }).parameters ?? {});
    const module = readModule(name, new Map(readdirSync(dir).filter((f) => f.endsWith('.tf')).map((f) => [f, readFileSync(path.join(dir, f))])));
    assert.equal(module.errors, [], `${name}: its .tf files read`);
    const vars = [...module.variables.values()];
    const names = vars.map((v) => v.name);
    for (const p of params) assert.ok(names.includes(p), `${name}: parameter ${p} has a variable`);
    for (const v of names.filter((n) => n.startsWith('coder_'))) assert.ok((BUILTIN_VARIABLES as readonly string[]).includes(v), `${name}: ${v} is a built-in`);
    assert.ok(names.includes('coder_workspace_transition'), `${name}: stops on transition`);
  }
});

test('cleanup', () => cleanup());
test.run();
