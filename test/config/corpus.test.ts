// The corpus of bad config repos: the valid base repo with one defect each. Every case is a real
// git repository, validated in the working tree and at HEAD; both must report exactly the expected
// diagnostics ("file:line:col: message", warnings marked) and nothing else.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { cleanup, gitRepo, type Files } from '../helpers/git.ts';
import { alice, aliceDev, baseFiles, bob, bobBox, deployment, smallMain, smallTemplate } from '../fixtures/base.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { Diagnostic } from '../../src/config/diagnostics.ts';

interface Case {
  name: string;
  files: Files;
  expect: string[];
  /** runs after the repo is made (for what a Files map cannot say, like symlinks) */
  setup?: (dir: string) => void;
  /** only warnings: the repo is still valid */
  valid?: boolean;
}

const sub = (text: string, from: string, to: string): string => {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
};
const W = 'workspaces/alice/dev.yaml';
const T = 'templates/small/template.yaml';
const TF = 'templates/small/main.tf';
const G = 'groups/devs.yaml';
const devs = 'apiVersion: coder-git/v1\nkind: Group\nmembers: [alice, bob]\nroles: [template-admin]\n';
const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');

const cases: Case[] = [
  // ---- files and YAML
  { name: 'unclosed flow sequence', files: { 'users/bob.yaml': sub(bob, 'roles: [member]', 'roles: [member') }, expect: ['users/bob.yaml:5:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'] },
  { name: 'duplicate key', files: { 'users/bob.yaml': `${bob}email: bob2@example.com\n` }, expect: ['users/bob.yaml:6:1: duplicate key "email" (first at line 3); each key may appear once in a mapping'] },
  { name: 'tab indentation', files: { [W]: sub(aliceDev, '  cpu: 4', '\tcpu: 4') }, expect: [`${W}:5:1: a tab is used for indentation; YAML indents with spaces only`] },
  { name: 'empty file', files: { 'users/carol.yaml': '' }, expect: ['users/carol.yaml:1:1: the file is empty; it needs at least apiVersion: coder-git/v1 and kind: User'] },
  { name: 'comments only', files: { 'users/carol.yaml': '# nothing yet\n' }, expect: ['users/carol.yaml:1:1: the file is empty; it needs at least apiVersion: coder-git/v1 and kind: User'] },
  { name: 'not UTF-8', files: { 'users/bob.yaml': Buffer.concat([Buffer.from('apiVersion: coder-git/v1\nkind: User\nemail: b'), Buffer.from([0xff]), Buffer.from('ob@example.com\n')]) }, expect: ['users/bob.yaml:3:9: not valid UTF-8 (byte 0xff); save the file as UTF-8'] },
  { name: 'over 1 MiB', files: { 'users/bob.yaml': `${bob}full_name: "${'x'.repeat(1024 * 1024)}"\n` }, expect: ['users/bob.yaml:1:1: the file is 1.0 MiB; config files may be at most 1 MiB'] },
  { name: 'alias bomb', files: { 'users/bob.yaml': `${bob}${bomb}\n` }, expect: ['users/bob.yaml:1:1: aliases expand to too much data (more than 100 copies); write the values out or use fewer aliases'] },
  { name: 'two documents', files: { 'users/bob.yaml': `${bob}---\n${alice}` }, expect: ['users/bob.yaml:6:1: a config file holds one YAML document; remove the "---" and everything after it, or split it into files'] },
  { name: 'unknown tag', files: { 'users/bob.yaml': sub(bob, 'login: none', 'login: !secret none') }, expect: ['users/bob.yaml:5:8: Unresolved tag: !secret; config files use plain values without tags'] },
  { name: 'a list instead of a mapping', files: { 'users/carol.yaml': '- apiVersion: coder-git/v1\n- kind: User\n' }, expect: ['users/carol.yaml:1:1: expected a mapping (key: value lines) starting with apiVersion: coder-git/v1 and kind: User, got a list'] },
  { name: 'a scalar instead of a mapping', files: { 'users/carol.yaml': 'carol\n' }, expect: ['users/carol.yaml:1:1: expected a mapping (key: value lines) starting with apiVersion: coder-git/v1 and kind: User, got "carol"'] },
  { name: 'nesting too deep', files: { 'users/carol.yaml': `x: ${'['.repeat(20000)}${']'.repeat(20000)}\n` }, expect: ['users/carol.yaml:1:1: nested too deeply to read; a config file needs only a few levels'] },
  { name: 'a list as a key', files: { 'users/bob.yaml': `${bob}? [a, b]\n: c\n` }, expect: ['users/bob.yaml:6:3: a key must be a plain string, not a list, mapping or alias'] },
  { name: 'symlink', files: {}, setup: (d) => symlinkSync('/etc/passwd', path.join(d, 'users/carol.yaml')), expect: ['users/carol.yaml:1:1: a symbolic link is not followed; put the file itself here'] },
  { name: 'a link to a folder of workspaces', files: { 'elsewhere/dev.yaml': '# not read\n' }, setup: (d) => symlinkSync('../elsewhere', path.join(d, 'workspaces/carol')), expect: ['elsewhere/dev.yaml:1:1: not a coder-git file: config files are coder-git.yaml, users/<name>.yaml, groups/<name>.yaml, templates/<name>/template.yaml and workspaces/<owner>/<name>.yaml; move it, or into a folder whose name starts with "." to keep it out of coder-git\'s way', 'workspaces/carol:1:1: a symbolic link is not followed; put the folder or file itself here'] },
  { name: 'a link to a template folder', files: {}, setup: (d) => symlinkSync('/tmp', path.join(d, 'templates/big')), expect: ['templates/big:1:1: a symbolic link is not followed; put the folder or file itself here'] },
  { name: 'a link to the users folder', files: { 'users/alice.yaml': null, 'users/bob.yaml': null, [W]: null, 'workspaces/bob/box.yaml': null, 'people/.keep': '' }, setup: (d) => symlinkSync('people', path.join(d, 'users')), expect: ['users:1:1: a symbolic link is not followed; put the folder or file itself here'] },
  // ---- where files live
  { name: 'stray YAML at the root', files: { 'docker-compose.yaml': 'services: {}\n' }, expect: ['docker-compose.yaml:1:1: not a coder-git file: config files are coder-git.yaml, users/<name>.yaml, groups/<name>.yaml, templates/<name>/template.yaml and workspaces/<owner>/<name>.yaml; move it, or into a folder whose name starts with "." to keep it out of coder-git\'s way'] },
  { name: 'stray YAML in another folder', files: { 'docs/example.yml': 'a: 1\n' }, expect: ['docs/example.yml:1:1: not a coder-git file: config files are coder-git.yaml, users/<name>.yaml, groups/<name>.yaml, templates/<name>/template.yaml and workspaces/<owner>/<name>.yaml; move it, or into a folder whose name starts with "." to keep it out of coder-git\'s way'] },
  { name: 'nested user file', files: { 'users/team/carol.yaml': alice }, expect: ['users/team/carol.yaml:1:1: user files live directly in users/, as users/<username>.yaml'] },
  { name: '.yml extension', files: { 'users/carol.yml': alice }, expect: ['users/carol.yml:1:1: use the .yaml extension: users/carol.yaml'] },
  { name: 'workspace not in an owner folder', files: { 'workspaces/dev.yaml': aliceDev }, expect: ['workspaces/dev.yaml:1:1: workspace files live at workspaces/<owner>/<name>.yaml'] },
  { name: 'template as a file', files: { 'templates/big.yaml': smallTemplate }, expect: ['templates/big.yaml:1:1: a template is a folder: templates/<name>/template.yaml beside its .tf files'] },
  { name: 'template folder without template.yaml', files: { 'templates/orphan/main.tf': smallMain }, expect: ['templates/orphan/main.tf:1:1: templates/orphan/ has no template.yaml; add one (apiVersion: coder-git/v1, kind: Template) or move these files out of templates/'] },
  { name: 'no coder-git.yaml', files: { 'coder-git.yaml': null }, expect: ['coder-git.yaml:1:1: missing: a config repo has coder-git.yaml at its root (apiVersion: coder-git/v1, kind: Deployment); `coder-git init` makes one'] },
  { name: 'coder-git.yml', files: { 'coder-git.yaml': null, 'coder-git.yml': deployment }, expect: ['coder-git.yaml:1:1: missing: a config repo has coder-git.yaml at its root (apiVersion: coder-git/v1, kind: Deployment); `coder-git init` makes one', 'coder-git.yml:1:1: rename it to coder-git.yaml'] },
  // ---- schema
  { name: 'missing apiVersion', files: { 'users/bob.yaml': sub(bob, 'apiVersion: coder-git/v1\n', '') }, expect: ['users/bob.yaml:1:1: missing required key "apiVersion"'] },
  { name: 'unsupported apiVersion', files: { 'users/bob.yaml': sub(bob, 'coder-git/v1', 'coder-git/v2') }, expect: ['users/bob.yaml:1:13: apiVersion: "coder-git/v2" is not supported; this coder-git reads coder-git/v1'] },
  { name: 'wrong kind for the folder', files: { 'users/bob.yaml': sub(bob, 'kind: User', 'kind: Workspace') }, expect: ['users/bob.yaml:2:7: kind: "Workspace" does not belong here; a file in users/ is kind: User'] },
  { name: 'unknown key, with a suggestion', files: { 'users/bob.yaml': sub(bob, 'email:', 'emial:') }, expect: ['users/bob.yaml:1:1: missing required key "email"', 'users/bob.yaml:3:1: unknown key "emial" (did you mean "email"?); allowed keys here: apiVersion, kind, name, email, full_name, roles, login, status, password_hash, github, quota, schedule, shell, dotfiles'] },
  { name: 'role not in the enum', files: { 'users/bob.yaml': sub(bob, '[member]', '[member, admn]') }, expect: ['users/bob.yaml:4:17: roles[1]: "admn" is not one of owner, template-admin, user-admin, auditor, member'] },
  { name: 'bad email', files: { 'users/bob.yaml': sub(bob, 'bob@example.com', 'bob@') }, expect: ['users/bob.yaml:3:8: email: "bob@" is not an email address like alice@example.com'] },
  { name: 'role listed twice', files: { 'users/bob.yaml': sub(bob, '[member]', '[member, auditor, member]') }, expect: ['users/bob.yaml:4:26: roles[2]: "member" is listed twice'] },
  { name: 'a string where a list belongs', files: { 'users/bob.yaml': sub(bob, '[member]', 'member') }, expect: ['users/bob.yaml:4:8: roles: expected a list, got a string "member"'] },
  { name: 'status typo', files: { 'users/bob.yaml': `${bob}status: suspend\n` }, expect: ['users/bob.yaml:6:9: status: "suspend" is not one of active, suspended (did you mean "suspended"?)'] },
  { name: 'password_hash not a hash', files: { 'users/alice.yaml': `${alice}password_hash: hunter2\n` }, expect: ['users/alice.yaml:8:16: password_hash: "hunter2" must be an argon2id or scrypt hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash); make one with `coder-git hash-password`'] },
  { name: 'password_hash without password login', files: { 'users/bob.yaml': `${bob}password_hash: $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g\n` }, expect: ['users/bob.yaml:6:1: password_hash is only used with login: password (this user has login: none); remove it or change login'] },
  { name: 'access_url not a URL', files: { 'coder-git.yaml': sub(deployment, 'https://coder.example.com', 'coder.example.com') }, expect: ['coder-git.yaml:3:13: access_url: "coder.example.com" must be an http:// or https:// URL without query or fragment, like https://coder.example.com'] },
  { name: 'terraform binary', files: { 'coder-git.yaml': `${deployment}  binary: opentofu\n` }, expect: ['coder-git.yaml:7:11: terraform.binary: "opentofu" is not one of terraform, tofu'] },
  { name: 'oidc without client_secret_env', files: { 'coder-git.yaml': `${deployment}auth:\n  oidc:\n    issuer_url: https://id.example.com\n    client_id: coder\n` }, expect: ['coder-git.yaml:8:3: auth.oidc: missing required key "client_secret_env"'] },
  { name: "terraform.env hands a template coder-git's own encryption keys", files: { 'coder-git.yaml': `${deployment}  env: [TF_VAR_token, CODER_GIT_ENCRYPTION_KEYS]\n` }, expect: ["coder-git.yaml:7:23: terraform.env[1]: \"CODER_GIT_ENCRYPTION_KEYS\" must be an environment variable name (letters, digits and '_', not starting with a digit) and not one of coder-git's own CODER_GIT_* settings, whose secrets (the encryption keys among them) are the control plane's, never a template's"] },
  { name: 'login: github without auth.github', valid: true, files: { 'users/bob.yaml': sub(bob, 'login: none', 'login: github\ngithub: bob-builds') }, expect: ["users/bob.yaml:5:8: warning: login: github, but coder-git.yaml configures no auth.github; this user cannot sign in until it does"] },
  { name: 'one GitHub login for two users', files: { 'users/alice.yaml': `${alice}github: Bob-Builds\n`, 'users/bob.yaml': `${bob}github: bob-builds\n` }, expect: ["users/bob.yaml:6:9: github: \"bob-builds\" is already the GitHub login of users/alice.yaml:8; a GitHub account signs in as one user"] },
  { name: 'github allowed_teams without the organization', files: { 'coder-git.yaml': `${deployment}auth:\n  github:\n    client_id: Iv1.abc\n    client_secret_env: GITHUB_SECRET\n    allowed_teams: [platform]\n` }, expect: ["coder-git.yaml:11:21: auth.github.allowed_teams[0]: \"platform\" must be organization/team-slug, like acme/platform"] },
  { name: 'github base_url with a query', files: { 'coder-git.yaml': `${deployment}auth:\n  github:\n    client_id: Iv1.abc\n    client_secret_env: GITHUB_SECRET\n    base_url: https://github.example.com/?x=1\n` }, expect: ["coder-git.yaml:11:15: auth.github.base_url: \"https://github.example.com/?x=1\" must be an http:// or https:// URL without query, like https://github.example.com"] },
  { name: 'github without its client secret', files: { 'coder-git.yaml': `${deployment}auth:\n  github:\n    client_id: Iv1.abc\n` }, expect: ["coder-git.yaml:8:3: auth.github: missing required key \"client_secret_env\""] },
  { name: 'oidc client_secret_env is a secret, not a name', files: { 'coder-git.yaml': `${deployment}auth:\n  oidc:\n    issuer_url: https://id.example.com\n    client_id: coder\n    client_secret_env: s3cr3t-value!\n` }, expect: ['coder-git.yaml:11:24: auth.oidc.client_secret_env: "s3cr3t-value!" must be an environment variable name: letters, digits and \'_\', not starting with a digit'] },
  { name: 'notification webhook that is not a URL', files: { 'coder-git.yaml': `${deployment}notifications:\n  webhook_url: hooks.example.com/x\n  events: [sync_invalid, build_broke]\n` }, expect: ['coder-git.yaml:8:16: notifications.webhook_url: "hooks.example.com/x" must be an http:// or https:// URL', 'coder-git.yaml:9:26: notifications.events[1]: "build_broke" is not one of sync_invalid, sync_failed, build_failed, workspace_drifted, workspace_agent_lost'] },
  { name: 'built-in variable in terraform.variables', files: { 'coder-git.yaml': `${deployment}    coder_agent_token: x\n` }, expect: ['coder-git.yaml:7:5: terraform.variables: "coder_agent_token" is a built-in variable that coder-git sets itself; remove it'] },
  { name: 'parameter name not a variable name', files: { [T]: sub(smallTemplate, '  cpu:\n', '  CPU:\n') }, expect: [`${T}:5:3: parameters: "CPU" must be a Terraform variable name: a-z, 0-9 and '_', not starting with a digit or with coder_ (reserved for built-ins)`] },
  { name: 'parameter type', files: { [T]: sub(smallTemplate, 'type: integer', 'type: int') }, expect: [`${T}:6:11: parameters.cpu.type: "int" is not one of string, number, integer, boolean`] },
  { name: 'minimum on a string parameter', files: { [T]: sub(smallTemplate, '    pattern: "^[a-z]+$"\n', '    pattern: "^[a-z]+$"\n    minimum: 1\n') }, expect: [`${T}:18:5: parameters.label.minimum applies only to number and integer parameters`] },
  { name: 'default not in enum', files: { [T]: sub(smallTemplate, 'default: debian-12', 'default: debian-13') }, expect: [`${T}:13:14: parameters.image.default: "debian-13" is not one of debian-12, ubuntu-22.04 (did you mean "debian-12"?) (the parameter's own default)`] },
  { name: 'default over maximum', files: { [T]: sub(smallTemplate, 'default: 2', 'default: 9') }, expect: [`${T}:7:14: parameters.cpu.default: 9 is more than the maximum 8 (the parameter's own default)`] },
  { name: 'minimum above maximum', files: { [T]: sub(smallTemplate, 'minimum: 1', 'minimum: 10') }, expect: [`${T}:7:14: parameters.cpu.default: 2 is less than the minimum 10 (the parameter's own default)`, `${T}:8:14: parameters.cpu: minimum 10 is more than maximum 8`] },
  { name: 'enum value of the wrong type', files: { [T]: sub(smallTemplate, '[debian-12, ubuntu-22.04]', '[debian-12, 22]') }, expect: [`${T}:12:23: parameters.image.enum[1]: 22 is not a string`] },
  { name: 'pattern that is not a regular expression', files: { [T]: sub(smallTemplate, '"^[a-z]+$"', '"^[a-z+$"') }, expect: [`${T}:17:14: parameters.label.pattern: "^[a-z+$" is not a valid regular expression`] },
  { name: "pattern valid only without the u flag", files: { [T]: sub(smallTemplate, `"^[a-z]+$"`, `"a-z]+$"`) }, expect: [`${T}:17:14: parameters.label.pattern: "a-z]+$" is not a valid regular expression`] },
  { name: 'default_ttl over max_ttl', files: { [T]: sub(smallTemplate, 'default_ttl: 8h', 'default_ttl: 48h') }, expect: [`${T}:19:16: schedule.default_ttl: 48h is longer than max_ttl 24h`] },
  { name: 'ttl in days', files: { [T]: sub(smallTemplate, 'max_ttl: 24h', 'max_ttl: 1d') }, expect: [`${T}:20:12: schedule.max_ttl: "1d" must be a duration like 8h, 30m, 90s or 1h30m (hours, minutes, seconds; for days write 24h per day)`] },
  // ---- identity
  { name: 'template name field disagrees', files: { [T]: `${smallTemplate}name: big\n` }, expect: [`${T}:21:7: name: "big" disagrees with the folder name "small"; remove the field or make them equal`] },
  { name: 'user name field disagrees', files: { 'users/bob.yaml': `${bob}name: robert\n` }, expect: ['users/bob.yaml:6:7: name: "robert" disagrees with the file name "bob"; remove the field or make them equal'] },
  { name: 'workspace owner field disagrees', files: { 'workspaces/bob/box.yaml': `${bobBox}owner: alice\n` }, expect: ['workspaces/bob/box.yaml:5:8: owner: "alice" disagrees with the folder name "bob"; remove the field or make them equal'] },
  { name: 'username with capitals', files: { 'users/Carol.yaml': sub(alice, 'alice@', 'carol@') }, expect: ['users/Carol.yaml:1:1: "Carol" is not a valid user name (the file name): it must be a lower-case DNS label: a-z, 0-9 and "-", starting and ending with a letter or digit, at most 32 characters'] },
  { name: 'workspace name too long', files: { [`workspaces/alice/${'a'.repeat(33)}.yaml`]: aliceDev }, expect: [`workspaces/alice/${'a'.repeat(33)}.yaml:1:1: "${'a'.repeat(33)}" is not a valid workspace name (the file name): it must be a lower-case DNS label: a-z, 0-9 and "-", starting and ending with a letter or digit, at most 32 characters`] },
  { name: 'template folder name', files: { 'templates/Big_one/template.yaml': smallTemplate, 'templates/Big_one/main.tf': smallMain }, expect: ['templates/Big_one/template.yaml:1:1: "Big_one" is not a valid template name (the folder name): it must be a lower-case DNS label: a-z, 0-9 and "-", starting and ending with a letter or digit, at most 32 characters'] },
  // ---- the Terraform module
  { name: 'a port shared wider than the template allows', files: { [W]: `${aliceDev}ports:\n  - { port: 8080, share: public }\n` }, expect: [`${W}:12:26: ports[0].share: "public" is wider than template "small" allows (max_port_share: owner); use owner, or raise max_port_share in templates/small/template.yaml`] },
  { name: 'a port shared twice', files: { [T]: `${smallTemplate}max_port_share: public\n`, [W]: `${aliceDev}ports:\n  - { port: 8080, share: public }\n  - { port: 8080, share: authenticated }\n` }, expect: [`${W}:13:13: ports[1].port: 8080 is already shared by ports[0]; share each port once`] },
  { name: 'a port share level that does not exist', files: { [W]: `${aliceDev}ports:\n  - { port: 8080, share: everyone }\n` }, expect: [`${W}:12:26: ports[0].share: "everyone" is not one of owner, authenticated, public`] },
  { name: 'an app without a port', files: { [T]: `${smallTemplate}apps:\n  code:\n    display_name: VS Code\n` }, expect: [`${T}:22:3: apps.code: missing required key "port"`] },
  { name: 'an app name that is not a DNS label', files: { [T]: `${smallTemplate}apps:\n  Code_Server:\n    port: 8080\n` }, expect: [`${T}:22:3: apps: "Code_Server" must be a lower-case DNS label: a-z, 0-9 and '-', at most 32 characters`] },
  { name: 'a subdomain app without a wildcard access URL', files: { [T]: `${smallTemplate}apps:\n  code:\n    port: 8080\n    subdomain: true\n` }, expect: [`${T}:24:16: apps.code.subdomain: true, but coder-git.yaml sets no wildcard_access_url (like https://*.apps.example.com), so the app could not be reached; set one, or serve the app under the path (subdomain: false)`] },
  { name: 'template without .tf files', files: { [TF]: null }, expect: [`${T}:1:1: templates/small/ has no .tf files; a template is a Terraform module beside template.yaml`] },
  { name: 'parameter without a variable', files: { [TF]: sub(smallMain, 'variable "label" {\n  type = string\n}\n', '') }, expect: [`${T}:15:3: parameters.label: no variable "label" in templates/small/*.tf; declare it: variable "label" { type = string }`] },
  { name: 'variable type disagrees with the parameter', files: { [TF]: sub(smallMain, 'variable "cpu" {\n  type = number', 'variable "cpu" {\n  type = string') }, expect: [`${TF}:1:1: variable "cpu" has type string, but parameter cpu in template.yaml is integer (Terraform type number)`] },
  { name: 'variable Terraform would ask for', files: { [TF]: `${smallMain}\nvariable "zone" {\n  type = string\n}\n` }, expect: [`${TF}:25:1: variable "zone" has no default and no value: declare it as a parameter in template.yaml, give it a default, or set it in coder-git.yaml terraform.variables (or, for a secret, list TF_VAR_zone in terraform.env); otherwise Terraform would stop to ask for it`] },
  { name: 'unknown built-in variable', files: { [TF]: `${smallMain}\nvariable "coder_workspace_owner_name" {\n  type = string\n}\n` }, expect: [`${TF}:25:1: variable "coder_workspace_owner_name" is not a coder-git built-in (did you mean "coder_workspace_owner_email"?); built-ins: coder_workspace_id, coder_workspace_name, coder_workspace_owner, coder_workspace_owner_email, coder_workspace_transition, coder_access_url, coder_agent_token, coder_agent_command, coder_agent_init_script`] },
  { name: 'variable declared twice', files: { 'templates/small/extra.tf': 'variable "cpu" {\n  default = 1\n}\n' }, expect: ['templates/small/main.tf:1:1: variable "cpu" is declared twice (first at templates/small/extra.tf:1)'] },
  { name: 'unbalanced braces', files: { [TF]: `${smallMain}resource "terraform_data" "x" {\n` }, expect: [`${TF}:25:1: a block is not closed: missing "}"`] },
  // ---- cross-references
  { name: 'template does not exist', files: { [W]: sub(aliceDev, 'template: small', 'template: smal') }, expect: [`${W}:3:11: template: "smal" does not exist (did you mean "small"?); templates: small`] },
  { name: 'owner does not exist', files: { 'workspaces/carol/dev.yaml': aliceDev }, expect: ['workspaces/carol/dev.yaml:1:1: owner "carol" (the folder name) has no users/carol.yaml; add the user or move the workspace'] },
  { name: 'owner is suspended', files: { 'users/bob.yaml': `${bob}status: suspended\n` }, expect: ['workspaces/bob/box.yaml:1:1: owner "bob" is suspended (users/bob.yaml:6); a workspace needs an active owner: remove the workspace or reactivate the user'] },
  { name: 'undeclared parameter', files: { [W]: sub(aliceDev, '  cpu: 4', '  cpus: 4') }, expect: [`${W}:5:3: parameters.cpus: template "small" has no parameter "cpus" (did you mean "cpu"?); it declares: cpu, image, label`] },
  { name: 'parameter of the wrong type', files: { [W]: sub(aliceDev, 'cpu: 4', 'cpu: "4"') }, expect: [`${W}:5:8: parameters.cpu: expected a whole number, got a string "4" (template "small")`] },
  { name: 'parameter out of range', files: { [W]: sub(aliceDev, 'cpu: 4', 'cpu: 0') }, expect: [`${W}:5:8: parameters.cpu: 0 is less than the minimum 1 (template "small")`] },
  { name: 'parameter against its pattern', files: { [W]: sub(aliceDev, 'label: dev', 'label: Dev-1') }, expect: [`${W}:6:10: parameters.label: "Dev-1" must match the pattern ^[a-z]+$ (template "small")`] },
  { name: 'required parameter missing', files: { 'workspaces/bob/box.yaml': sub(bobBox, '{ label: box }', '{}') }, expect: ['workspaces/bob/box.yaml:4:1: parameters.label: template "small" requires a value for "label" (string, no default)'] },
  { name: 'a list as a parameter value', files: { [W]: sub(aliceDev, 'cpu: 4', 'cpu: [4]') }, expect: [`${W}:5:8: parameters.cpu: expected a string or a number or true or false, got a list`] },
  { name: 'ttl over the template maximum', files: { [W]: sub(aliceDev, 'ttl: 8h', 'ttl: 25h') }, expect: [`${W}:10:8: schedule.ttl: 25h is longer than template "small" allows (max_ttl 24h)`] },
  { name: 'ttl too short', files: { [W]: sub(aliceDev, 'ttl: 8h', 'ttl: 30s') }, expect: [`${W}:10:8: schedule.ttl: 30s is too short; at least 1m`] },
  { name: 'cron with six fields', files: { [W]: sub(aliceDev, '0 9 * * 1-5', '0 0 9 * * 1-5') }, expect: [`${W}:9:14: schedule.autostart: expected 5 fields (minute hour day-of-month month day-of-week) after an optional CRON_TZ=<zone>, got 6: "CRON_TZ=Europe/Berlin 0 0 9 * * 1-5"`] },
  { name: 'cron time zone', files: { [W]: sub(aliceDev, 'Europe/Berlin', 'Europe/Berln') }, expect: [`${W}:9:14: schedule.autostart: CRON_TZ=Europe/Berln: unknown time zone; use an IANA name like Europe/Berlin or UTC`] },
  { name: 'cron hour out of range', files: { [W]: sub(aliceDev, '0 9 * * 1-5', '0 24 * * 1-5') }, expect: [`${W}:9:14: schedule.autostart: hour field: 24 is out of range 0-23`] },
  { name: 'cron range backwards', files: { [W]: sub(aliceDev, '1-5', 'FRI-MON') }, expect: [`${W}:9:14: schedule.autostart: day-of-week field "FRI-MON": range FRI-MON runs backwards`] },
  { name: 'two users with one email', files: { 'users/carol.yaml': sub(alice, 'Alice Liddell', 'Carol') }, expect: ['users/carol.yaml:3:8: email: "alice@example.com" is already the email of users/alice.yaml:3; each user needs their own'] },
  { name: 'state typo', files: { [W]: sub(aliceDev, 'state: running', 'state: runing') }, expect: [`${W}:7:8: state: "runing" is not one of running, stopped (did you mean "running"?)`] },
  { name: 'a schema error does not hide the rest of the file', files: { [W]: sub(sub(aliceDev, 'state: running', 'state: up'), 'template: small', 'template: smal') }, expect: [`${W}:3:11: template: "smal" does not exist (did you mean "small"?); templates: small`, `${W}:7:8: state: "up" is not one of running, stopped`] },
  { name: 'a broken user file does not make its workspaces orphans', files: { 'users/bob.yaml': sub(bob, 'login: none', 'login: nope') }, expect: ['users/bob.yaml:5:8: login: "nope" is not one of password, oidc, github, none (did you mean "none"?)'] },
  // ---- groups, quotas, per-user defaults
  { name: 'group member without a user file', files: { [G]: sub(devs, '[alice, bob]', '[alice, bbo]') }, expect: ['groups/devs.yaml:3:18: members[1]: "bbo" has no users/bbo.yaml (did you mean "bob"?); add the user or remove the member'] },
  { name: 'group file of the wrong kind', files: { [G]: sub(devs, 'kind: Group', 'kind: User') }, expect: ['groups/devs.yaml:2:7: kind: "User" does not belong here; a file in groups/ is kind: Group'] },
  { name: 'group file in a subfolder', files: { 'groups/eng/devs.yaml': devs }, expect: ['groups/eng/devs.yaml:1:1: group files live directly in groups/, as groups/<name>.yaml'] },
  { name: 'group role typo', files: { [G]: sub(devs, 'template-admin', 'template-admn') }, expect: ['groups/devs.yaml:4:9: roles[0]: "template-admn" is not one of owner, template-admin, user-admin, auditor, member (did you mean "template-admin"?)'] },
  { name: 'group member listed twice', files: { [G]: sub(devs, '[alice, bob]', '[alice, bob, alice]') }, expect: ['groups/devs.yaml:3:23: members[2]: "alice" is listed twice'] },
  { name: 'quota: more workspaces than the user may own', files: { 'users/bob.yaml': `${bob}quota:\n  workspaces: 0\n` }, expect: ['workspaces/bob/box.yaml:1:1: bob would own 1 workspace (box); quota.workspaces (users/bob.yaml:7) allows 0: remove one or raise the quota'] },
  { name: "quota: a group's running limit", files: { [G]: `${devs}quota:\n  running: 0\n` }, expect: ['workspaces/alice/dev.yaml:7:8: alice would run 1 workspace (dev); quota.running (groups/devs.yaml:6) allows 0: set state: stopped on one or raise the quota', 'workspaces/bob/box.yaml:1:1: bob would run 1 workspace (box); quota.running (groups/devs.yaml:6) allows 0: set state: stopped on one or raise the quota'] },
  { name: "quota: the user's own limit replaces the group's", valid: true, files: { [G]: `${sub(devs, '[alice, bob]', '[alice]')}quota:\n  running: 0\n`, 'users/alice.yaml': `${alice}quota: { running: 1 }\n` }, expect: [] },
  { name: 'quota: a budget the running workspaces exceed', files: { [T]: `${smallTemplate}cost:\n  base: 1\n  parameters:\n    cpu: 0.5\n    image: { ubuntu-22.04: 2 }\n`, 'users/alice.yaml': `${alice}quota:\n  budget: 2.5\n` }, expect: [`workspaces/alice/dev.yaml:5:3: alice's running workspaces would cost 3 (dev 3); quota.budget (users/alice.yaml:9) allows 2.5: stop one, choose smaller parameters or raise the quota`] },
  { name: 'quota: a negative limit', files: { 'users/bob.yaml': `${bob}quota: { running: -1 }\n` }, expect: ['users/bob.yaml:6:19: quota.running: -1 is less than the minimum 0'] },
  { name: 'cost of a parameter the template does not declare', files: { [T]: `${smallTemplate}cost:\n  parameters:\n    cpus: 1\n` }, expect: ['templates/small/template.yaml:23:5: cost.parameters.cpus: no parameter "cpus" (did you mean "cpu"?); it declares: cpu, image, label'] },
  { name: 'cost rate on a string parameter', files: { [T]: `${smallTemplate}cost:\n  parameters:\n    label: 1\n` }, expect: ['templates/small/template.yaml:23:12: cost.parameters.label: a rate per unit needs a number parameter, and "label" is string; give a price per value instead, like label: {value: 1}'] },
  { name: 'cost price of a value the parameter cannot take', files: { [T]: `${smallTemplate}cost:\n  parameters:\n    image: { debian-11: 1 }\n` }, expect: ['templates/small/template.yaml:23:14: cost.parameters.image.debian-11: "debian-11" is not a value of parameter image (did you mean "debian-12"?); values: debian-12, ubuntu-22.04'] },
  { name: "user's default autostart is not cron", files: { 'users/bob.yaml': `${bob}schedule:\n  autostart: "9am"\n` }, expect: ['users/bob.yaml:7:14: schedule.autostart: expected 5 fields (minute hour day-of-month month day-of-week) after an optional CRON_TZ=<zone>, got 1: "9am"'] },
  { name: "user's default ttl is longer than a template allows", files: { 'users/bob.yaml': `${bob}schedule:\n  ttl: 48h\n` }, expect: [`workspaces/bob/box.yaml:3:11: schedule.ttl: the owner's default 48h (users/bob.yaml:7) is longer than template "small" allows (max_ttl 24h); set a shorter schedule.ttl in this file`] },
  { name: 'shell is not an absolute path', files: { 'users/bob.yaml': `${bob}shell: zsh\n` }, expect: ['users/bob.yaml:6:8: shell: "zsh" must be an absolute path like /bin/bash'] },
  { name: 'dotfiles without a repository', files: { 'users/bob.yaml': `${bob}dotfiles:\n  install_script: /install.sh\n` }, expect: ['users/bob.yaml:6:1: dotfiles: missing required key "repository"', 'users/bob.yaml:7:19: dotfiles.install_script: "/install.sh" must be a path inside the repository, like install.sh'] },
  { name: 'github login with a bad character', files: { 'users/bob.yaml': `${bob}github: bob_the_builder\n` }, expect: [`users/bob.yaml:6:9: github: "bob_the_builder" must be a GitHub login: letters, digits and single '-' between them, at most 39 characters`] },
  { name: 'signatures: an allowed-signers path outside the repository', files: { 'coder-git.yaml': `${deployment}signatures:\n  required: true\n  allowed_signers: /etc/allowed_signers\n` }, expect: ['coder-git.yaml:9:20: signatures.allowed_signers: "/etc/allowed_signers" must be a path inside the repository, like .coder-git/allowed_signers'] },
  { name: 'signatures: a GPG key that is not a key id', files: { 'coder-git.yaml': `${deployment}signatures:\n  required: true\n  gpg_keys: [alice@example.com]\n` }, expect: ['coder-git.yaml:9:14: signatures.gpg_keys[0]: "alice@example.com" must be a GPG key id or fingerprint (16 to 40 hex digits)'] },
  // ---- warnings only
  { name: 'oidc_group without a groups claim', valid: true, files: { [G]: `${devs}oidc_group: platform\n` }, expect: ['groups/devs.yaml:5:13: warning: oidc_group: "platform", but coder-git.yaml sets no auth.oidc.groups_claim, so no sign-in brings members; set auth.oidc.groups_claim (often "groups")'] },
  { name: 'a workspace opts out of its owner\'s autostart', valid: true, files: { 'users/bob.yaml': `${bob}schedule:\n  autostart: "0 9 * * 1-5"\n  ttl: 4h\n`, 'workspaces/bob/box.yaml': `${bobBox}schedule:\n  autostart: "off"\n` }, expect: [] },
  { name: 'oidc login without oidc configured', valid: true, files: { 'users/bob.yaml': sub(bob, 'login: none', 'login: oidc') }, expect: ['users/bob.yaml:5:8: warning: login: oidc, but coder-git.yaml configures no auth.oidc; this user cannot sign in until it does'] },
];

