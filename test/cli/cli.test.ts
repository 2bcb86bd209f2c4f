// The command line as a user meets it: help text kept as golden files, exit codes, output formats.
// UPDATE_GOLDEN=1 npm test -- cli   rewrites the golden files after an intended change.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../helpers/cli.ts';
import { golden } from '../helpers/golden.ts';
import { cleanup, gitRepo, tempDir } from '../helpers/git.ts';
import { aliceDev, baseFiles } from '../fixtures/base.ts';


const COMMANDS = ['', 'validate', 'check', 'codeowners', 'init', 'import', 'schema', 'hash-password', 'plan', 'apply', 'comment', 'runner', 'status', 'server', 'login', 'logout', 'list', 'publickey', 'ssh', 'config-ssh', 'port-forward', 'agent', 'up', 'db', 'db migrate', 'db status', 'db url', 'db stop', 'db rotate-keys', 'version', 'logs', 'completion'];

test('--help of every command matches its golden file', async () => {
  const results = await Promise.all(COMMANDS.map((c) => cli([...(c ? c.split(' ') : []), '--help'])));
  results.forEach((r, i) => {
    assert.is(r.code, 0, `${COMMANDS[i]} --help exits 0`);
    golden(`help/${(COMMANDS[i] || 'coder-git').replace(' ', '-')}.txt`, r.stdout);
  });
});

test('--version prints the package version', async () => {
  const r = await cli(['--version']);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.is(r.stdout.trim(), pkg.version);
  assert.is(r.code, 0);
});

