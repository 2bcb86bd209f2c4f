// The agent delivered by the server: a workspace runs the template contract's coder_agent_init_script,
// which fetches install.sh, which downloads the Node runtime and the agent bundle from the server,
// checks them, caches them in the workspace's home, and runs the agent. Real server, PostgreSQL,
// terraform and processes (the `local` template, its agent command replaced by the init script, with
// a home of the workspace's own). Also: what install.sh says when something is missing, a corrupt
// cache, a tampered download, and the update handshake.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket, { WebSocketServer } from 'ws';
import { cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { agentLogOf, localConfigRepo, type LocalRepo } from '../fixtures/local.ts';
import { freePort, until as poll } from '../helpers/wait.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { agentInitScript } from '../../src/terraform/contract.ts';
import { VERSION } from '../../src/version.ts';
import { pkgPath } from '../../src/paths.ts';

let d: TestDb;
let r: LocalRepo;
let app: FastifyInstance;
let port: number;
let token: string;
let initFile: string;
const downloads: string[] = [];

const cg = (...args: string[]) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data, '--agent-command', `HOME="$PWD/.home" exec sh '${initFile}'`], { timeoutMs: 180_000 });
const ws = () => path.join(r.root, 'admin', 'dev');
const cache = () => path.join(ws(), '.home/.cache/coder-git-agent');
const agentLog = () => agentLogOf(ws());
const agent = async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev`, { headers: { authorization: `Bearer ${token}` } })).json()).agent as { status: string; lifecycle: string } | null;
const connected = (what: string) => poll(what, async () => (await agent().catch(() => null))?.status === 'connected', { ms: 60_000, detail: agentLog });
const installSh = async () => (await fetch(`http://127.0.0.1:${port}/api/v1/agent/install.sh`)).text();
/** install.sh run as a workspace would, with the environment given (nothing else of ours); not spawnSync: the server is in this process. */
const runInstall = (script: string, env: Record<string, string>) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const c = spawn('/bin/sh', ['-c', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr!.on('data', (x) => (stderr += x));
    const t = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('close', (status) => (clearTimeout(t), resolve({ status, stderr })));
  });

test('set-up: a server on this machine, the init script of the contract written to a file', async () => {
  d = await testDatabase();
  port = await freePort();
  r = await localConfigRepo({ accessUrl: `http://127.0.0.1:${port}` });
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/v1/agent/files/')) downloads.push(req.url);
  });
  await app.listen({ host: '127.0.0.1', port });
  // readable by the workspace's user (a root runner runs it as nobody)
  const initDir = tempDir('coder-git-init-');
  chmodSync(initDir, 0o755);
  initFile = path.join(initDir, 'init.sh');
  writeFileSync(initFile, agentInitScript(`http://127.0.0.1:${port}`), { mode: 0o644 });
  const admin = () => d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  const res = await cg('apply', '--auto-approve');
  assert.is(res.code, 0, res.stdout + res.stderr);
  token = (await issueKey(d.db, (await admin()).id, 'token', 'test', 3_600_000)).secret;
});

