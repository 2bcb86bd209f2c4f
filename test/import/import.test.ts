// `coder-git import --from-coder` through the CLI against a stand-in of Coder's REST API: the repo it
// writes validates, maps users, templates (files, parameters, schedules, variables) and workspaces
// (parameters, state, autostart, ttl), and lists everything it could not carry over.
import { test } from 'uvu';
import { execFileSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { cli } from '../helpers/cli.ts';
import { cleanup, git, tempDir } from '../helpers/git.ts';
import { CODER_TOKEN, coderStandin, type CoderStandin } from '../helpers/coder-standin.ts';
import { readTar } from '../../src/import/tar.ts';

let coder: CoderStandin;
const base = tempDir();
const target = path.join(base, 'imported');
let out = '';
const yamlOf = (rel: string) => parse(readFileSync(path.join(target, rel), 'utf8'));

test('import writes a config repo that validates, committed', async () => {
  coder = await coderStandin();
  const r = await cli(['import', '--from-coder', coder.url, target], { env: { CODER_SESSION_TOKEN: CODER_TOKEN }, timeoutMs: 60_000 });
  out = r.stdout;
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /read 124 users, 2 templates, 4 workspaces from http/);
  assert.match(r.stdout, /wrote .*imported: 124 users, 2 templates, 3 workspaces \(commit [0-9a-f]{12}\)/);
  assert.ok(coder.requests.includes('GET /api/v2/users?limit=100&offset=100'), 'users read page by page');
  const v = await cli(['validate', '-C', target]);
  assert.is(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /valid: the working tree: 124 users, 2 templates, 3 workspaces/);
  assert.is(git(target, 'status', '--porcelain'), '', 'everything committed');
  assert.match(git(target, 'log', '--format=%s'), /Import from Coder at http/);
});

test('users: roles, sign-in and status mapped; what is not, listed', () => {
  assert.equal(yamlOf('users/admin.yaml'), { apiVersion: 'coder-git/v1', kind: 'User', email: 'admin@example.com', full_name: 'Ada Admin', roles: ['owner'], login: 'password', status: 'active' });
  assert.equal(yamlOf('users/alice.yaml').login, 'oidc');
  assert.equal(yamlOf('users/alice.yaml').roles, ['member']);
  const bob = yamlOf('users/bob.yaml');
  assert.equal([bob.roles, bob.login, bob.status], [['template-admin'], 'github', 'active']);
  assert.is(yamlOf('users/carol.yaml').status, 'suspended');
  assert.match(out, /user bob: role organization-admin not mapped/);
  assert.match(out, /users bob: sign in with GitHub, imported with login: github, matched by their verified email at sign-in/);
  assert.match(out, /user bob: dormant in Coder; imported as active/);
  assert.match(out, /users admin, carol: sign in with a password, whose hash Coder does not reveal/);
});

