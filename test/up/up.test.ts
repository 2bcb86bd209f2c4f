// `coder-git up` end to end, as a newcomer runs it: a fresh data dir, the process started, the
// printed password signs in over HTTP, the demo workspace's agent is connected; Ctrl-C (arriving
// twice, as from a terminal and npm) stops everything and leaves no process behind; the next `up`
// starts the workspace again. Real embedded PostgreSQL, git, terraform, processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { BIN } from '../helpers/cli.ts';
import { pgDataDir } from '../helpers/db.ts';
import { freePort, until } from '../helpers/wait.ts';
import { withPasswordHash } from '../../src/up.ts';

const data = pgDataDir('coder-git-up-');
let port = 0;

/** Processes whose command line or working directory is under the data dir (agents run in it). */
function leftovers(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cmd.includes(data) || cwd.startsWith(data)) out.push(`${pid} ${cmd} (in ${cwd})`);
    } catch {}
  }
  return out;
}

const running = new Set<ChildProcess>();

function startUp(): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'up', '--data-dir', data, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('close', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code, signal) => r(code ?? (signal ? 128 : null))));
  return { child, out: () => out, exited };
}

async function signIn(password: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  assert.is(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

const agentReady = (token: string) =>
  until('the demo workspace agent is connected and ready', async () => {
    const w = await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ agent?: { status: string; lifecycle: string } }>, () => undefined);
    return w?.agent?.status === 'connected' && w.agent.lifecycle === 'ready' && w.agent;
  }, { ms: 90_000 });

/** Ctrl-C as a terminal under npm delivers it: twice, a few ms apart. */
async function ctrlC(p: ReturnType<typeof startUp>): Promise<number | null> {
  p.child.kill('SIGINT');
  setTimeout(() => p.child.kill('SIGINT'), 20);
  return Promise.race([p.exited, new Promise<null>((r) => setTimeout(() => r(null), 120_000).unref())]);
}

test("the demo admin's hash is written as it is, whatever its salt (a salt starting with a digit was read as $1)", () => {
  const file = 'apiVersion: coder-git/v1\nkind: User\nlogin: password\n# password_hash: $scrypt$...   (make one with: coder-git hash-password)\n';
  for (const hash of ['$scrypt$ln=17,r=8,p=1$1RMqW5HvZ8cRQb0QIFeQQw$lS/zD1AZrBDUabc', "$scrypt$ln=17,r=8,p=1$$&$'x$9abc"]) {
    assert.is(withPasswordHash(file, hash), `apiVersion: coder-git/v1\nkind: User\nlogin: password\npassword_hash: "${hash}"\n`);
  }
});