test('the bundle and the sources behave the same (a stale bundle is never run)', async () => {
  const dir = gitRepo({ ...baseFiles(), 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 9') });
  const bundled = await cli(['validate', '--format', 'json'], { cwd: dir });
  const source = await cli(['validate', '--format', 'json'], { cwd: dir, env: { CODER_GIT_FROM_SOURCE: '1' } });
  assert.is(bundled.code, 1);
  assert.is(source.code, 1);
  assert.is(bundled.stdout, source.stdout);
});

test('bundle or sources: a checkout runs the bundle only while its sources hash the same; an installed copy always runs it; mtimes never matter', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const info = JSON.parse(readFileSync(path.join(root, 'dist/build.json'), 'utf8')) as { sources: string[] };
  const copy = tempDir('coder-git-copy-');
  for (const f of ['bin', 'dist', 'schemas', 'package.json', ...info.sources]) cpSync(path.join(root, f), path.join(copy, f), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
  mkdirSync(path.join(copy, '.git'));
  const build = async () => JSON.parse((await cli(['version', '--json'], { bin: path.join(copy, 'bin/coder-git.js') })).stdout).build as string;
  assert.is(await build(), 'bundle', 'a checkout whose bundle was built from its sources');
  const old = new Date('2000-01-01T00:00:00Z');
  const later = new Date(Date.now() + 3_600_000);
  utimesSync(path.join(copy, 'dist/coder-git.mjs'), old, old);
  utimesSync(path.join(copy, info.sources[0]!), later, later);
  assert.is(await build(), 'bundle', 'a source newer than the bundle by its mtime, but the same content');
  appendFileSync(path.join(copy, 'src/version.ts'), '\n// edited\n');
  assert.is(await build(), 'source', 'an edited source is never shadowed by the bundle');
  rmSync(path.join(copy, '.git'), { recursive: true });
  assert.is(await build(), 'bundle', 'an installed package (no .git) runs its bundle');
});

test('--json is short for --format json', async () => {
  const dir = gitRepo(baseFiles());
  for (const cmd of [['validate'], ['version']]) {
    const a = await cli([...cmd, '--json'], { cwd: dir });
    const b = await cli([...cmd, '--format', 'json'], { cwd: dir });
    assert.is(a.code, 0, a.stderr);
    assert.is(a.stdout, b.stdout, cmd.join(' '));
    JSON.parse(a.stdout);
  }
  for (const c of COMMANDS.filter(Boolean)) {
    const h = (await cli([...c.split(' '), '--help'])).stdout;
    if (/--format\b[\s\S]*json/.test(h)) assert.match(h, /--json\s+Short for --format json/, `${c} --help`);
  }
});

test('usage errors exit 64 and say what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [[], /Name a command/],
    [['valdate'], /Did you mean validate|Unknown argument: valdate/],
    [['validate', '--format', 'yaml'], /Invalid values:[\s\S]*format[\s\S]*"yaml"/],
    [['validate', '--bogus'], /Unknown argument: bogus/],
    [['schema', 'pony'], /Invalid values/],
    [['init', '--admin', 'Root'], /--admin "Root": must be a lower-case DNS label/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args, { cwd: tempDir() });
    assert.is(r.code, 64, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('validate: exit 0 when valid, 1 when not; --dir, -C and CODER_GIT_DIR name the repo', async () => {
  const dir = gitRepo(baseFiles());
  let r = await cli(['validate', '--dir', dir]);
  assert.is(r.code, 0);
  assert.is(r.stdout, 'valid: the working tree: 2 users, 1 template, 2 workspaces\n');
  r = await cli(['validate', '-C', dir, '--ref', 'main']);
  assert.match(r.stdout, /^valid: main \([0-9a-f]{12}\): 2 users/);
  r = await cli(['validate'], { env: { CODER_GIT_DIR: dir } });
  assert.is(r.code, 0);
  r = await cli(['validate', '--format', 'text'], { env: { CODER_GIT_DIR: dir, CODER_GIT_FORMAT: 'json', CODER_GIT_REF: 'main' } });
  assert.match(r.stdout, /^valid: main \(/, 'flags win over the environment; the environment fills the rest');
  r = await cli(['validate'], { env: { CODER_GIT_DIR: dir, CODER_GIT_FORMAT: 'yaml' } });
  assert.is(r.code, 64, 'a bad value from the environment is a usage error too');
  r = await cli(['validate'], { env: { CODER_GIT_DIR: dir, CODER_GIT_OIDC_CLIENT_SECRET: 's3cret', CODER_GIT_SOMETHING_ELSE: '1' } });
  assert.is(r.code, 0, 'unrelated CODER_GIT_* variables are not arguments');

  const bad = gitRepo({ ...baseFiles(), 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 9') });
  r = await cli(['validate'], { cwd: bad });
  assert.is(r.code, 1);
  assert.is(r.stdout, 'workspaces/alice/dev.yaml:5:8: parameters.cpu: 9 is more than the maximum 8 (template "small")\ninvalid: the working tree: 1 error in 1 file\n');
  r = await cli(['validate', '--ref', 'nope'], { cwd: bad });
  assert.is(r.code, 1);
  assert.match(r.stderr, /^coder-git: --ref nope: no such branch, tag or commit in .*\nhint: /);
});

test('validate --format json is the documented shape', async () => {
  const bad = gitRepo({ ...baseFiles(), 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 9') });
  const r = await cli(['validate', '--format', 'json', '--ref', 'HEAD'], { cwd: bad });
  assert.is(r.code, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(Object.keys(j), ['valid', 'source', 'counts', 'errors', 'warnings', 'diagnostics']);
  assert.is(j.valid, false);
  assert.is(j.source.ref, 'HEAD');
  assert.match(j.source.commit, /^[0-9a-f]{40}$/);
  assert.equal(j.counts, { users: 2, groups: 0, templates: 1, workspaces: 2 });
  assert.is(j.errors, 1);
  assert.equal(j.diagnostics, [{ file: 'workspaces/alice/dev.yaml', line: 5, col: 8, severity: 'error', code: 'reference', message: 'parameters.cpu: 9 is more than the maximum 8 (template "small")' }]);
});

test('validate --format github prints escaped workflow commands', async () => {
  const bad = gitRepo({ ...baseFiles(), 'users/bob.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: 100%, sure\n' });
  const r = await cli(['validate', '--format', 'github'], { cwd: bad });
  assert.is(r.code, 1);
  const first = r.stdout.split('\n')[0];
  assert.is(first, '::error file=users/bob.yaml,line=3,col=8,title=coder-git schema::email: "100%25, sure" is not an email address like alice@example.com');
});

test('colour: never in a pipe unless asked; --color and FORCE_COLOR force it; NO_COLOR wins over the default', async () => {
  const bad = gitRepo({ ...baseFiles(), 'workspaces/alice/dev.yaml': aliceDev.replace('cpu: 4', 'cpu: 9') });
  assert.not.match((await cli(['validate'], { cwd: bad })).stdout, /\x1b\[/);
  assert.match((await cli(['validate', '--color'], { cwd: bad })).stdout, /\x1b\[1mworkspaces/);
  assert.match((await cli(['validate'], { cwd: bad, env: { FORCE_COLOR: '1' } })).stdout, /\x1b\[/);
  assert.not.match((await cli(['validate'], { cwd: bad, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout, /\x1b\[/);
  assert.not.match((await cli(['validate', '--format', 'json', '--color'], { cwd: bad })).stdout, /\x1b\[/);
});

test('schema prints the schema files; without a kind, the kinds', async () => {
  const r = await cli(['schema', 'workspace']);
  assert.is(r.code, 0);
  const s = JSON.parse(r.stdout);
  assert.is(s.$id, 'https://coder-git.dev/schemas/v1/workspace.json');
  assert.is(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.is((await cli(['schema'])).stdout, 'deployment\nuser\ngroup\ntemplate\nworkspace\n');
});

test('completion prints a shell script that completes commands', async () => {
  const r = await cli(['completion']);
  assert.is(r.code, 0);
  assert.match(r.stdout, /complete -o bashdefault -o default -F _coder-git_yargs_completions coder-git/);
  const c = await cli(['--get-yargs-completions', 'coder-git', 'val']);
  assert.match(c.stdout, /validate/);
});

test('cleanup', () => cleanup());
test.run();
