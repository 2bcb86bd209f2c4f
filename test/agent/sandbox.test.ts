// The `sandbox` template for real: a workspace in a bubblewrap sandbox over a Debian minbase made by
// debootstrap (cached across runs in the system's temp folder: the first run makes it, ~35 s), its
// agent delivered by the server through install.sh. Then, through the agent: commands, the environment,
// what is visible inside (not the runner's data dir, not the database's password, not other homes,
// not the host's processes), a port forward to a process inside, and the home across stop, start
// and delete. Needs bwrap and debootstrap (.ci/run installs them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BIN, cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { freePort, until as poll } from '../helpers/wait.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { initRepo } from '../../src/init.ts';
import { pkgPath } from '../../src/paths.ts';

const IMAGES = path.join(os.tmpdir(), 'coder-git-test-sandbox-images');
const SECRET = 'db-secret-value-9f3e';
let d: TestDb;
let app: FastifyInstance;
let port: number;
let token: string;
let repo: string;
let data: string;
let homes: string;

const cg = (...args: string[]) => cli([...args, '-C', repo, '--postgres-url', d.url, '--data-dir', data], { timeoutMs: 300_000, env: { TF_VAR_dbpass: SECRET } });
const env = () => ({ ...process.env, CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token });
/** A command in the workspace, through the server and the agent (coder-git ssh). */
const inside = (cmd: string) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [BIN, 'ssh', 'admin/box', cmd], { env: env(), timeout: 60_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
const agent = async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/box`, { headers: { authorization: `Bearer ${token}` } })).json()).agent as { status: string; lifecycle: string } | null;
const log = () => {
  const f = existsSync(homes) ? readdirSync(homes).find((x) => x.endsWith('.log')) : undefined;
  return f ? `sandbox log:\n${readFileSync(path.join(homes, f), 'utf8').slice(-3000)}` : '(no sandbox log)';
};
const ready = (what: string, ms = 60_000) => poll(what, async () => (await agent().catch(() => null))?.lifecycle === 'ready', { ms, detail: log });
const setState = async (state: string) => {
  writeFileSync(path.join(repo, 'workspaces/admin/box.yaml'), `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: sandbox\nstate: ${state}\n`);
  commitAll(repo, `box ${state}`);
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout + r.stderr);
};

test('set-up: a config repo with the sandbox template, a server on this machine', async () => {
  // (a test run on its own installs what it needs, as .ci/run does)
  for (const [program, pkg] of [['bwrap', 'bubblewrap'], ['debootstrap', 'debootstrap']]) execFileSync(pkgPath('scripts', 'install-debian.sh'), [program!, pkg!], { stdio: 'inherit' });
  d = await testDatabase();
  const base = tempDir('coder-git-sandbox-');
  repo = path.join(base, 'repo');
  data = path.join(base, 'data');
  homes = path.join(base, 'sandboxes', 'homes');
  port = await freePort();
  await initRepo({ dir: repo, admin: 'admin', adminEmail: 'admin@example.com', workspace: 'dev', templates: ['sandbox'], accessUrl: `http://127.0.0.1:${port}`, commit: true });
  writeFileSync(
    path.join(repo, 'coder-git.yaml'),
    `apiVersion: coder-git/v1\nkind: Deployment\naccess_url: http://127.0.0.1:${port}\nterraform:\n  env: [TF_VAR_dbpass]\n  variables:\n    sandboxes_root: ${path.join(base, 'sandboxes')}\n    images_root: ${IMAGES}\n`,
  );
  writeFileSync(path.join(repo, 'workspaces/admin/dev.yaml'), 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: sandbox\nstate: stopped\n');
  commitAll(repo, 'sandbox');
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
  await setState('running');
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  token = (await issueKey(d.db, admin.id, 'token', 'test', 3_600_000)).secret;
});

