// Users' git SSH keys for real: apply makes one (sealed with CODER_GIT_ENCRYPTION_KEYS in PostgreSQL);
// `coder-git publickey` prints it; inside a workspace (the local template: a real agent as another
// user), `git push` over SSH to a local OpenSSH server authenticates with it through the agent,
// and no private key lands on the workspace's disk or in its environment. A reset takes effect at
// once; a rotation of the encryption key keeps every key working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, tempDir } from '../helpers/git.ts';
import { agentLogOf, localConfigRepo, stopLocalAgents, type LocalRepo } from '../fixtures/local.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { freePort, until as poll } from '../helpers/wait.ts';
import { keyring, parseKeys } from '../../src/auth/secret-box.ts';
import { openGitSshKey } from '../../src/auth/git-ssh.ts';
import { pkgPath } from '../../src/paths.ts';

const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 9).toString('hex');

let d: TestDb;
let r: LocalRepo;
let app: FastifyInstance | undefined;
let port: number;
let token: string;
let sshd: ChildProcess | undefined;
let sshPort: number;
let gitDir: string;
let sshdLog = '';
const me = os.userInfo().username;

const cg = (args: string[], keys = KEY_A) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 120_000, env: { CODER_GIT_ENCRYPTION_KEYS: keys } });
const client = (args: string[]) => cli(args, { timeoutMs: 120_000, env: { CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token } });
const home = () => path.join(r.root, 'admin', 'dev');
const until = <T>(what: string, fn: () => Promise<T | false | undefined>, ms = 30_000) => poll(what, () => fn().catch(() => undefined), { ms, detail: () => agentLogOf(home()) });
/** A shell command inside the workspace, through the server and the agent (as its owner would). */
const inside = (script: string) => client(['ssh', 'admin/dev', '--', script]);
const serve = async (keys: string | undefined) => {
  await app?.close();
  if (keys === undefined) delete process.env.CODER_GIT_ENCRYPTION_KEYS;
  else process.env.CODER_GIT_ENCRYPTION_KEYS = keys;
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
};
// (OpenSSH reads known_hosts from the account's home, and the local template's workspace user,
// nobody, has its home elsewhere than $HOME: the test names the file; IdentityAgent stays the agent's)
const push = (msg: string) =>
  inside(
    `set -e; export GIT_SSH_COMMAND="$GIT_SSH_COMMAND -o UserKnownHostsFile=$HOME/.ssh/known_hosts"; rm -rf clone; ` +
      `git clone -q "ssh://${me}@127.0.0.1:${sshPort}${gitDir}" clone 2>&1; cd clone; echo "${msg}" >> notes.txt; git add notes.txt; ` +
      `git -c user.name=Admin -c user.email=admin@example.com commit -qm "${msg}"; git push -q origin HEAD:main 2>&1`,
  );
const pushed = () => execFileSync('git', ['--git-dir', gitDir, 'log', '--format=%s', 'main'], { encoding: 'utf8' }).trim().split('\n');

test('set-up: a local workspace, a server that keeps git SSH keys, an OpenSSH server with a bare repository', async () => {
  d = await testDatabase();
  port = await freePort();
  r = await localConfigRepo({ accessUrl: `http://127.0.0.1:${port}` });
  await serve(KEY_A);

  // OpenSSH's sshd on 127.0.0.1, authenticating the user running the tests by the keys in one file.
  execFileSync(pkgPath('scripts', 'install-debian.sh'), ['/usr/sbin/sshd', 'openssh-server'], { stdio: 'inherit' });
  const dir = tempDir();
  chmodSync(dir, 0o755);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  writeFileSync(path.join(dir, 'authorized_keys'), '', { mode: 0o600 });
  gitDir = path.join(dir, 'notes.git');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', gitDir]);
  sshPort = await freePort();
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [`Port ${sshPort}`, 'ListenAddress 127.0.0.1', `HostKey ${dir}/host_key`, `AuthorizedKeysFile ${dir}/authorized_keys`, `PidFile ${dir}/sshd.pid`, `AllowUsers ${me}`,
      'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'LogLevel VERBOSE', ''].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation's empty folder
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (b) => (sshdLog += b));
  await poll('sshd listening', async () => /Server listening/.test(sshdLog), { ms: 10_000, detail: () => sshdLog });
  (globalThis as { sshdDir?: string }).sshdDir = dir;
});

