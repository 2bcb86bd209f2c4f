// `local` under a root runner: the workspace's processes run as an unprivileged user (run_as,
// default nobody), its folder is that user's, and nothing the runner writes there can be turned
// against the host. Real server, PostgreSQL, terraform, processes, and ssh through the agent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BIN, cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { agentLogOf, localConfigRepo, stopLocalAgents, type LocalRepo } from '../fixtures/local.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { freePort, until as poll } from '../helpers/wait.ts';

const root = process.getuid?.() === 0;
const uidOf = (name: string) => Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());

let d: TestDb;
let r: LocalRepo;
let app: FastifyInstance;
let port: number;
let token: string;
let agentCommand: string | undefined;

/** terraform's diagnostics wrap long lines inside a box: one line again */
const unwrapped = (r: { stdout: string; stderr: string }) => (r.stdout + r.stderr).replace(/\n\s*│ */g, ' ');
const cg = (...args: string[]) =>
  cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data, ...(agentCommand ? ['--agent-command', agentCommand] : [])], { timeoutMs: 180_000, env: { TF_VAR_dbpass: 'db-secret-value-77aa' } });
const dir = () => path.join(r.root, 'admin', 'dev');
const agentLog = () => agentLogOf(dir());
const agentOf = async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev`, { headers: { authorization: `Bearer ${token}` } })).json()).agent as { status: string; lifecycle: string } | null;
const ready = () => poll('agent ready', async () => (await agentOf().catch(() => null))?.lifecycle === 'ready', { ms: 90_000, detail: agentLog });
/** a command in the workspace through `coder-git ssh` (server and agent) */
const inside = (script: string) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const env = { ...process.env, CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token };
    execFile(process.execPath, [BIN, 'ssh', 'dev', '--no-start', '--', script], { env, timeout: 60_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
const applyWith = async (vars: Record<string, string>, motd?: string) => {
  r.edit('coder-git.yaml', (s) => s.replace(/\n {4}run_as: .*/, '').replace(/( {2}variables:\n {4}workspaces_root: .*)/, (m) => m + Object.entries(vars).map(([k, v]) => `\n    ${k}: ${JSON.stringify(v)}`).join('')));
  if (motd) r.edit('workspaces/admin/dev.yaml', (s) => s.replace(/motd: .*|parameters: \{\}/, (m) => (m.startsWith('motd') ? `motd: ${motd}` : `parameters:\n  motd: ${motd}`)));
  commitAll(r.repo, `run_as ${JSON.stringify(vars)} ${motd ?? ''}`);
  return cg('apply', '--auto-approve');
};

test('set-up: a local-template repo, a server on this machine', async () => {
  if (!root) return console.log('  (skipped: run_as switches users only under a root runner; this test runs as uid', process.getuid?.(), ')');
  d = await testDatabase();
  port = await freePort();
  r = await localConfigRepo({ accessUrl: `http://127.0.0.1:${port}` });
  r.edit('coder-git.yaml', (s) => s.replace('  env: []', '  env: [TF_VAR_dbpass]'));
  commitAll(r.repo, 'the server is here');
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
});

test('a root runner runs the workspace as nobody: its folder is 0700 and nobody\'s, the host stays closed', async () => {
  if (!root) return;
  // the runner's secrets, as a root runner keeps them (0600 files in its data dir)
  mkdirSync(r.data, { recursive: true, mode: 0o711 });
  writeFileSync(path.join(r.data, 'postgres.json'), '{"password":"superuser-secret"}\n', { mode: 0o600 });
  const res = await cg('apply', '--auto-approve');
  assert.is(res.code, 0, res.stdout + res.stderr);
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  token = (await issueKey(d.db, admin.id, 'token', 'test', 3_600_000)).secret;
  await ready();
  const st = statSync(dir());
  assert.equal([st.uid, st.mode & 0o777], [uidOf('nobody'), 0o700]);
  assert.is(statSync(path.join(dir(), '.motd')).uid, uidOf('nobody'), 'the runner wrote .motd as the workspace user');
  const who = await inside('id -u; echo "$HOME"; pwd');
  assert.is(who.out, `${uidOf('nobody')}\n${dir()}\n${dir()}\n`, who.err);
  const probe = await inside(`cat ${path.join(r.data, 'postgres.json')} 2>&1; ls /root 2>&1; echo "token:\${CODER_AGENT_TOKEN:-none} tf:\${TF_VAR_dbpass:-none}"; env | grep -c db-secret-value`);
  assert.match(probe.out, /postgres\.json: Permission denied/);
  assert.match(probe.out, /cannot open directory '\/root': Permission denied/);
  assert.match(probe.out, /token:none tf:none\n0\n$/, probe.out);
  // Terraform's processes (root) keep their environment to themselves
  const tf = await inside('cat /proc/1/environ >/dev/null 2>&1 && echo readable || echo closed');
  assert.is(tf.out, 'closed\n');
});