test('the agent connects from inside the sandbox and runs the startup script', async () => {
  await ready('the agent in the sandbox is ready', 240_000);
  const logs = await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/box/builds/latest/logs`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.equal(logs.agent_startup_log.map((l: { line: string }) => l.line), ['sandbox box ready as uid 1000']);
});

test('inside: an unprivileged uid, its own hostname and processes; nothing of the control plane', async () => {
  const id = await inside('id -u; hostname; pwd');
  assert.is(id.code, 0, id.err);
  assert.is(id.out, '1000\nbox\n/home/coder\n');
  const hostPids = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).length;
  const pids = await inside("ls /proc | grep -c '^[0-9]*$'");
  assert.ok(Number(pids.out) < 30 && Number(pids.out) < hostPids, `own PID namespace: ${pids.out.trim()} processes inside, ${hostPids} outside`);
  const cmdlines = (await inside('for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done')).out;
  assert.not.match(cmdlines, /uvu|sandbox\.test|postgres -D|coder-git\.js/, `no host process:\n${cmdlines}`);
  for (const p of [data, repo, homes, IMAGES, '/work']) {
    const r = await inside(`test -e '${p}' && echo visible || echo gone`);
    assert.is(r.out, 'gone\n', `${p} inside the sandbox`);
  }
  assert.is((await inside('ls /home')).out, 'coder\n', "no other workspace's home");
  const environs = (await inside('for p in /proc/[0-9]*; do tr "\\0" "\\n" < $p/environ 2>/dev/null; done')).out;
  assert.ok(environs.includes('HOME=/home/coder'), environs);
  for (const leak of [SECRET, 'TF_VAR_', 'TF_CLI', repo]) assert.not.ok(environs.includes(leak), `a process inside has ${leak} in its environment:\n${environs}`);
  const { n } = await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM agents');
  assert.ok(n >= 1);
  // (the agent's own environment holds its token, as in any container; no command line does)
  const agentToken = /^CODER_AGENT_TOKEN=(.+)$/m.exec(environs)?.[1];
  assert.ok(agentToken && agentToken.length > 20, 'the agent has its token');
  assert.not.ok(cmdlines.includes(agentToken!), `the token in a command line inside:\n${cmdlines}`);
  assert.not.match(cmdlines, /--setenv|sandboxes\/homes|coder-git-test-sandbox-images/, `no host path in a command line inside:\n${cmdlines}`);
  const all = await inside('env');
  assert.match(all.out, /^HOME=\/home\/coder$/m);
  for (const leak of [SECRET, 'TF_VAR_', 'CODER_AGENT_TOKEN', 'TOKEN=']) assert.not.ok(all.out.includes(leak), `the session's environment holds ${leak}:\n${all.out}`);
  assert.is((await inside('touch /etc/x 2>/dev/null && echo wrote || echo read-only')).out, 'read-only\n', 'the image is read-only');
});

test('port-forward reaches a process inside the sandbox', async () => {
  const started = await inside("cd /home/coder && nohup $(ls .cache/coder-git-agent/node-*) -e \"require('http').createServer((q,s)=>s.end('from the sandbox')).listen(8099,'127.0.0.1')\" > srv.log 2>&1 &");
  assert.is(started.code, 0, started.err);
  const local = await freePort();
  const pf = spawn(process.execPath, [BIN, 'port-forward', 'admin/box', '--tcp', `${local}:8099`], { env: env() });
  let out = '';
  pf.stdout.on('data', (x) => (out += x));
  pf.stderr.on('data', (x) => (out += x));
  try {
    await poll('forwarding', () => /Forwarding/.test(out), { detail: () => out });
    const body = await poll('the server inside answers', async () => (await fetch(`http://127.0.0.1:${local}/`).catch(() => undefined))?.text(), { detail: () => out });
    assert.is(body, 'from the sandbox');
  } finally {
    pf.kill();
  }
});

