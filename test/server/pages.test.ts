// The pages in real Chromium against a real server on a port: sign in (wrong and right password),
// the workspaces page, CSRF refusal, creating and revoking an API token, signing out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { buildServer } from '../../src/server/app.ts';
import { deploymentFixture, PASSWORDS, type Fixture } from './setup.ts';

let d: TestDb;
let app: FastifyInstance;
let f: Fixture;
let browser: Browser;
let page: Page;
let base: string;

test('set-up: a server on a port, Chromium', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  app = await buildServer({ database: d, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
});

test('a page that needs a session sends you to sign in, and back afterwards', async () => {
  await page.goto(`${base}/tokens`);
  assert.match(page.url(), /\/login\?next=%2Ftokens$/);
  assert.is(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');
  assert.ok(await page.getByLabel('Username or email').isVisible(), 'fields have labels');
});

test('a wrong password is refused with a message, and the name is kept', async () => {
  await page.getByLabel('Username or email').fill('bob');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.is(await page.getByRole('alert').textContent(), 'Wrong username or password.');
  assert.is(await page.getByLabel('Username or email').inputValue(), 'bob');
});

test('the right password signs in: HttpOnly SameSite=Lax session cookie; my workspaces', async () => {
  await page.getByLabel('Password').fill(PASSWORDS.bob);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/tokens`);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'coder_git_session')!;
  assert.equal([cookie.httpOnly, cookie.sameSite, cookie.secure], [true, 'Lax', false]);
  f.secrets.push(cookie.value);
  await page.goto(`${base}/workspaces`);
  const rows = await page.locator('table tbody tr').allTextContents();
  assert.is(rows.length, 1, 'a member sees their own workspace only');
  assert.match(rows[0]!, /box\s*plain\s*running/);
  assert.not.ok(await page.getByRole('heading', { name: 'Latest syncs' }).count(), 'no syncs for a member');
});

test('a form whose CSRF token does not match is refused, and nothing happens', async () => {
  await page.goto(`${base}/tokens`);
  await page.getByLabel('Name').fill('forged');
  await page.locator('form.card input[name=_csrf]').evaluate((el) => ((el as HTMLInputElement).value = 'A'.repeat(43)));
  const [res] = await Promise.all([page.waitForResponse((r) => r.url() === `${base}/tokens` && r.request().method() === 'POST'), page.getByRole('button', { name: 'Create token' }).click()]);
  assert.is(res.status(), 403);
  assert.match(await page.locator('main').textContent() ?? '', /CSRF check failed/);
  assert.is((await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE name = 'forged'")).n, 0);
});

test('creating an API token shows it once; it works; revoking it ends it', async () => {
  await page.goto(`${base}/tokens`);
  await page.getByLabel('Name').fill('laptop');
  await page.getByLabel('Lifetime').selectOption('7d');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.locator('#new-token').textContent())!;
  f.secrets.push(token);
  assert.match(token, /^cgt_[A-Za-z0-9_-]{43}$/);
  const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.is((await me.json()).username, 'bob');
  await page.goto(`${base}/tokens`);
  assert.is(await page.locator('#new-token').count(), 0, 'not shown again');
  await page.getByRole('button', { name: 'Revoke laptop' }).click();
  assert.is(await page.getByRole('status').textContent(), 'Token revoked.');
  assert.is((await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
});

test('an owner also sees every workspace, the latest syncs and failed builds', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(`${base}/login`);
  await p.getByLabel('Username or email').fill('alice@example.com');
  await p.getByLabel('Password').fill(PASSWORDS.alice);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.waitForURL(`${base}/workspaces`);
  assert.ok(await p.getByRole('heading', { name: "Everyone else's workspaces" }).isVisible());
  assert.match((await p.locator('h2:has-text("Everyone else") + table').textContent()) ?? '', /bob[\s\S]*box[\s\S]*carol[\s\S]*lab/);
  assert.ok(await p.getByRole('heading', { name: 'Latest syncs' }).isVisible());
  assert.match((await p.locator('h2:has-text("Latest syncs") + table').textContent()) ?? '', /applying/);
  await ctx.close();
});

test('signing out ends the session: the old cookie no longer works', async () => {
  const old = (await page.context().cookies()).find((c) => c.name === 'coder_git_session')!.value;
  await page.goto(`${base}/workspaces`);
  await page.getByRole('button', { name: /Sign out bob/ }).click();
  await page.waitForURL(`${base}/login`);
  assert.is((await fetch(`${base}/api/v1/me`, { headers: { cookie: `coder_git_session=${old}` } })).status, 401);
  const audit = await d.db.any<{ action: string }>("SELECT action FROM audit_log WHERE actor = 'bob' OR target = 'bob' ORDER BY id");
  assert.equal(audit.map((a) => a.action).filter((a) => a !== 'token_created' && a !== 'token_revoked'), ['login_failed', 'login', 'logout']);
});

test('cleanup', async () => {
  await browser.close();
  await app.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