test('a link planted in the folder does not make the root runner write elsewhere', async () => {
  if (!root) return;
  const target = path.join(tempDir(), 'host-file');
  writeFileSync(target, 'host content\n');
  chmodSync(path.dirname(target), 0o755);
  chmodSync(target, 0o666 & ~0o022); // 0644: nobody may not write it
  rmSync(path.join(dir(), '.motd'));
  symlinkSync(target, path.join(dir(), '.motd'));
  const res = await applyWith({}, 'a new motd');
  assert.is(res.code, 1, 'writing .motd as nobody through the link is refused, so the start fails');
  assert.match(unwrapped(res), /\.motd: Permission denied/);
  assert.is(readFileSync(target, 'utf8'), 'host content\n', 'the host file is untouched');
  rmSync(path.join(dir(), '.motd'));
  const again = await cg('apply', '--auto-approve');
  assert.is(again.code, 0, again.stdout + again.stderr);
  assert.is(readFileSync(path.join(dir(), '.motd'), 'utf8'), 'a new motd\n');
});

test('run_as names another user: the folder changes hands, the agent runs as that user', async () => {
  if (!root) return;
  writeFileSync(path.join(dir(), 'notes.txt'), 'mine\n');
  chmodSync(path.join(dir(), 'notes.txt'), 0o600);
  // (a change of terraform.variables alone rebuilds nothing yet: the motd makes this a new start)
  const res = await applyWith({ run_as: 'daemon' }, 'as daemon');
  assert.is(res.code, 0, res.stdout + res.stderr);
  await ready();
  assert.is(statSync(dir()).uid, uidOf('daemon'));
  const who = await inside('id -un; cat notes.txt');
  assert.is(who.out, 'daemon\nmine\n', who.err);
});

test('run_as root keeps a root runner\'s workspace as root; a user that does not exist fails the build saying so', async () => {
  if (!root) return;
  const asRoot = await applyWith({ run_as: 'root' }, 'as root');
  assert.is(asRoot.code, 0, asRoot.stdout + asRoot.stderr);
  await ready();
  assert.is((await inside('id -u')).out, '0\n');
  const missing = await applyWith({ run_as: 'no-such-user' }, 'as nobody at all');
  assert.is(missing.code, 1);
  assert.match(unwrapped(missing), /run_as: there is no user 'no-such-user' on this machine/);
});

test('an agent command the user cannot read (a private install): the agent comes from the server instead', async () => {
  if (!root) return;
  // coder-git "installed" where only root can read it, as `npx` as root keeps it in /root/.npm
  const priv = tempDir();
  const wrapper = path.join(priv, 'agent.sh');
  writeFileSync(wrapper, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} agent\n`, { mode: 0o700 });
  agentCommand = `sh '${wrapper}'`;
  const res = await applyWith({ run_as: '' }, 'fetched');
  assert.is(res.code, 0, res.stdout + res.stderr);
  await ready();
  assert.match(readFileSync(path.join(dir(), '.agent.log'), 'utf8'), /^local: user nobody cannot read .*agent\.sh; the agent comes from the server \(install\.sh\)\n/);
  const cache = path.join(r.root, '.coder-git-agent', 'nobody');
  assert.equal([statSync(cache).uid, statSync(cache).mode & 0o777], [uidOf('nobody'), 0o700], 'one cache per user, beside the folders');
  assert.ok(readdirSync(cache).some((f) => f.startsWith('agent-')), 'the agent was downloaded into it');
  const group = execFileSync('pgrep', ['-a', '-g', readFileSync(`${dir()}.agent.pid`, 'utf8').trim()], { encoding: 'utf8' });
  assert.match(group, new RegExp(`^\\d+ ${cache}/node-\\S+ ${cache}/agent-`, 'm'), 'the agent runs on the delivered runtime');
  assert.is((await inside('id -un; cat .motd')).out, 'nobody\nfetched\n');
});

test('cleanup', async () => {
  if (!root) return;
  await app.close();
  stopLocalAgents(r.root);
  rmSync(r.root, { recursive: true, force: true });
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