test('apply makes the admin a git SSH key, sealed in the database; coder-git publickey prints it', async () => {
  const res = await cg(['apply', '--auto-approve']);
  assert.is(res.code, 0, res.stdout + res.stderr);
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  token = (await issueKey(d.db, admin.id, 'token', 'test', 3_600_000)).secret;
  const row = await d.db.one<{ public_key: string; private_key: Buffer; key_id: string }>('SELECT public_key, private_key, key_id FROM user_git_ssh_keys WHERE user_id = $1', [admin.id]);
  assert.match(row.public_key, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+=* admin@coder-git$/);
  const opened = (await openGitSshKey(d.db, keyring(parseKeys(KEY_A)), admin.id))!;
  const rawSeed = createPrivateKey(opened.private_key).export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  for (const clear of [rawSeed, Buffer.from(rawSeed.toString('base64url')), Buffer.from('PRIVATE KEY'), Buffer.from('"kty"')]) {
    assert.not.ok(row.private_key.includes(clear), 'the private key is not stored in the clear');
  }
  assert.is(row.key_id, keyring(parseKeys(KEY_A)).current);

  const pk = await client(['publickey']);
  assert.is(pk.code, 0, pk.stderr);
  assert.is(pk.stdout, `${row.public_key}\n`);
  // the fingerprint said is the one OpenSSH computes
  const file = path.join(tempDir(), 'k.pub');
  writeFileSync(file, pk.stdout);
  const sshFp = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' }).split(' ')[1]!;
  assert.match(pk.stderr, new RegExp(`Key ${sshFp.replace(/[+/]/g, '\\$&')}, made \\d{4}-\\d\\d-\\d\\d`));

  // A second apply makes nothing new; the key outlives changes to the user file.
  r.edit('users/admin.yaml', (s) => s.replace(/full_name: .*/, 'full_name: Renamed Admin'));
  commitAll(r.repo, 'rename');
  assert.is((await cg(['apply', '--auto-approve'])).code, 0);
  assert.is((await d.db.one<{ public_key: string }>('SELECT public_key FROM user_git_ssh_keys WHERE user_id = $1', [admin.id])).public_key, row.public_key);

  // Opened with another key, a sealed key is refused with the key it needs named.
  const other = keyring(parseKeys(KEY_B));
  const err = await openGitSshKey(d.db, other, admin.id).then(() => undefined, (e: Error) => e.message);
  assert.match(err ?? '', new RegExp(`encrypted with key ${row.key_id}, which CODER_GIT_ENCRYPTION_KEYS does not hold`));
});

