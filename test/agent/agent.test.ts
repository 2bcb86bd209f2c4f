// The agent for real: `coder-git apply` builds a `local` workspace whose template starts
// `coder-git agent`; it connects to a real server, runs the startup script, reports ready; survives
// the server going away; runs down on stop. Real git, PostgreSQL, terraform, processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BIN, cli } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, gitRepo, tempDir } from '../helpers/git.ts';
import { agentLogOf, localConfigRepo, type LocalRepo } from '../fixtures/local.ts';
import { buildServer } from '../../src/server/app.ts';
import { issueKey } from '../../src/server/auth.ts';
import { freePort, until as poll } from '../helpers/wait.ts';

let d: TestDb;
let r: LocalRepo;
let app: FastifyInstance | undefined;
let port: number;
let token: string;

// The runner's environment has a secret for templates (terraform.env): sessions must never see it.
const SECRET = 'db-secret-value-4c1d';
const cg = (...args: string[]) => cli([...args, '-C', r.repo, '--postgres-url', d.url, '--data-dir', r.data], { timeoutMs: 120_000, env: { TF_VAR_dbpass: SECRET } });
const serve = async () => {
  app = await buildServer({ database: d, logger: false, heartbeatMs: 1000 });
  await app.listen({ host: '127.0.0.1', port });
};
const agent = async () => (await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev`, { headers: { authorization: `Bearer ${token}` } })).json()).agent as { status: string; lifecycle: string } | null;
const agentLog = () => agentLogOf(path.join(r.root, 'admin', 'dev'));
// (a request may fail while the server restarts: that is "not yet")
const until = <T>(what: string, fn: () => Promise<T | false | undefined>, ms = 30_000) => poll(what, () => fn().catch(() => undefined), { ms, detail: agentLog });

test('set-up: a local-template repo whose access_url is a server on this machine', async () => {
  d = await testDatabase();
  port = await freePort();
  r = await localConfigRepo({ accessUrl: `http://127.0.0.1:${port}` });
  r.edit('coder-git.yaml', (s) => s.replace('  env: []', '  env: [TF_VAR_dbpass]'));
  r.edit('templates/local/template.yaml', (s) => s.replace('  connection_timeout: 2m', '  connection_timeout: 2m\n  env:\n    GREETING: hello from agent.env'));
  // The admin's dotfiles: a local repository whose install script leaves a mark in the home folder.
  const dotfiles = gitRepo({ 'install.sh': 'echo "installing for $USER"\necho "alias ll=\'ls -l\'" > "$HOME/.installed-by-dotfiles"\n', '.bashrc': 'export FROM_DOTFILES=yes\n' });
  // (the workspace runs as nobody under a root runner, and git clones only repositories its user owns)
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'nobody', dotfiles]);
  r.edit('users/admin.yaml', (s) => `${s}shell: /bin/dash\ndotfiles:\n  repository: ${dotfiles}\n`);
  commitAll(r.repo, 'the server is here');
  await serve();
});

test('apply starts the workspace; its agent connects, runs the startup script and is ready', async () => {
  const res = await cg('apply', '--auto-approve');
  assert.is(res.code, 0, res.stdout + res.stderr);
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  token = (await issueKey(d.db, admin.id, 'token', 'test', 3_600_000)).secret;
  const a = await until('agent ready', async () => {
    const x = await agent();
    return x?.lifecycle === 'ready' && x;
  });
  assert.is(a.status, 'connected');
  const logs = await (await fetch(`http://127.0.0.1:${port}/api/v1/workspaces/admin/dev/builds/latest/logs`, { headers: { authorization: `Bearer ${token}` } })).json();
  const lines = logs.agent_startup_log.map((l: { line: string }) => l.line);
  const stdout = logs.agent_startup_log.filter((l: { stream: string; line: string }) => l.stream === 'stdout' && !l.line.startsWith('dotfiles: ')).map((l: { line: string }) => l.line);
  assert.equal(stdout, ['installing for nobody', 'Welcome to your coder-git workspace'], 'the startup script (cat .motd) ran in the workspace folder, after the dotfiles');
  assert.ok(lines.includes('dotfiles: running install.sh') && lines.includes('dotfiles: done'), lines.join('\n'));
  const home = path.join(r.root, 'admin', 'dev');
  assert.match(readFileSync(path.join(home, '.installed-by-dotfiles'), 'utf8'), /alias ll/);
  assert.match(readFileSync(path.join(home, '.dotfiles', '.bashrc'), 'utf8'), /FROM_DOTFILES/);
});

