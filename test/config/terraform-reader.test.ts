// The Terraform reader against the real `terraform validate`: a corpus of valid but unusual
// modules (one-line blocks, comments after types, unquoted labels, `$${`/`%%{` escapes, override
// files, .tfvars, .tf.json). Each is first checked by terraform itself, in the same test; then
// coder-git must read the same variables and raise no error on it as a template. A few invalid
// templates show the checks are still on (in JSON modules too), with file:line.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cleanup, gitRepo, tempDir } from '../helpers/git.ts';
import { baseFiles } from '../fixtures/base.ts';
import { loadConfig } from '../../src/config/index.ts';
import { readModule } from '../../src/config/terraform-module.ts';
import type { Diagnostic } from '../../src/config/diagnostics.ts';

interface Case {
  name: string;
  files: Record<string, string>;
  /** template.yaml's parameters (name: type) */
  parameters?: Record<string, string>;
  /** what the reader must find: name → [has a default or a value, type] */
  variables: Record<string, [boolean, string | undefined]>;
}

const valid: Case[] = [
  {
    name: 'one-line blocks',
    files: { 'main.tf': 'variable "region" { type = string }\nvariable "cpu" { type = number }\nvariable "zone" { default = "a" }\nvariable "empty" {}\n' },
    parameters: { region: 'string', cpu: 'integer', empty: 'string' },
    variables: { region: [false, 'string'], cpu: [false, 'number'], zone: [true, undefined], empty: [false, undefined] },
  },
  {
    name: 'comments after a type',
    files: { 'main.tf': 'variable "cpu" {\n  type = number /* CPUs */\n}\nvariable "name" {\n  type    = string # the name\n  default = "x" // kept\n}\n' },
    parameters: { cpu: 'integer' },
    variables: { cpu: [false, 'number'], name: [true, 'string'] },
  },
  {
    name: 'unquoted labels',
    files: { 'main.tf': 'variable cpu {\n  type = number\n}\n\nresource terraform_data x {\n  input = var.cpu\n}\n' },
    parameters: { cpu: 'integer' },
    variables: { cpu: [false, 'number'] },
  },
  {
    name: 'escapes in strings and heredocs',
    files: {
      'main.tf': [
        'locals {',
        '  literal = "$${not_interpolated} and %%{not_a_directive}"',
        '  quoted  = "say \\"hi\\" \\\\ ${var.name} ${"nested \\"}\\""}"',
        '  heredoc = <<-EOT',
        '    $${literal} %%{ also } ${var.name} "unbalanced {',
        '  EOT',
        '}',
        '',
        'variable "name" {',
        '  type = string',
        '}',
        '',
        'output "o" {',
        '  value = [local.literal, local.quoted, local.heredoc]',
        '}',
        '',
      ].join('\n'),
    },
    parameters: { name: 'string' },
    variables: { name: [false, 'string'] },
  },
  {
    name: 'override files',
    files: {
      'main.tf': 'variable "cpu" {\n  type = number\n}\n\nvariable "size" {\n  type = string\n}\n',
      'main_override.tf': 'variable "size" {\n  default = "m"\n}\n',
      'override.tf': 'variable "cpu" {\n  type = string\n}\n',
    },
    parameters: { cpu: 'string' },
    variables: { cpu: [false, 'string'], size: [true, 'string'] },
  },
  {
    name: 'values from terraform.tfvars and *.auto.tfvars(.json)',
    files: {
      'main.tf': 'variable "region" {\n  type = string\n}\nvariable "zone" {\n  type = string\n}\nvariable "team" {\n  type = string\n}\n',
      'terraform.tfvars': 'region = "eu-west-1" # from the file\n',
      'zone.auto.tfvars': 'zone = <<EOT\na\nEOT\n',
      'team.auto.tfvars.json': '{ "team": "core" }\n',
    },
    variables: { region: [true, 'string'], zone: [true, 'string'], team: [true, 'string'] },
  },
  {
    name: 'a JSON module',
    files: {
      'main.tf.json': JSON.stringify({ variable: { cpu: { type: 'number' }, label: { type: 'string', default: 'x' } }, resource: { terraform_data: { x: { input: '${var.cpu}-${var.label}' } } } }, null, 2),
    },
    parameters: { cpu: 'integer' },
    variables: { cpu: [false, 'number'], label: [true, 'string'] },
  },
  {
    name: 'expressions that hold braces, brackets and strings',
    files: {
      'main.tf': [
        'variable "settings" {',
        '  type = object({',
        '    size = string',
        '    tags = map(string)',
        '  })',
        '  default = { size = "m", tags = {} }',
        '}',
        '',
        'variable "how_many" {',
        '  type    = number',
        '  default = 1',
        '  validation {',
        '    condition     = var.how_many >= 0 && var.how_many < 10',
        '    error_message = "Between 0 and 9, got ${var.how_many}."',
        '  }',
        '}',
        '',
        'variable "owner" { type = string }',
        '',
        'locals {',
        '  names  = [for i in range(var.how_many) : "w-${i}" if i % 2 == 0]',
        '  byname = { for n in local.names : n => upper(n) }',
        '  which  = var.how_many > 1 ? "many" : "one"',
        '  brace  = "{ not a block }"',
        '}',
        '',
        'resource "terraform_data" "w" {',
        '  count = var.how_many',
        '  input = { names = local.names, x = "}", owner = var.owner }',
        '  lifecycle { ignore_changes = [input] }',
        '}',
        '',
      ].join('\n'),
    },
    parameters: { how_many: 'integer', owner: 'string' },
    variables: { settings: [true, 'object({ size = string tags = map(string) })'], how_many: [true, 'number'], owner: [false, 'string'] },
  },
  {
    name: 'local modules inside the template folder',
    files: {
      'main.tf': 'module "a" {\n  source = "./modules/a"\n}\n',
      'modules/a/main.tf': 'module "b" {\n  source = "../b"\n}\n',
      'modules/b/main.tf': 'output "x" {\n  value = 1\n}\n',
    },
    variables: {},
  },
];