test('git push over SSH from inside the workspace uses the key through the agent; no private key on its disk', async () => {
  await until('agent ready', async () => (await d.db.oneOrNone("SELECT 1 FROM agents WHERE lifecycle = 'ready' AND disconnected_at IS NULL")) !== null);
  const dir = (globalThis as { sshdDir?: string }).sshdDir!;
  // The workspace trusts the git server's host key, as a person does on first contact.
  const hostKey = readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim();
  const known = await inside(`mkdir -p ~/.ssh && echo '[127.0.0.1]:${sshPort} ${hostKey}' > ~/.ssh/known_hosts && echo "$GIT_SSH_COMMAND"`);
  assert.is(known.code, 0, known.stderr);
  assert.match(known.stdout, /^ssh -o IdentityAgent='[^']+coder-git-ssh-[^']+\/agent\.sock'\n$/);

  // Not yet on the git server: refused.
  const refused = await push('first');
  assert.is.not(refused.code, 0, refused.stdout);
  assert.match(refused.stdout + refused.stderr, /Permission denied \(publickey\)/);

  const pk = (await client(['publickey'])).stdout;
  writeFileSync(path.join(dir, 'authorized_keys'), pk);
  const ok = await push('first');
  assert.is(ok.code, 0, `${ok.stdout}${ok.stderr}\n${agentLogOf(home())}\nsshd:\n${sshdLog.slice(-2000)}`);
  assert.equal(pushed(), ['first']);

  // The private key is nowhere in the workspace: not in its home (its files and the git server's),
  // not in the temp folder, not in a session's environment (nor is the encryption key). Looked for
  // as the PEM's text and as the raw 32-byte Ed25519 seed.
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  const pair = (await openGitSshKey(d.db, keyring(parseKeys(KEY_A)), admin.id))!;
  const pemBody = pair.private_key.split('\n')[1]!;
  const seed = createPrivateKey(pair.private_key).export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const holds = (b: Buffer) => b.includes(seed) || b.includes(pemBody) || b.includes(Buffer.from(pemBody, 'base64'));
  assert.ok(holds(Buffer.from(pair.private_key)) && holds(createPrivateKey(pair.private_key).export({ format: 'der', type: 'pkcs8' })), 'the search finds the key where it is');
  const files = (p: string): string[] => {
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) return [];
    if (s.isDirectory()) return readdirSync(p).flatMap((e) => files(path.join(p, e)));
    return s.isFile() && s.size < 16 * 1_048_576 ? [p] : [];
  };
  const tmp = readdirSync(os.tmpdir()).filter((e) => e.startsWith('coder-git-ssh-')).map((e) => path.join(os.tmpdir(), e));
  const looked = [...files(home()), ...tmp.flatMap(files)];
  assert.ok(looked.length > 10, looked.join('\n'));
  assert.equal(looked.filter((f) => holds(readFileSync(f))), [], 'no file holds the private key');
  const env = await inside('env');
  assert.not.ok(holds(Buffer.from(env.stdout)));
  assert.not.match(env.stdout, /CODER_GIT_ENCRYPTION_KEYS/);
  const agentPid = readFileSync(path.join(r.root, 'admin', 'dev.agent.pid'), 'utf8').trim();
  const procs = execFileSync('pgrep', ['-g', agentPid], { encoding: 'utf8' }).trim().split('\n');
  for (const pid of procs) {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    assert.not.ok(environ.includes('CODER_GIT_ENCRYPTION_KEYS') || holds(Buffer.from(environ, 'latin1')), `process ${pid} of the workspace has a secret in its environment`);
  }
  // The socket is the workspace user's alone.
  const sock = /IdentityAgent='([^']+)'/.exec(known.stdout)![1]!;
  assert.is(statSync(path.dirname(sock)).mode & 0o077, 0);
});

test('a reset takes effect at once: the old key no longer pushes, the new one does; the page shows the new one', async () => {
  const dir = (globalThis as { sshdDir?: string }).sshdDir!;
  const old = readFileSync(path.join(dir, 'authorized_keys'), 'utf8');
  const reset = await client(['publickey', '--reset']);
  assert.is(reset.code, 0, reset.stderr);
  assert.match(reset.stderr, /^New key SHA256:/);
  assert.is.not(reset.stdout, old);
  const refused = await push('with the old key');
  assert.match(refused.stdout + refused.stderr, /Permission denied \(publickey\)/);
  writeFileSync(path.join(dir, 'authorized_keys'), reset.stdout);
  const ok = await push('second');
  assert.is(ok.code, 0, `${ok.stdout}${ok.stderr}\n${agentLogOf(home())}\nsshd:\n${sshdLog.slice(-2000)}`);
  assert.equal(pushed(), ['second', 'first']);
  const audit = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'git_ssh_key_reset' AND actor = 'admin'");
  assert.is(audit.n, 1);
  const page = await (await fetch(`http://127.0.0.1:${port}/ssh-key`, { headers: { authorization: `Bearer ${token}` } })).text();
  assert.ok(page.includes(reset.stdout.trim()), page);
  assert.not.match(page, /PRIVATE KEY/);
});

