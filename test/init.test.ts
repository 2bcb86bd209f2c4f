// `coder-git init`: a config repo that validates as it is, committed, with CI pipelines.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cli } from './helpers/cli.ts';
import { cleanup, git, tempDir } from './helpers/git.ts';
import { initRepo, BUILTIN_TEMPLATES } from '../src/init.ts';
import { loadConfig } from '../src/config/index.ts';
import { CoderGitError } from '../src/errors.ts';
import { VERSION } from '../src/version.ts';
import { schemaText, type SchemaKind } from '../src/config/schemas.ts';

const defaults = { admin: 'admin', adminEmail: 'admin@example.com', workspace: 'dev', templates: ['local'], accessUrl: 'http://127.0.0.1:3000', commit: true };

test('init makes a committed repo that validates, in the working tree and at HEAD', async () => {
  const dir = path.join(tempDir(), 'config');
  const r = await cli(['init', dir], { env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Created config repo .*config \(commit [0-9a-f]{12}\)/);
  for (const ref of [undefined, 'HEAD']) {
    const { result } = await loadConfig({ dir, ref });
    assert.equal(result.diagnostics, []);
    assert.equal(result.counts, { users: 1, groups: 0, templates: 1, workspaces: 1 });
    const ws = result.state!.workspaces.get('admin/dev')!;
    assert.is(ws.template, 'local');
    assert.is(ws.state, 'running');
    assert.equal(ws.parameters, {}, 'a workspace on local needs no parameters');
    assert.equal(result.state!.users.get('admin')!.roles, ['owner']);
  }
  assert.is(git(dir, 'status', '--porcelain'), '', 'everything is committed');
  assert.is(git(dir, 'log', '--format=%an <%ae>').trim(), 'coder-git <coder-git@localhost>', 'a fallback identity when git has none');
  for (const f of ['.github/workflows/coder-git.yaml', '.gitlab-ci.yml', 'README.md', 'templates/local/main.tf']) assert.ok(existsSync(path.join(dir, f)), f);
  const wf = readFileSync(path.join(dir, '.github/workflows/coder-git.yaml'), 'utf8');
  assert.ok(wf.includes(`CODER_GIT: npx --yes coder-git@${VERSION}\n`), 'the pipeline runs the coder-git version that made the repo');
  assert.ok(readFileSync(path.join(dir, '.gitlab-ci.yml'), 'utf8').includes(`CODER_GIT: npx --yes coder-git@${VERSION}\n`));
  assert.match(wf, /validate --format github/);
  // A first CODEOWNERS, current for the repo as made (the admin has no github login yet: said so).
  assert.match(readFileSync(path.join(dir, '.github/CODEOWNERS'), 'utf8'), /^# without a github login \(their workspaces fall back to the owners\): admin$/m);
  const current = await cli(['codeowners', '--check', '-C', dir]);
  assert.equal([current.code, current.stdout], [0, '.github/CODEOWNERS is current\n'], current.stderr);
});

test('scaffolded YAML files start with a modeline naming the repo\'s own copy of their schema (offline, this version)', async () => {
  const dir = tempDir();
  await initRepo({ ...defaults, dir, commit: false });
  for (const [f, kind] of [['coder-git.yaml', 'deployment'], ['users/admin.yaml', 'user'], ['workspaces/admin/dev.yaml', 'workspace'], ['templates/local/template.yaml', 'template']]) {
    const first = readFileSync(path.join(dir, f!), 'utf8').split('\n')[0]!;
    const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
    assert.ok(ref, `${f}: ${first}`);
    const schemaFile = path.resolve(path.dirname(path.join(dir, f!)), ref!);
    assert.is(schemaFile, path.join(dir, '.coder-git/schemas', `${kind}.json`), f);
    assert.is(readFileSync(schemaFile, 'utf8'), schemaText(kind as SchemaKind), `${f}: the copy is this version's schema`);
  }
  const settings = JSON.parse(readFileSync(path.join(dir, '.vscode/settings.json'), 'utf8'))['yaml.schemas'] as Record<string, string>;
  assert.equal(settings, {
    './.coder-git/schemas/deployment.json': 'coder-git.yaml',
    './.coder-git/schemas/user.json': 'users/*.yaml',
    './.coder-git/schemas/template.json': 'templates/*/template.yaml',
    './.coder-git/schemas/workspace.json': 'workspaces/*/*.yaml',
    './.coder-git/schemas/group.json': 'groups/*.yaml',
  });
  assert.not.ok(existsSync(path.join(dir, '.git')), '--no-commit leaves git alone');
});

test('init with every built-in template validates; names and emails come from the flags', async () => {
  const dir = tempDir();
  await initRepo({ ...defaults, dir, admin: 'ops', adminEmail: 'ops@corp.example', workspace: 'main', templates: [...BUILTIN_TEMPLATES] });
  const { result } = await loadConfig({ dir, ref: 'HEAD' });
  assert.equal(result.diagnostics, []);
  assert.equal([...result.state!.templates.keys()].sort(), ['aws-ec2', 'docker', 'kubernetes', 'local', 'sandbox']);
  assert.is(result.state!.users.get('ops')!.email, 'ops@corp.example');
  assert.ok(result.state!.workspaces.get('ops/main'));
});

test('init in an existing git repository commits there', async () => {
  const dir = tempDir();
  git(dir, 'init', '-q', '--initial-branch=trunk');
  await initRepo({ ...defaults, dir });
  assert.is(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD').trim(), 'trunk');
});

test('init refuses a non-empty directory and bad flags, writing nothing', async () => {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'users'));
  writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  const refuse = async (opts: Partial<typeof defaults>, code: string, re: RegExp, where = dir) => {
    try {
      await initRepo({ ...defaults, ...opts, dir: where });
      assert.unreachable();
    } catch (err) {
      assert.instance(err, CoderGitError);
      assert.is((err as CoderGitError).code, code);
      assert.match((err as Error).message, re);
    }
  };
  await refuse({}, 'CG_EXISTS', /is not empty \(notes\.txt, users\)/);
  assert.not.ok(existsSync(path.join(dir, 'coder-git.yaml')));
  const empty = tempDir();
  await refuse({ admin: 'Admin' }, 'CG_USAGE', /--admin "Admin": must be a lower-case DNS label/, empty);
  await refuse({ workspace: 'my_ws' }, 'CG_USAGE', /--workspace "my_ws"/, empty);
  await refuse({ adminEmail: 'nobody' }, 'CG_USAGE', /--admin-email "nobody": must be an email address/, empty);
  await refuse({ accessUrl: 'ftp://x' }, 'CG_USAGE', /--access-url "ftp:\/\/x"/, empty);
  await refuse({ templates: ['vmware'] }, 'CG_USAGE', /--template vmware: no such built-in template; there are local, sandbox, docker, kubernetes, aws-ec2/, empty);
  assert.equal(readdirSync(empty), [], 'refused runs write nothing');
});

test('cleanup', () => cleanup());
test.run();