test('up: a demo that works, signed in over HTTP; Ctrl-C leaves nothing running', async () => {
  port = await freePort();
  const p = startUp();
  const line = await until('the sign-in line', async () => /password (\S+)/.exec(p.out()) ?? undefined, { ms: 120_000, detail: p.out });
  assert.match(p.out(), new RegExp(`Sign in: +http://127\\.0\\.0\\.1:${port}/login +username admin`));
  const token = await signIn(line[1]!);
  await agentReady(token);
  assert.match(await until('announced', async () => /admin\/dev: agent connected/.test(p.out()) && p.out(), { ms: 10_000, detail: p.out }), /terminal at http/);
  assert.ok(leftovers().length >= 2, `the database and the agent run while up does:\n${leftovers().join('\n')}`);
  // The demo seals git SSH keys with a key of its own (no CODER_GIT_ENCRYPTION_KEYS here): the admin has one.
  assert.is(statSync(path.join(data, 'encryption-key')).mode & 0o777, 0o600);
  const key = await (await fetch(`http://127.0.0.1:${port}/api/v1/users/me/gitsshkey`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.match(key.public_key, /^ssh-ed25519 \S+ admin@coder-git$/);
  if (process.getuid?.() === 0) {
    // as root, the demo workspace runs as nobody, who reaches its folder and nothing else of the data dir
    const agentPid = readFileSync(path.join(data, 'workspaces/admin/dev.agent.pid'), 'utf8').trim();
    assert.match(readFileSync(`/proc/${agentPid}/status`, 'utf8'), /^Uid:\s+65534\s/m);
    const asNobody = (...cmd: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...cmd], { encoding: 'utf8' });
    assert.is(asNobody('test', '-w', path.join(data, 'workspaces/admin/dev')).status, 0, 'the folder is reachable');
    for (const secret of ['postgres.json', 'initial-admin-password', 'encryption-key', 'demo/users/admin.yaml']) {
      assert.match(asNobody('cat', path.join(data, secret)).stderr, /Permission denied/, `${secret} is closed to the workspace`);
    }
    for (const folder of ['', 'work', 'postgres', 'demo']) assert.match(asNobody('ls', path.join(data, folder)).stderr, /Permission denied/, `${folder || 'the data dir'} cannot be listed`);
  }

  const code = await ctrlC(p);
  assert.is(code, 130, p.out());
  assert.match(p.out(), /stopping admin\/dev/);
  await until('nothing left', async () => leftovers().length === 0, { ms: 10_000, detail: () => leftovers().join('\n') });
});

test('up again: the same password still works, and the workspace is started again', async () => {
  const p = startUp();
  const line = await until('the sign-in line', async () => /password (\S+)/.exec(p.out()) ?? undefined, { ms: 120_000, detail: p.out });
  const token = await signIn(line[1]!);
  await agentReady(token);
  assert.match(p.out(), /starting admin\/dev again/);
  assert.is(await ctrlC(p), 130, p.out());
  await until('nothing left', async () => leftovers().length === 0, { ms: 10_000, detail: () => leftovers().join('\n') });
});

test('Ctrl-C while the workspace is still starting: the start finishes, then it is stopped; nothing left', async () => {
  const p = startUp();
  await until('the restart queued', async () => /starting admin\/dev again/.test(p.out()), { ms: 120_000, detail: p.out });
  assert.is(await ctrlC(p), 130, p.out());
  assert.match(p.out(), /stopping admin\/dev/, p.out());
  await until('nothing left', async () => leftovers().length === 0, { ms: 10_000, detail: () => leftovers().join('\n') });
});

test('a demo repo edited into an invalid commit: up says which file and line, applies nothing, and still starts and stops the workspace', async () => {
  const demo = path.join(data, 'demo');
  const admin = path.join(demo, 'users/admin.yaml');
  const before = readFileSync(admin, 'utf8');
  writeFileSync(admin, before.replace(/^password_hash: .*$/m, 'password_hash: "not-a-hash"'));
  spawnSync('git', ['-C', demo, 'commit', '-qam', 'broken by hand'], { encoding: 'utf8' });
  const line = before.split('\n').findIndex((l) => l.startsWith('password_hash:')) + 1;
  const p = startUp();
  await until('the errors', async () => /is invalid, nothing applied:\n/.test(p.out()), { ms: 120_000, detail: p.out });
  assert.match(p.out(), new RegExp(`\\n  users/admin\\.yaml:${line}: password_hash: "not-a-hash" must be an argon2id or scrypt hash`));
  // The start asked for above is built with what was last applied, then Ctrl-C stops it as usual.
  assert.is(await ctrlC(p), 130, p.out());
  assert.match(p.out(), /stopping admin\/dev/, p.out());
  await until('nothing left', async () => leftovers().length === 0, { ms: 10_000, detail: () => leftovers().join('\n') });
  writeFileSync(admin, before);
  spawnSync('git', ['-C', demo, 'commit', '-qam', 'mended'], { encoding: 'utf8' });
});

test('up refuses a remote repo and a bad --listen, saying what would be right', async () => {
  const { cli } = await import('../helpers/cli.ts');
  const a = await cli(['up', '--data-dir', data, '--listen', 'nonsense']);
  assert.is(a.code, 64);
  assert.match(a.stderr, /--listen "nonsense": expected HOST:PORT/);
  const b = await cli(['up', '--data-dir', data, '--repo', 'https://example.com/config.git']);
  assert.is(b.code, 64);
  assert.match(b.stderr, /up follows a local repository/);
});

test('cleanup', async () => {
  // Only after a failure is anything still running: take it down so the machine stays clean.
  for (const c of running) c.kill('SIGKILL');
  for (const l of leftovers()) process.kill(Number(l.split(' ')[0]), 'SIGKILL');
  rmSync(data, { recursive: true, force: true });
});

test.run();