test('port-forward: a local port reaches an HTTP server inside the workspace, through server and agent', async () => {
  const { createServer: httpServer } = await import('node:http');
  const inside = httpServer((_req, res) => res.end('hello from inside the workspace\n'));
  await new Promise<void>((res) => inside.listen(0, '127.0.0.1', res));
  const remote = (inside.address() as { port: number }).port;
  const local = remote + 1 < 65535 ? remote + 1 : remote - 1;
  const pf = spawn(process.execPath, [BIN, 'port-forward', 'admin/dev', '--tcp', `${local}:${remote}`, '--tcp', `${local + 1}:1`], {
    env: { ...process.env, CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token },
  });
  let out = '';
  pf.stdout.on('data', (x) => (out += x));
  pf.stderr.on('data', (x) => (out += x));
  try {
    await until('forwarding', async () => (out.match(/Forwarding/g) ?? []).length === 2);
    const body = await (await fetch(`http://127.0.0.1:${local}/`)).text();
    assert.is(body, 'hello from inside the workspace\n');
    // twice more, at once: each connection is its own relayed stream
    const both = await Promise.all([1, 2].map(async () => (await fetch(`http://127.0.0.1:${local}/x`)).text()));
    assert.equal(both, ['hello from inside the workspace\n', 'hello from inside the workspace\n']);
    const refused = await fetch(`http://127.0.0.1:${local + 1}/`).then(() => 'answered', () => 'failed');
    assert.is(refused, 'failed', 'nothing listens on port 1 in the workspace');
    await until('said why', async () => /nothing listens on port 1/.test(out));
    const audit = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'port_forward' AND target = 'admin/dev'");
    assert.ok(audit.n >= 3);
  } finally {
    pf.kill();
    inside.close();
  }
});