test('the web terminal in Chromium is a shell inside the sandbox', async () => {
  const { launchBrowser, signedInPage } = await import('../helpers/browser.ts');
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  const session = (await issueKey(d.db, admin.id, 'session', null, 3_600_000)).secret;
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser();
  try {
    const page = await signedInPage(browser, base, session);
    await page.goto(`${base}/workspaces/admin/box/terminal`);
    await page.waitForSelector('#terminal[data-state="connected"]', { timeout: 30_000 });
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "uid $(id -u) on $(hostname) in $PWD"\n');
    await poll('the command ran in the sandbox', async () => /uid 1000 on box in \/home\/coder/.test(await page.locator('.xterm-rows').innerText()), { ms: 20_000 });
  } finally {
    await browser.close();
  }
});

test('scp in and out through config-ssh', async () => {
  const dir = tempDir('coder-git-scp-');
  const cfg = path.join(dir, 'config');
  writeFileSync(cfg, '');
  const run = (cmd: string, args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(cmd, args, { env: env(), timeout: 60_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
  assert.is((await run(process.execPath, [BIN, 'config-ssh', '--ssh-config', cfg])).code, 0);
  const payload = Buffer.alloc(200_000, 'sandbox payload ');
  writeFileSync(path.join(dir, 'up.bin'), payload);
  const up = await run('scp', ['-F', cfg, path.join(dir, 'up.bin'), 'coder.box:up.bin']);
  assert.is(up.code, 0, up.err);
  assert.is((await inside('wc -c < up.bin')).out.trim(), String(payload.length));
  const down = await run('scp', ['-F', cfg, 'coder.box:up.bin', path.join(dir, 'down.bin')]);
  assert.is(down.code, 0, down.err);
  assert.equal(readFileSync(path.join(dir, 'down.bin')), payload);
});

test('stop keeps the home, start brings it back; delete removes it', async () => {
  assert.is((await inside('echo kept > notes.txt')).code, 0);
  await setState('stopped');
  await poll('the agent is gone', async () => (await agent())?.status !== 'connected', { ms: 30_000 });
  await setState('running');
  await ready('the agent is back');
  assert.is((await inside('cat notes.txt')).out, 'kept\n');
  const { id } = await d.db.one<{ id: string }>("SELECT id FROM workspaces WHERE name = 'box'");
  assert.ok(existsSync(path.join(homes, id)), 'the home is there while the workspace exists');
  rmSync(path.join(repo, 'workspaces/admin/box.yaml'));
  commitAll(repo, 'delete box');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.not.ok(existsSync(path.join(homes, id)), 'the home is removed with the workspace');
  assert.ok(existsSync(IMAGES), 'the shared image stays');
});

test('an image the agent cannot run in (here: no curl or wget) fails the build, saying what is missing', async () => {
  const tarball = path.join(tempDir('coder-git-image-'), 'no-downloader.tar');
  execFileSync('tar', ['-C', path.join(IMAGES, 'debian-bookworm-minbase'), '--exclude=./usr/bin/curl', '--exclude=./usr/bin/wget', '-cf', tarball, '.']);
  writeFileSync(path.join(repo, 'workspaces/admin/bare.yaml'), `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: sandbox\nstate: running\nparameters:\n  image_tarball: ${tarball}\n`);
  commitAll(repo, 'an image without a downloader');
  const r = await cg('apply', '--auto-approve');
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stdout, /admin\/bare start failed/);
  const log = await cg('logs', 'admin/bare');
  assert.match(log.stdout, /sandbox: the workspace stopped as it started:[\s\S]*coder-git agent: neither curl nor wget is installed in this image/, log.stdout);
  rmSync(path.join(repo, 'workspaces/admin/bare.yaml'));
  commitAll(repo, 'remove it');
  assert.is((await cg('apply', '--auto-approve')).code, 0);
});

test('clean up', async () => {
  // (also after a failed set-up: nothing of this file keeps running)
  await app?.close();
  await d?.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
