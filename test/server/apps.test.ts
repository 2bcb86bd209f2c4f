// Apps and shared ports through the server, with a real agent process: HTTP and WebSockets to ports
// inside the workspace at /@<owner>/<workspace>/apps/<app>/ and …/ports/<port>/; who may reach
// what (the owner; a shared port at "authenticated" for anyone signed in; nobody else's app); that
// coder-git's cookie and token never reach the app and the app cannot set them; Debian's Jupyter
// Notebook opened through the app proxy in Chromium, a kernel started and a cell run (its WebSocket
// through the proxy); the workspace page's apps (with health) and ports.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http, { createServer as httpServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { BIN } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { freePort, until } from '../helpers/wait.ts';
import { launchBrowser, signedInPage } from '../helpers/browser.ts';
import { pkgPath } from '../../src/paths.ts';
import { buildServer } from '../../src/server/app.ts';
import { deploymentFixture, type Fixture } from './setup.ts';

let d: TestDb;
let f: Fixture;
let app: FastifyInstance;
let base: string;
let agent: ChildProcess;
let agentLog = '';
let jupyter: ChildProcess | undefined;
let jupyterLog = '';
let web: Server;
let shared: Server;
let unshared: Server;
let browser: Browser;
let serverPort: number;
const ports = { web: 0, shared: 0, unshared: 0, jupyter: 0 };
const seen: { method?: string; url?: string; cookie?: string; authorization?: string; body?: string } = {};
const shots = process.env.SCREENSHOTS ?? tempDir('coder-git-shots-');

const listen = (s: Server, port: number) => new Promise<void>((r) => s.listen(port, '127.0.0.1', r));

test('set-up: a template with two apps, a workspace sharing a port, servers inside it, a real agent, Chromium', async () => {
  // The servers inside the workspace first, on ports of their own (the template names them).
  web = httpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      Object.assign(seen, { method: req.method, url: req.url, cookie: req.headers.cookie, authorization: req.headers.authorization, body });
      if (req.url === '/health') return void res.end('ok');
      res.setHeader('set-cookie', ['app_pref=dark; Path=/', 'coder_git_session=planted; Path=/']);
      res.end(`web ${req.method} ${req.url}`);
    });
  });
  const echo = new WebSocketServer({ server: web });
  echo.on('connection', (s, req) => s.on('message', (m) => s.send(`echo ${req.url} ${m}`)));
  shared = httpServer((req, res) => res.end(`shared ${req.url}`));
  unshared = httpServer((req, res) => res.end(`unshared ${req.url}`));
  await Promise.all([listen(web, 0), listen(shared, 0), listen(unshared, 0)]);
  const portOf = (s: Server) => (s.address() as { port: number }).port;
  Object.assign(ports, { web: portOf(web), shared: portOf(shared), unshared: portOf(unshared), jupyter: await freePort() });
  serverPort = await freePort();
  d = await testDatabase();
  f = await deploymentFixture(d, {
    // (Chromium resolves *.localhost to this machine: subdomain apps need no DNS here)
    deployment: `apiVersion: coder-git/v1\nkind: Deployment\naccess_url: http://127.0.0.1:${serverPort}\nwildcard_access_url: http://*.apps.localhost:${serverPort}\n`,
    files: {
      'templates/plain/template.yaml': [
        'apiVersion: coder-git/v1',
        'kind: Template',
        'max_port_share: authenticated',
        'apps:',
        '  web:',
        '    display_name: Web',
        '    icon: /static/app.svg',
        `    port: ${ports.web}`,
        '    healthcheck: { path: /health }',
        '  jupyter:',
        '    display_name: Jupyter Notebook',
        `    port: ${ports.jupyter}`,
        '    keep_prefix: true',
        '    healthcheck: { path: /@bob/box/apps/jupyter/api }',
        '  private:',
        '    display_name: On its own origin',
        `    port: ${ports.web}`,
        '    subdomain: true',
        '',
      ].join('\n'),
      'workspaces/bob/box.yaml': `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\nports:\n  - { port: ${ports.shared}, share: authenticated }\n`,
    },
  });
  app = await buildServer({ database: d, logger: false });
  await app.listen({ host: '127.0.0.1', port: serverPort });
  base = `http://127.0.0.1:${serverPort}`;
  agent = spawn(process.execPath, [BIN, 'agent'], { cwd: tempDir(), env: { ...process.env, CODER_AGENT_TOKEN: f.agentToken, CODER_AGENT_URL: base }, stdio: ['ignore', 'pipe', 'pipe'] });
  agent.stdout!.on('data', (c) => (agentLog += c));
  agent.stderr!.on('data', (c) => (agentLog += c));
  await until('the agent is connected', async () => !!(await d.db.oneOrNone('SELECT 1 FROM agents WHERE id = $1 AND first_connected_at IS NOT NULL AND disconnected_at IS NULL', [f.agentId])), { ms: 20_000, detail: () => agentLog });
  browser = await launchBrowser();
});