test('templates: files as they were, parameters typed, renamed where Terraform needs it, schedule limits, variables', () => {
  const dir = path.join(target, 'templates/docker-dev');
  assert.is(readFileSync(path.join(dir, 'scripts/setup.sh'), 'utf8'), '#!/bin/sh\necho set up\n');
  assert.match(readFileSync(path.join(dir, 'main.tf'), 'utf8'), /resource "coder_agent" "main"/);
  assert.not.ok(existsSync(path.join(dir, 'latest.tf')), 'a symlink is not imported');
  assert.match(out, /template docker-dev: latest\.tf \(symlink\) not imported/);
  const t = yamlOf('templates/docker-dev/template.yaml');
  assert.equal(t.parameters, {
    cpu: { type: 'number', display_name: 'CPU cores', default: 2, enum: [2, 4, 8] },
    image: { type: 'string', default: 'ubuntu', mutable: false },
    dotfiles_url: { type: 'string', display_name: 'Dotfiles', default: '', pattern: '^(https://.*)?$' },
    debug: { type: 'boolean', default: false },
  });
  assert.equal(t.schedule, { default_ttl: '8h', max_ttl: '24h' });
  assert.is(t.display_name, 'Docker development');
  const declared = readFileSync(path.join(dir, 'coder-git-parameters.tf'), 'utf8');
  for (const [n, ty] of [['cpu', 'number'], ['image', 'string'], ['dotfiles_url', 'string'], ['debug', 'bool']]) assert.match(declared, new RegExp(`variable "${n}" \\{\\n  type = ${ty}\\n\\}`));
  assert.match(out, /parameter Dotfiles-URL is named dotfiles_url/);
  assert.match(out, /parameter extensions is a list\(string\); .*not imported/);
  assert.match(out, /parameter debug is ephemeral in Coder/);
  assert.match(out, /template docker-dev: uses the coder provider \(data\.coder_workspace, data\.coder_parameter, resource|template docker-dev: uses the coder provider \(.*coder_agent/);
  assert.match(out, /activity bump \(1h\) not mapped/);

  // The k8s template lived in another organization; its parameter is required (no default) and bounded.
  const k = yamlOf('templates/k8s/template.yaml');
  assert.equal(k.parameters, { home_size: { type: 'number', display_name: 'Home disk (GiB)', minimum: 10, maximum: 100 } });
  assert.not.ok(existsSync(path.join(target, 'templates/k8s/coder-git-parameters.tf')), 'its variable is declared already');
  assert.match(out, /template k8s: the autostop requirement \(saturday, sunday\) has no coder-git equivalent/);
  assert.match(out, /template k8s: deprecated in Coder/);
  assert.match(out, /parameter home_size must only grow in Coder/);

  // Template variables: a plain value becomes deployment-wide; a secret must come from the environment.
  const d = yamlOf('coder-git.yaml');
  assert.equal(d.terraform.variables, { docker_host: 'unix:///var/run/docker.sock' });
  assert.equal(d.terraform.env, ['TF_VAR_registry_password']);
  assert.match(out, /variable registry_password is sensitive, .*set TF_VAR_registry_password/);
});

test('workspaces: template, typed parameters, stopped or running, autostart and ttl; deleted ones left out', () => {
  assert.equal(yamlOf('workspaces/admin/dev.yaml'), {
    apiVersion: 'coder-git/v1',
    kind: 'Workspace',
    template: 'docker-dev',
    parameters: { cpu: 4, image: 'ubuntu', dotfiles_url: 'https://github.com/admin/dotfiles', debug: true },
    state: 'running',
    schedule: { autostart: 'CRON_TZ=Europe/Berlin 30 9 * * 1-5', ttl: '8h' },
  });
  assert.equal(yamlOf('workspaces/alice/k8s-box.yaml'), { apiVersion: 'coder-git/v1', kind: 'Workspace', template: 'k8s', parameters: { home_size: 20 }, state: 'stopped' });
  assert.not.ok(existsSync(path.join(target, 'workspaces/carol/old.yaml')));
  assert.equal(yamlOf('workspaces/bob/lab.yaml'), { apiVersion: 'coder-git/v1', kind: 'Workspace', template: 'docker-dev', parameters: { cpu: 8, image: 'ubuntu' }, state: 'stopped' });
  assert.match(out, /workspace bob\/lab: dormant in Coder; imported as stopped/);
  assert.match(out, /workspace bob\/lab: automatic updates were on/);
  assert.match(out, /workspace bob\/lab: its last build in Coder failed/);
  assert.match(out, /workspace carol\/old: being deleted in Coder; not imported/);
  assert.match(out, /workspace admin\/dev: on an older version of docker-dev/);
  const notes = readFileSync(path.join(target, 'IMPORT-NOTES.md'), 'utf8');
  assert.match(notes, /^# Imported from Coder/);
  assert.match(notes, /- workspace carol\/old: being deleted/);
});

test('the GitHub and GitLab pipelines come along, as with init', () => {
  assert.ok(existsSync(path.join(target, '.github/workflows/coder-git.yaml')));
  assert.ok(existsSync(path.join(target, '.gitlab-ci.yml')));
});

test('refusals: no token, a token Coder refuses, a folder that is not empty, not a URL', async () => {
  let r = await cli(['import', '--from-coder', coder.url, path.join(base, 'a')], { env: { CODER_SESSION_TOKEN: '' } });
  assert.is(r.code, 64);
  assert.match(r.stderr, /no Coder token: set CODER_SESSION_TOKEN/);
  r = await cli(['import', '--from-coder', coder.url, path.join(base, 'b')], { env: { CODER_SESSION_TOKEN: 'wrong' } });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Coder answered 401 to GET \/api\/v2\/(users|templates|workspaces): .*logged in/);
  assert.match(r.stderr, /hint: set CODER_SESSION_TOKEN/);
  assert.not.ok(existsSync(path.join(base, 'b', 'coder-git.yaml')), 'nothing written');
  mkdirSync(path.join(base, 'c'));
  writeFileSync(path.join(base, 'c', 'x'), '');
  r = await cli(['import', '--from-coder', coder.url, path.join(base, 'c')], { env: { CODER_SESSION_TOKEN: CODER_TOKEN } });
  assert.is(r.code, 1);
  assert.match(r.stderr, /is not empty \(x\)/);
  r = await cli(['import', '--from-coder', 'coder.example.com', path.join(base, 'd')], { env: { CODER_SESSION_TOKEN: CODER_TOKEN } });
  assert.is(r.code, 64);
  assert.match(r.stderr, /--from-coder "coder\.example\.com": expected the deployment's URL/);
});

async function rejects(p: Promise<unknown>, re: RegExp, what = ''): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match((err as Error).message, re, what);
    return;
  }
  assert.unreachable(`${what}: expected a refusal`);
}

test('tar reader: PAX long names, folders, a truncated archive refused', async () => {
  const dir = tempDir();
  const long = `${'deep/'.repeat(30)}file.tf`;
  mkdirSync(path.dirname(path.join(dir, long)), { recursive: true });
  writeFileSync(path.join(dir, long), 'x = 1\n');
  const tar = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, '.']);
  const t = await readTar(tar);
  assert.equal(t.files.map((f) => [f.path, f.content.toString()]), [[long, 'x = 1\n']]);
  assert.ok(lstatSync(dir).isDirectory());
  await rejects(readTar(tar.subarray(0, 1024 + 600)), /cut short|unexpected end/i);
});