const templateYaml = (params: Record<string, string> = {}) =>
  `apiVersion: coder-git/v1\nkind: Template\ndisplay_name: Case\n${Object.keys(params).length ? `parameters:\n${Object.entries(params).map(([k, t]) => `  ${k}:\n    type: ${t}\n`).join('')}` : ''}`;
const render = (d: Diagnostic) => `${d.file}:${d.line}:${d.col}: ${d.message}`;
const asTemplate = (c: Pick<Case, 'files' | 'parameters'>) => ({
  ...baseFiles(),
  'templates/case/template.yaml': templateYaml(c.parameters),
  ...Object.fromEntries(Object.entries(c.files).map(([f, t]) => [`templates/case/${f}`, t])),
});

function terraformValidate(files: Record<string, string>): void {
  const dir = tempDir('coder-git-tfv-');
  for (const [f, t] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), t);
  }
  const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  execFileSync('terraform', ['init', '-backend=false', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
  execFileSync('terraform', ['validate', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
}

for (const c of valid) {
  test(`valid Terraform: ${c.name} (terraform validate accepts it; coder-git reads it and raises nothing)`, async () => {
    try {
      terraformValidate(c.files);
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer };
      assert.unreachable(`terraform validate refused the corpus case itself:\n${e.stdout}${e.stderr}`);
    }
    const m = readModule('templates/case', new Map(Object.entries(c.files).map(([f, t]) => [f, Buffer.from(t)])));
    assert.equal(m.errors, []);
    assert.equal(Object.fromEntries([...m.variables.values()].map((v) => [v.name, [v.hasDefault || m.values.has(v.name), v.type]])), c.variables);
    const { result } = await loadConfig({ dir: gitRepo(asTemplate(c)), ref: 'HEAD' });
    assert.equal(result.diagnostics.map(render), []);
  });
}

const invalid: { name: string; files: Record<string, string>; parameters?: Record<string, string>; expect: string[] }[] = [
  {
    name: 'a one-line block whose type does not match its parameter',
    files: { 'main.tf': 'variable "cpu" { type = string }\n' },
    parameters: { cpu: 'integer' },
    expect: ['templates/case/main.tf:1:1: variable "cpu" has type string, but parameter cpu in template.yaml is integer (Terraform type number)'],
  },
  {
    name: 'a JSON module without the variable of a parameter, and one of the wrong type',
    files: { 'main.tf.json': '{\n  "variable": {\n    "cpu": { "type": "string" }\n  }\n}\n' },
    parameters: { cpu: 'integer', label: 'string' },
    expect: [
      'templates/case/main.tf.json:3:5: variable "cpu" has type string, but parameter cpu in template.yaml is integer (Terraform type number)',
      'templates/case/template.yaml:7:3: parameters.label: no variable "label" in templates/case/*.tf; declare it: variable "label" { type = string }',
    ],
  },
  {
    name: 'a JSON module with a variable terraform would ask for',
    files: { 'main.tf.json': '{\n  "variable": {\n    "zone": {}\n  }\n}\n' },
    expect: [
      'templates/case/main.tf.json:3:5: variable "zone" has no default and no value: declare it as a parameter in template.yaml, give it a default, or set it in coder-git.yaml terraform.variables (or, for a secret, list TF_VAR_zone in terraform.env); otherwise Terraform would stop to ask for it',
    ],
  },
  {
    name: 'a JSON module that is not JSON',
    files: { 'main.tf.json': '{\n  "variable": {\n}\n' },
    expect: ['templates/case/main.tf.json:4:1: not valid JSON: a "}" is missing (Terraform reads .tf.json files as JSON)'],
  },
  {
    name: 'an override without a variable to override',
    files: { 'main.tf': 'variable "cpu" {\n  type = number\n  default = 1\n}\n', 'x_override.tf': 'variable "memory" {\n  default = 2\n}\n' },
    expect: ['templates/case/x_override.tf:1:1: variable "memory" overrides nothing: no templates/case/*.tf declares it (override files only change declarations made elsewhere)'],
  },
  {
    name: 'a variable declared twice (not in an override file)',
    files: { 'main.tf': 'variable "cpu" { default = 1 }\n', 'more.tf': '\nvariable cpu { default = 2 }\n' },
    expect: ['templates/case/more.tf:2:1: variable "cpu" is declared twice (first at templates/case/main.tf:1)'],
  },
  {
    name: 'a module source out of the repo',
    files: { 'main.tf': 'module "m" {\n  source = "../../../../../../tmp/x"\n}\n' },
    expect: ['templates/case/main.tf:2:3: module "m": source "../../../../../../tmp/x" leads out of templates/case/; a local module must be inside the template\'s folder (a build gets only that folder), for example ./modules/x'],
  },
  {
    name: 'a nested module whose source leads out of the template folder, and one on the runner\'s disk',
    files: {
      'main.tf': 'module "a" {\n  source = "./modules/a"\n}\n',
      'modules/a/main.tf': 'module "up" {\n  source = "../../../small"\n}\n',
      'disk.tf.json': '{\n  "module": {\n    "d": { "source": "/tmp/x" }\n  }\n}\n',
    },
    expect: [
      'templates/case/disk.tf.json:3:5: module "d": source "/tmp/x" is a path on the runner\'s disk; put the module inside templates/case/ and use "./<folder>"',
      'templates/case/modules/a/main.tf:2:3: module "up": source "../../../small" leads out of templates/case/; a local module must be inside the template\'s folder (a build gets only that folder), for example ./modules/small',
    ],
  },
];

for (const c of invalid) {
  test(`invalid template: ${c.name}`, async () => {
    const { result } = await loadConfig({ dir: gitRepo(asTemplate(c)), ref: 'HEAD' });
    assert.equal(result.diagnostics.map(render), c.expect);
  });
}

test('cleanup', () => cleanup());
test.run();