test('SSH: config-ssh writes a managed block; plain ssh runs commands in the workspace; coder-git ssh too', async () => {
  const { execFile } = await import('node:child_process');
  const { writeFileSync: write, readFileSync: read } = await import('node:fs');
  const tmp = tempDir(); // removed by cleanup()
  const cfg = path.join(tmp, 'config');
  write(cfg, 'Host example\n  User me\n');
  const env = { ...process.env, CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token };
  const run = (cmd: string, args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(cmd, args, { env, timeout: 60_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
  const dry = await run(process.execPath, [BIN, 'config-ssh', '--ssh-config', cfg, '--dry-run']);
  assert.match(dry.out, /^\+ Host coder\.dev$/m);
  assert.is(read(cfg, 'utf8'), 'Host example\n  User me\n', 'dry run changes nothing');
  const wrote = await run(process.execPath, [BIN, 'config-ssh', '--ssh-config', cfg]);
  assert.is(wrote.code, 0, wrote.err + wrote.out);
  assert.match(read(cfg, 'utf8'), /^Host example\n {2}User me\n\n# -+START-CODER-GIT-+\n[\s\S]*Host coder\.dev\n {2}ProxyCommand .* ssh --stdio %n\n/);
  assert.match((await run(process.execPath, [BIN, 'config-ssh', '--ssh-config', cfg])).out, /is up to date/);

  const hi = await run('ssh', ['-F', cfg, 'coder.dev', 'echo', 'hi']);
  assert.equal([hi.code, hi.out], [0, 'hi\n'], hi.err);
  const pwd = await run('ssh', ['-F', cfg, 'coder.dev', 'pwd']);
  assert.is(pwd.out.trim(), path.join(r.root, 'admin', 'dev'), 'commands run in the workspace folder');
  const env2 = await run('ssh', ['-F', cfg, 'coder.dev', 'echo "$GREETING"; echo "token:${CODER_AGENT_TOKEN:-none}"']);
  assert.is(env2.out, 'hello from agent.env\ntoken:none\n', "sessions get the template's agent.env, never the agent's token");
  const shell = await run('ssh', ['-F', cfg, 'coder.dev', 'echo "$SHELL"']);
  assert.is(shell.out, '/bin/dash\n', "the owner's shell (users/admin.yaml shell), not the account's");
  const agentPid = Number(readFileSync(path.join(r.root, 'admin', 'dev.agent.pid'), 'utf8'));
  const agentToken = execFileSync('sh', ['-c', `cat /proc/$(pgrep -P ${agentPid} || echo ${agentPid})/environ /proc/${agentPid}/environ 2>/dev/null | tr '\\0' '\\n' | sed -n 's/^CODER_AGENT_TOKEN=//p' | head -n 1`], { encoding: 'utf8' }).trim();
  assert.ok(agentToken.length > 20, 'found the agent process\'s token');
  const all = await run('ssh', ['-F', cfg, 'coder.dev', 'env']);
  assert.ok(all.out.includes('GREETING='), all.out);
  for (const leak of [agentToken, SECRET, 'TF_VAR_']) assert.not.ok(all.out.includes(leak), `a session's environment holds ${leak === agentToken ? 'the agent token' : leak}:\n${all.out}`);
  const exit = await run('ssh', ['-F', cfg, 'coder.dev', 'exit 3']);
  assert.is(exit.code, 3, 'the exit status comes back');

  const viaCli = await run(process.execPath, [BIN, 'ssh', 'dev', 'cat', '.motd']);
  assert.equal([viaCli.code, viaCli.out], [0, 'Welcome to your coder-git workspace\n'], viaCli.err);

  // scp both ways, over SFTP (OpenSSH 9's default) and the legacy protocol (-O: an exec of scp -t/-f).
  const payload = (await import('node:crypto')).randomBytes(300_000);
  write(path.join(tmp, 'payload'), payload);
  const home = path.join(r.root, 'admin', 'dev');
  for (const [flags, name] of [[[], 'sftp'], [['-O'], 'legacy']] as const) {
    const up = await run('scp', ['-F', cfg, ...flags, path.join(tmp, 'payload'), `coder.dev:in-${name}`]);
    assert.is(up.code, 0, `scp in (${name}): ${up.err}`);
    assert.ok(read(path.join(home, `in-${name}`)).equals(payload), `scp in (${name}) wrote the same bytes`);
    const down = await run('scp', ['-F', cfg, ...flags, `coder.dev:in-${name}`, path.join(tmp, `out-${name}`)]);
    assert.is(down.code, 0, `scp out (${name}): ${down.err}`);
    assert.ok(read(path.join(tmp, `out-${name}`)).equals(payload), `scp out (${name}) read the same bytes`);
  }
  const missing = await run('scp', ['-F', cfg, 'coder.dev:no-such-file', path.join(tmp, 'x')]);
  assert.not.equal(missing.code, 0, 'a missing file is an error');
  assert.match(missing.err, /No such file/);
});

test('web terminal: a shell in the browser runs commands, follows the window size, survives a reload', async () => {
  const { launchBrowser, signedInPage } = await import('../helpers/browser.ts');
  const admin = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'admin'");
  const session = (await issueKey(d.db, admin.id, 'session', null, 3_600_000)).secret;
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchBrowser();
  try {
    const page = await signedInPage(browser, base, session);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('response', (res) => res.status() >= 400 && problems.push(`${res.status()} ${res.url()}`));
    await page.goto(`${base}/workspaces`);
    await page.getByRole('link', { name: 'Open a terminal in admin/dev' }).click();
    await page.waitForURL(`${base}/workspaces/admin/dev/terminal`);
    await page.waitForSelector('#terminal[data-state="connected"]');
    const screen = () => page.locator('.xterm-rows').innerText();
    const shows = (what: string, re: RegExp) => until(what, async () => re.test(await screen()), 15_000);
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "six times seven is $((6*7))"; pwd\n');
    await shows('the command ran', /six times seven is 42/);
    assert.match(await screen(), new RegExp(path.join(r.root, 'admin', 'dev').replace(/[/.]/g, '\\$&')), 'in the workspace folder');

    // The shell's terminal has the browser's size, and follows a resize.
    const size = async () => page.locator('#terminal').evaluate((e) => `${(e as HTMLElement).dataset.rows} ${(e as HTMLElement).dataset.cols}`);
    const before = await size();
    await page.keyboard.type('stty size\n');
    await shows(`stty says ${before}`, new RegExp(`^${before}$`, 'm'));
    await page.setViewportSize({ width: 700, height: 500 });
    await until('the page refitted', async () => (await size()) !== before);
    const after = await size();
    await page.keyboard.type('clear; stty size\n');
    await shows(`stty says ${after}`, new RegExp(`^${after}$`, 'm'));

    // A reload reattaches to the same shell: its variables are still set.
    await page.keyboard.type('export MARK=still-here-$((40+2))\n');
    await page.reload();
    await page.waitForSelector('#terminal[data-state="connected"]');
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type('echo "mark: $MARK"\n');
    await shows('the same shell', /mark: still-here-42/);
    assert.equal(problems, [], 'no errors in the page (CSP included)');

    // Another user's session cannot open it: the page says not found, the socket is refused.
    const audit = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'terminal_session' AND target = 'admin/dev'");
    assert.ok(audit.n >= 2, 'each terminal connection is audited');
    // A cookie-authenticated socket from another site's page is refused (cross-site WebSocket hijacking).
    const { default: WebSocket } = await import('ws');
    const refusedWith = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/workspaces/admin/dev/pty?reconnect=abcdefgh12`, { headers: { cookie: `coder_git_session=${session}`, origin } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => (ws.close(), resolve(101)));
        ws.on('error', () => undefined);
      });
    assert.is(await refusedWith('https://evil.example'), 403);
    assert.is(await refusedWith(base), 101, 'the same cookie from this site opens it');
  } finally {
    await browser.close();
  }
});

test('the server goes away: disconnected; it comes back: the agent reconnects by itself', async () => {
  await app!.close();
  app = undefined;
  await serve();
  // (the state is in PostgreSQL: the new server sees the old socket's close, then the reconnect)
  await until('reconnected', async () => (await agent())?.status === 'connected' && (await d.db.one<{ n: number }>('SELECT count(*)::int AS n FROM agents WHERE last_connected_at > first_connected_at')).n === 1);
  assert.is((await agent())!.lifecycle, 'ready', 'the lifecycle is kept; the script did not run again');
});

test('a wrong token is refused, and said so (the agent keeps trying: a restored server may know it again)', async () => {
  const { err, aliveAfter } = await new Promise<{ err: string; aliveAfter: boolean }>((resolve) => {
    const c = spawn(process.execPath, [BIN, 'agent'], { env: { ...process.env, CODER_AGENT_TOKEN: 'not-a-token', CODER_AGENT_URL: `http://127.0.0.1:${port}` } });
    let out = '';
    const done = () => {
      const aliveAfter = c.exitCode === null && c.signalCode === null;
      c.kill();
      resolve({ err: out, aliveAfter });
    };
    c.stderr.on('data', (x) => {
      out += x;
      // the second refusal: it waited and tried again
      if ((out.match(/HTTP 401/g) ?? []).length >= 2) done();
    });
    setTimeout(done, 10_000).unref();
  });
  assert.match(err, /the server refused the connection \(HTTP 401\): the agent token is unknown or its build is no longer the latest/);
  assert.is((err.match(/HTTP 401/g) ?? []).length, 2, `refused, waited, tried again:\n${err}`);
  assert.ok(aliveAfter, 'the agent is still running after the refusals');
  const bad = await cli(['agent'], { env: { CODER_AGENT_URL: 'x' } });
  assert.is(bad.code, 64);
  assert.match(bad.stderr, /CODER_AGENT_TOKEN is not set/);
});

test('stopping the workspace stops the agent cleanly: shutting_down, off', async () => {
  r.edit('workspaces/admin/dev.yaml', (s) => s.replace('state: running', 'state: stopped'));
  commitAll(r.repo, 'stop');
  const res = await cg('apply', '--auto-approve');
  assert.is(res.code, 0, res.stdout + res.stderr);
  const lc = await until('off', async () => {
    const row = await d.db.oneOrNone<{ lifecycle: string }>("SELECT lifecycle FROM agents WHERE lifecycle = 'off'");
    return row?.lifecycle;
  }, 10_000);
  assert.is(lc, 'off');
});

test('start on connect: ssh to the stopped workspace starts it (through a runner), waits, runs the command', async () => {
  const runner = spawn(process.execPath, [BIN, 'runner', '--repo', r.repo, '--postgres-url', d.url, '--data-dir', r.data, '--interval', '1h', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let runnerLog = '';
  runner.stdout!.on('data', (c) => (runnerLog += c));
  runner.stderr!.on('data', (c) => (runnerLog += c));
  try {
    const env = { ...process.env, CODER_GIT_URL: `http://127.0.0.1:${port}`, CODER_GIT_TOKEN: token };
    const { execFile } = await import('node:child_process');
    const res = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'ssh', 'dev', '--start-timeout', '90s', 'echo', 'up:$(cat .motd)'], { env, timeout: 120_000 }, (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });
    assert.is(res.code, 0, `${res.err}\nrunner:\n${runnerLog}`);
    assert.is(res.out, 'up:Welcome to your coder-git workspace\n');
    assert.match(res.err, /Starting admin\/dev \(build #\d+\)…/);
    assert.match(res.err, /admin\/dev is ready\./);
    const w = await d.db.one<{ scheduled_state: string; reason: string }>("SELECT w.scheduled_state, b.reason FROM workspaces w JOIN workspace_builds b ON b.id = w.latest_build_id WHERE w.name = 'dev'");
    assert.equal(w, { scheduled_state: 'running', reason: 'manual' }, 'started like a schedule would: it stands until git changes state:');
    const audit = await d.db.one<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'workspace_start_requested' AND target = 'admin/dev'");
    assert.is(audit.actor, 'admin');
    // The runner's next reconcile leaves it running (git still says stopped; the plan does not undo it).
    const plan = await cg('plan');
    assert.match(plan.stdout, /No changes/, plan.stdout + plan.stderr);
    // --no-start refuses instead of starting; here it is running, so it just connects.
    const again = await new Promise<string>((resolve) => execFile(process.execPath, [BIN, 'ssh', 'dev', '--no-start', 'echo', 'again'], { env, timeout: 60_000 }, (_e, out) => resolve(out)));
    assert.is(again, 'again\n');
  } finally {
    runner.kill('SIGTERM');
    await new Promise((r) => runner.once('close', r));
  }
});

test('cleanup', async () => {
  // The agent the last test started (a stop would need a commit and a build): its process group, as
  // the template's stop does.
  try {
    process.kill(-Number(readFileSync(path.join(r.root, 'admin', 'dev.agent.pid'), 'utf8')), 'SIGTERM');
  } catch {}
  await app?.close();
  rmSync(r.root, { recursive: true, force: true });
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