test('tar reader: non-ASCII names in PAX headers from GNU tar and Python, byte for byte; a bad checksum refused', async () => {
  const dir = tempDir();
  const names = ['méin.tf', 'scripts/überall-日本.sh'];
  for (const n of names) {
    mkdirSync(path.dirname(path.join(dir, n)), { recursive: true });
    writeFileSync(path.join(dir, n), `# ${n}\n`);
  }
  const gnu = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, ...names]);
  // Python's tarfile writes a PAX header for any non-ASCII name (as Go's archive/tar, which Coder uses, does)
  const py = execFileSync('python3', ['-c', `import tarfile,sys,io\nb=io.BytesIO()\nwith tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:\n  [t.add(sys.argv[1]+'/'+n, arcname=n) for n in sys.argv[2:]]\nsys.stdout.buffer.write(b.getvalue())`, dir, ...names]);
  for (const [who, tar] of [['GNU tar', gnu], ['Python', py]] as const) {
    const t = await readTar(tar);
    assert.equal(t.files.map((f) => [f.path, f.content.toString()]).sort(), names.map((n) => [n, `# ${n}\n`]).sort(), who);
  }
  const bad = Buffer.from(gnu);
  bad[1024 + 10]! ^= 0x20; // a byte of the first file's ustar header (its name), after its PAX header and record
  await rejects(readTar(bad), /checksum|invalid/i, 'a header that does not match its checksum');
});

test('cleanup', async () => {
  await coder.close();
  cleanup();
});

test.run();
