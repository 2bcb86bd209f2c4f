// The server as a process and the CLI as its client: coder-git server, login (password on stdin),
// list, logout; the server's structured log never contains a secret; SIGTERM stops it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BIN, cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { deploymentFixture, PASSWORDS, type Fixture } from './setup.ts';

let d: TestDb;
let f: Fixture;
let server: ChildProcess;
let log = '';
let url: string;
let config: string;

const as = (args: string[], input?: string) => cli(args, { env: { XDG_CONFIG_HOME: config }, input });

test('set-up: coder-git server as a process', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  config = tempDir();
  server = spawn(process.execPath, [BIN, 'server', '--listen', '127.0.0.1:0', '--postgres-url', d.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (x) => (log += x));
  server.stderr!.on('data', (x) => (log += x));
  const end = Date.now() + 20_000;
  while (!/Server listening at (http:\/\/127\.0\.0\.1:\d+)/.test(log)) {
    if (Date.now() > end) throw new Error(`no listening line:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1]!;
  assert.equal(await (await fetch(`${url}/healthz`)).json(), { ok: true });
});

test('login with a wrong password fails and stores nothing', async () => {
  const r = await as(['login', url, '--username', 'bob'], 'not-the-password\n');
  assert.is(r.code, 1);
  assert.match(r.stderr, /Wrong username or password\./);
  assert.not.ok(existsSync(path.join(config, 'coder-git', 'session.json')));
});

test('login, list, logout', async () => {
  const r = await as(['login', url, '--username', 'bob'], `${PASSWORDS.bob}\n`);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Signed in to ${url} as bob`));
  const file = path.join(config, 'coder-git', 'session.json');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const list = await as(['list']);
  assert.is(list.code, 0, list.stderr);
  assert.match(list.stdout, /^WORKSPACE\s+TEMPLATE\s+STATE\s+LAST BUILD\s+AGENT\nbob\/box\s+plain\s+running\s+#1 start pending\s+connecting\n$/);
  const json = JSON.parse((await as(['list', '--json'])).stdout);
  assert.is(json[0].name, 'box');
  const token = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')).token as string;
  f.secrets.push(token);
  assert.is((await as(['logout'])).stdout, 'Signed out.\n');
  assert.not.ok(existsSync(file));
  assert.is((await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status, 401, 'the token was revoked');
  const after = await as(['list']);
  assert.is(after.code, 1);
  assert.match(after.stderr, /not signed in[\s\S]*coder-git login <url>/);
});

test('bad flags are usage errors; an unreachable server is said so', async () => {
  const r = await cli(['server', '--listen', 'nonsense', '--postgres-url', d.url]);
  assert.is(r.code, 64);
  assert.match(r.stderr, /--listen "nonsense": expected HOST:PORT/);
  const down = await as(['login', 'http://127.0.0.1:1', '--username', 'x'], 'y\n');
  assert.is(down.code, 1);
  assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
});

test('the server log is structured JSON and holds no secret; SIGTERM stops it', async () => {
  await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${f.tokens.alice}`, cookie: `coder_git_session=${f.tokens.bob}` } });
  server.kill('SIGTERM');
  const code = await new Promise((r) => server.on('close', r));
  assert.is(code, 143);
  const lines = log.trim().split('\n');
  assert.ok(lines.every((l) => l.startsWith('{')), 'one JSON object per line');
  assert.ok(lines.some((l) => /"url":"\/api\/v1\/me"/.test(l)), 'requests are logged');
  assert.equal(f.secrets.filter((s) => log.includes(s)), []);
});

test('cleanup', async () => {
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