const render = (d: Diagnostic) => `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;

test('the base repo is valid', async () => {
  const dir = gitRepo(baseFiles());
  for (const ref of [undefined, 'HEAD']) {
    const { result } = await loadConfig({ dir, ref });
    assert.equal(result.diagnostics.map(render), []);
    assert.ok(result.state);
    assert.equal(result.counts, { users: 2, groups: 0, templates: 1, workspaces: 2 });
  }
});

test(`the corpus has at least 60 defects (${cases.length})`, () => {
  assert.ok(cases.length >= 60);
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique');
});

for (const c of cases) {
  test(`bad repo: ${c.name}`, async () => {
    const dir = gitRepo({ ...baseFiles(), ...c.files });
    if (c.setup) {
      c.setup(dir);
      const { git } = await import('../helpers/git.ts');
      git(dir, 'add', '--all');
      git(dir, 'commit', '-qm', 'setup');
    }
    for (const ref of [undefined, 'HEAD']) {
      const { result } = await loadConfig({ dir, ref });
      assert.equal(result.diagnostics.map(render), c.expect, `${ref ?? 'working tree'}`);
      assert.is(result.state !== undefined, c.valid === true, `${ref ?? 'working tree'}: valid`);
    }
  });
}

test('cleanup', () => cleanup());
test.run();