const get = (url: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(`${base}${url}`, { redirect: 'manual', ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
const bearer = (u: string) => ({ authorization: `Bearer ${f.tokens[u]}` });

test("an app over HTTP: the path below the app, the body, the app's own cookies; never coder-git's cookie or token, either way", async () => {
  let r = await get('/@bob/box/apps/web/some/path?x=1', { ...bearer('bob'), cookie: `coder_git_session=${f.tokens.bob}; app_pref=light` });
  assert.is(r.status, 200);
  assert.is(await r.text(), 'web GET /some/path?x=1');
  assert.is(seen.cookie, 'app_pref=light', "the app's cookie passes; coder-git's does not");
  assert.is(seen.authorization, undefined, 'nor the token');
  assert.equal(r.headers.getSetCookie(), ['app_pref=dark; Path=/'], 'the app cannot set coder-git\'s cookie');
  r = await get('/@bob/box/apps/web/form', bearer('bob'), { method: 'POST', body: 'a=1&b=2', headers: { ...bearer('bob'), 'content-type': 'application/x-www-form-urlencoded' } });
  assert.is(await r.text(), 'web POST /form');
  assert.is(seen.body, 'a=1&b=2', 'the body as sent');
  r = await get('/@bob/box/apps/web', bearer('bob'));
  assert.equal([r.status, r.headers.get('location')], [302, '/@bob/box/apps/web/']);
});

test('an app over WebSocket, through the agent', async () => {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/@bob/box/apps/web/socket`, { headers: bearer('bob') });
  const got = await new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => resolve(m.toString()));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('close', (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
  });
  assert.is(got, 'echo /socket hi');
  ws.close();
});

test('who reaches what: the owner (and owners) its apps; another member nothing of it; a shared port anyone signed in; an unshared one only the owner', async () => {
  const status = async (url: string, who?: string) => (await get(url, who ? bearer(who) : {})).status;
  assert.is(await status('/@bob/box/apps/web/', 'alice'), 200, 'an owner');
  assert.is(await status('/@bob/box/apps/web/', 'carol'), 404, 'another member: as if it did not exist');
  assert.is(await status('/@bob/box/apps/web/', 'dave'), 404, 'an auditor reads, never reaches in');
  assert.is(await status('/@bob/box/apps/nope/', 'bob'), 404);
  assert.is(await status('/@bob/box/apps/web/'), 302, 'signed out: to sign in');
  assert.is(await status(`/@bob/box/ports/${ports.shared}/`, 'carol'), 200, 'shared at authenticated');
  assert.is(await (await get(`/@bob/box/ports/${ports.shared}/a`, bearer('carol'))).text(), 'shared /a');
  assert.is(await status(`/@bob/box/ports/${ports.shared}/`), 302, 'but not signed out');
  assert.is(await status(`/@bob/box/ports/${ports.unshared}/`, 'carol'), 404, 'not shared');
  assert.is(await status(`/@bob/box/ports/${ports.unshared}/`, 'bob'), 200, 'its owner reaches any port');
  assert.is(await status('/@carol/lab/apps/web/', 'carol'), 502, "carol's own workspace: not running (no agent)");
});

test('in Chromium: another member opens the port shared at "authenticated", and is refused the unshared one and the app', async () => {
  const p = await signedInPage(browser, base, f.tokens.carol!);
  let res = await p.goto(`${base}/@bob/box/ports/${ports.shared}/page`);
  assert.is(res!.status(), 200);
  assert.is(await p.locator('body').textContent(), 'shared /page');
  res = await p.goto(`${base}/@bob/box/ports/${ports.unshared}/`);
  assert.is(res!.status(), 404);
  assert.match((await p.locator('main').textContent()) ?? '', /There is no port \d+ of bob\/box that you can reach/);
  res = await p.goto(`${base}/@bob/box/apps/web/`);
  assert.is(res!.status(), 404);
  await p.context().close();
});

test('a subdomain app: on its own origin (<app>--<workspace>--<owner>.<wildcard domain>), signed in through the dashboard, its WebSocket too; never under the path; nobody else\'s', async () => {
  const host = `private--box--bob.apps.localhost:${serverPort}`;
  const r = await get('/@bob/box/apps/private/x?y=1', bearer('bob'));
  assert.equal([r.status, r.headers.get('location')], [302, `http://${host}/x?y=1`], 'the path route sends it to its own origin');
  const p = await signedInPage(browser, base, f.tokens.bob!);
  await p.goto(`http://${host}/hello?x=1`);
  assert.is(new URL(p.url()).host, host, 'back on the app host after signing in there');
  assert.is(await p.locator('body').textContent(), 'web GET /hello?x=1');
  assert.equal(seen.cookie?.split('; ').filter((c) => c.startsWith('coder_git')) ?? [], [], 'no coder-git cookie reaches the app');
  const echoed = await p.evaluate((h) => new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://${h}/socket`);
    ws.onopen = () => ws.send('there');
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error('websocket failed'));
  }), host);
  assert.is(echoed, 'echo /socket there');
  await p.context().close();
  const other = await signedInPage(browser, base, f.tokens.carol!);
  const res = await other.goto(`http://${host}/`);
  assert.is(res!.status(), 404, "carol: bob's app is not hers to reach");
  await other.context().close();
  // An app host serves only apps: the dashboard and the API are not there (another origin must not reach them).
  const api = await new Promise<{ status: number; location?: string }>((resolve) => {
    const q = http.request({ host: '127.0.0.1', port: serverPort, path: '/api/v1/me', headers: { host, authorization: `Bearer ${f.tokens.bob}` } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, location: res.headers.location });
    });
    q.end();
  });
  assert.is(api.status, 302, 'the API path on an app host is the app\'s (sign-in first), not the API');
  assert.match(api.location ?? '', /\/apps\/auth\?to=/);
});