test('db rotate-keys re-seals every key under the new encryption key; the old key can then go', async () => {
  const before = await d.db.one<{ public_key: string }>('SELECT public_key FROM user_git_ssh_keys');
  const bad = await cg(['db', 'rotate-keys'], `${KEY_B},short`);
  assert.is(bad.code, 64, bad.stderr);
  assert.match(bad.stderr, /entry 2 of CODER_GIT_ENCRYPTION_KEYS is not a 32-byte key: expected 44 characters of base64 or 64 of hex \(make one with: openssl rand -base64 32\)/);
  const res = await cg(['db', 'rotate-keys'], `${KEY_B},${KEY_A}`);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`re-encrypted 1 git SSH key with key ${keyring(parseKeys(KEY_B)).current}`));
  assert.match((await cg(['db', 'rotate-keys'], `${KEY_B},${KEY_A}`)).stdout, /re-encrypted 0 git SSH keys/);
  // the server now has only the new key: the same key pair still pushes
  await serve(KEY_B);
  await until('agent back', async () => (await d.db.oneOrNone("SELECT 1 FROM agents WHERE lifecycle = 'ready' AND disconnected_at IS NULL")) !== null);
  assert.is((await d.db.one<{ public_key: string }>('SELECT public_key FROM user_git_ssh_keys')).public_key, before.public_key);
  const ok = await push('third');
  assert.is(ok.code, 0, `${ok.stdout}${ok.stderr}\n${agentLogOf(home())}\nsshd:\n${sshdLog.slice(-2000)}`);
  assert.is(pushed()[0], 'third');
});

test('a server without encryption keys: a key already made is still shown (it is public), no reset, none made; a malformed key stops the server', async () => {
  await serve(undefined);
  const pk = await client(['publickey']);
  assert.is(pk.code, 0, pk.stderr);
  const reset = await client(['publickey', '--reset']);
  assert.is(reset.code, 1);
  assert.match(reset.stderr, /this server keeps no git SSH keys: CODER_GIT_ENCRYPTION_KEYS is not set/);
  await d.db.none('DELETE FROM user_git_ssh_keys');
  const none = await client(['publickey']);
  assert.is(none.code, 1);
  assert.match(none.stderr, /this deployment keeps no git SSH keys: CODER_GIT_ENCRYPTION_KEYS is not set where it applies and serves/);
  // an apply without keys makes none either
  r.edit('users/admin.yaml', (s) => s.replace(/full_name: .*/, 'full_name: Admin Again'));
  commitAll(r.repo, 'rename again');
  const res = await cli(['apply', '--auto-approve', '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 120_000 });
  assert.is(res.code, 0, res.stdout + res.stderr);
  assert.is((await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM user_git_ssh_keys')).n, 0);

  await app?.close();
  app = undefined;
  process.env.CODER_GIT_ENCRYPTION_KEYS = 'not-a-key';
  const err = await buildServer({ database: d, logger: false }).then(() => undefined, (e: Error) => e.message);
  assert.match(err ?? '', /CODER_GIT_ENCRYPTION_KEYS is not a 32-byte key/);
  const apply = await cg(['apply', '--auto-approve'], 'not-a-key');
  assert.is(apply.code, 64, apply.stderr);
  assert.match(apply.stderr, /CODER_GIT_ENCRYPTION_KEYS is not a 32-byte key/);
  delete process.env.CODER_GIT_ENCRYPTION_KEYS;
});

test('cleanup', async () => {
  sshd?.kill();
  stopLocalAgents(r.root);
  await app?.close();
  if (existsSync(r.root)) rmSync(r.root, { recursive: true, force: true });
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