test('install.sh is a valid sh script with no secret in it', async () => {
  const s = await installSh();
  assert.match(s, /^#!\/bin\/sh\n/);
  execFileSync('sh', ['-n', '-c', s]);
  assert.not.match(s, /CODER_AGENT_TOKEN=\S/, 'no token value');
  assert.match(s, new RegExp(`VERSION='${VERSION.replace(/\./g, '\\.')}'`));
});

test('the agent arrives through the init script: downloaded, checked, cached, connected, this version', async () => {
  await connected('the agent connects from the workspace');
  const row = await d.db.one<{ version: string }>('SELECT version FROM agents ORDER BY created_at DESC LIMIT 1');
  assert.is(row.version, VERSION);
  assert.is(downloads.length, 2, `node and the agent bundle: ${downloads.join(', ')}`);
  const files = execFileSync('ls', [cache()], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.is(files.length, 2, files.join(' '));
  const bundle = files.find((f) => f.startsWith('agent-'))!;
  assert.equal(readFileSync(path.join(cache(), bundle)), readFileSync(pkgPath('dist', 'agent.cjs')), 'the bundle as built');
  const pid = Number(readFileSync(`${ws()}.agent.pid`, 'utf8'));
  const tree = execFileSync('ps', ['-o', 'args=', '--ppid', String(pid)], { encoding: 'utf8' }) + execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  assert.match(tree, /\.cache\/coder-git-agent\/node-[0-9a-f]{16}-linux-x64 .*agent-/, `the cached runtime runs the cached agent, not coder-git:\n${tree}`);
});

test('a restart of the same version downloads nothing; a corrupt cache is downloaded again', async () => {
  const stat = () => execFileSync('ls', [cache()], { encoding: 'utf8' }).trim().split('\n').map((f) => `${f}:${statSync(path.join(cache(), f)).mtimeMs}`);
  const before = stat();
  const restart = async (why: string) => {
    r.edit('workspaces/admin/dev.yaml', (s) => s.replace('state: running', 'state: stopped'));
    commitAll(r.repo, `stop (${why})`);
    assert.is((await cg('apply', '--auto-approve')).code, 0);
    r.edit('workspaces/admin/dev.yaml', (s) => s.replace('state: stopped', 'state: running'));
    commitAll(r.repo, `start (${why})`);
    assert.is((await cg('apply', '--auto-approve')).code, 0);
    await connected(`the agent connects again (${why})`);
  };
  downloads.length = 0;
  await restart('same version');
  assert.equal(downloads, [], 'nothing downloaded');
  assert.equal(stat(), before, 'the cached files untouched');
  const bundle = execFileSync('ls', [cache()], { encoding: 'utf8' }).split('\n').find((f) => f.startsWith('agent-'))!;
  writeFileSync(path.join(cache(), bundle), 'corrupted');
  await restart('corrupt cache');
  assert.equal(downloads.map((u) => u.split('/').pop()!.split('-')[0]), ['agent'], 'only the corrupted file again');
});

test('install.sh says exactly what is missing, and a tampered download is refused', async () => {
  const s = await installSh();
  const base = { CODER_AGENT_URL: `http://127.0.0.1:${port}`, CODER_AGENT_TOKEN: 'x', HOME: tempDir('coder-git-home-') };
  let res = await runInstall(s, { PATH: process.env.PATH!, HOME: base.HOME, CODER_AGENT_URL: base.CODER_AGENT_URL });
  assert.is(res.status, 1);
  assert.match(res.stderr, /coder-git agent: CODER_AGENT_TOKEN is not set/);
  // a PATH with the usual tools but neither curl nor wget
  const bin = tempDir('coder-git-bin-');
  for (const t of ['uname', 'ls', 'mkdir', 'id', 'sha256sum', 'gunzip', 'cut', 'rm', 'mv', 'chmod', 'cat']) symlinkSync(execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim(), path.join(bin, t));
  res = await runInstall(s, { ...base, PATH: bin });
  assert.is(res.status, 1);
  assert.match(res.stderr, /coder-git agent: neither curl nor wget is installed: the image needs one of them \(busybox's wget counts\)/);
  res = await runInstall(s.replace(/AGENT_SHA256=[0-9a-f]{64}/, `AGENT_SHA256=${'0'.repeat(64)}`), { ...base, PATH: process.env.PATH! });
  assert.is(res.status, 1);
  assert.match(res.stderr, /agent-.*\.cjs\.gz: checksum mismatch \(expected 0{64}, got [0-9a-f]{64}\)/);
});

test('the server tells an agent of another version to update; the delivered agent then exits 75 for install.sh', async () => {
  const pid = Number(readFileSync(`${ws()}.agent.pid`, 'utf8'));
  const childPids = execFileSync('sh', ['-c', `ps -o pid= --ppid ${pid}; echo ${pid}`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
  const env = childPids.map((p) => { try { return readFileSync(`/proc/${p}/environ`, 'utf8'); } catch { return ''; } }).find((e) => e.includes('CODER_AGENT_TOKEN='))!;
  const agentToken = env.split('\0').find((e) => e.startsWith('CODER_AGENT_TOKEN='))!.slice('CODER_AGENT_TOKEN='.length);
  const sock = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agents/connect`, { headers: { 'coder-agent-token': agentToken } });
  const said: { type: string; version?: string }[] = [];
  sock.on('message', (m) => said.push(JSON.parse(String(m))));
  await new Promise((res) => sock.once('open', res));
  sock.send(JSON.stringify({ type: 'hello', protocol: 1, version: '0.0.1-old', os: 'linux', arch: 'x64' }));
  await poll('the update message', () => said.some((m) => m.type === 'update'), { ms: 10_000 });
  assert.equal(said.find((m) => m.type === 'update'), { type: 'update', version: VERSION });
  sock.close();

  // the delivered agent, against a stand-in server that asks it to update
  const standin = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  standin.on('connection', (s) => s.once('message', () => s.send(JSON.stringify({ type: 'update', version: '9.9.9' }))));
  await new Promise((res) => standin.once('listening', res));
  const child = spawn(process.execPath, [pkgPath('dist', 'agent.cjs')], { env: { PATH: process.env.PATH!, CODER_AGENT_TOKEN: 't', CODER_AGENT_URL: `http://127.0.0.1:${(standin.address() as { port: number }).port}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (x) => (err += x));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  standin.close();
  assert.is(code, 75, err);
  assert.match(err, /the server runs coder-git 9\.9\.9, this agent /);
});

test('clean up', async () => {
  try {
    r.edit('workspaces/admin/dev.yaml', (s) => s.replace('state: running', 'state: stopped'));
    commitAll(r.repo, 'stop');
    await cg('apply', '--auto-approve');
  } finally {
    // (also after a failed set-up: nothing of this file keeps running)
    await app?.close();
    await d?.drop();
    await stopOwnServer();
    cleanup();
  }
});

test.run();