test('Jupyter Notebook through the app proxy in Chromium: a kernel started, a cell run (its WebSocket through the proxy)', async () => {
  try {
    execFileSync(pkgPath('scripts', 'install-debian.sh'), ['jupyter-notebook', 'jupyter-notebook'], { stdio: 'inherit' });
    execFileSync(pkgPath('scripts', 'install-debian.sh'), ['/usr/share/jupyter/kernels/python3/kernel.json', 'python3-ipykernel'], { stdio: 'inherit' });
  } catch {
    assert.unreachable('jupyter-notebook and python3-ipykernel could not be installed (apt-get install jupyter-notebook python3-ipykernel)');
  }
  const dir = tempDir('coder-git-notebooks-');
  mkdirSync(path.join(dir, '.home'), { recursive: true });
  // (Debian's python first on PATH: its kernel spec and ipykernel; a home of its own)
  jupyter = spawn('/usr/bin/jupyter-notebook', ['--no-browser', '--ip=127.0.0.1', `--port=${ports.jupyter}`, '--NotebookApp.token=', '--NotebookApp.password=', '--NotebookApp.base_url=/@bob/box/apps/jupyter/', `--notebook-dir=${dir}`, '--allow-root'], {
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}`, HOME: path.join(dir, '.home'), JUPYTER_RUNTIME_DIR: path.join(dir, '.home', 'runtime') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  jupyter.stdout!.on('data', (c) => (jupyterLog += c));
  jupyter.stderr!.on('data', (c) => (jupyterLog += c));
  await until('Jupyter answers through the proxy', async () => (await get('/@bob/box/apps/jupyter/api', bearer('bob'))).status === 200, { ms: 60_000, detail: () => jupyterLog.slice(-3000) });
  const nb = { type: 'notebook', content: { cells: [{ cell_type: 'code', source: 'print(6 * 7)', metadata: {}, outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 } };
  // (written inside the workspace, as its owner would; the page does the rest through the proxy)
  writeFileSync(path.join(dir, 'answer.ipynb'), JSON.stringify(nb.content));
  const p = await signedInPage(browser, base, f.tokens.bob!, { width: 1100, height: 800 });
  await p.goto(`${base}/@bob/box/apps/jupyter/notebooks/answer.ipynb`);
  await p.waitForSelector('.CodeMirror', { timeout: 30_000 });
  // the kernel: started by the page, its channels a WebSocket through the proxy
  await p.waitForFunction(() => (window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } }).Jupyter?.notebook?.kernel?.is_connected(), undefined, { timeout: 60_000 });
  await p.evaluate(() => (window as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }).Jupyter.notebook.execute_all_cells());
  await p.waitForSelector('.output_area pre', { timeout: 30_000 });
  assert.is((await p.locator('.output_area pre').first().textContent())?.trim(), '42');
  mkdirSync(shots, { recursive: true });
  await p.screenshot({ path: path.join(shots, 'jupyter.png') });
  await p.context().close();
});

test("the workspace page: its apps with their health and links, listening ports, shared ports", async () => {
  await until('the agent reported its listening ports', async () => {
    const r = await d.db.one<{ p: { port: number }[] | null }>('SELECT listening_ports AS p FROM agents WHERE id = $1', [f.agentId]);
    return !!r.p?.some((x) => x.port === ports.web);
  }, { ms: 15_000 });
  const p = await signedInPage(browser, base, f.tokens.bob!);
  await p.goto(`${base}/workspaces/bob/box`);
  const apps = p.locator('h2:has-text("Apps") + table');
  assert.match((await apps.textContent()) ?? '', /Web[\s\S]*healthy[\s\S]*Jupyter Notebook[\s\S]*healthy/);
  assert.is(await apps.getByRole('link', { name: 'Web' }).getAttribute('href'), '/@bob/box/apps/web/');
  const portsTable = (await p.locator('h2:has-text("Ports") + table').textContent()) ?? '';
  assert.match(portsTable, new RegExp(`${ports.shared}[\\s\\S]*authenticated`));
  assert.match(portsTable, new RegExp(`${ports.unshared}[\\s\\S]*owner`));
  mkdirSync(shots, { recursive: true });
  await p.screenshot({ path: path.join(shots, 'workspace-apps.png'), fullPage: true });
  await p.context().close();
});

test('cleanup', async () => {
  jupyter?.kill('SIGKILL');
  agent?.kill('SIGKILL');
  await browser?.close();
  for (const s of [web, shared, unshared]) s?.close();
  await app?.close();
  await d?.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
