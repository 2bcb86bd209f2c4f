// Sign in with SSO against a real OpenID provider (oidc-provider) started inside the test, in real
// Chromium: the round trip, and each way an identity is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { freePort } from '../helpers/wait.ts';
import type { Browser, BrowserContext } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import Provider from 'oidc-provider';
import { spawn } from 'node:child_process';
import { BIN } from '../helpers/cli.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { buildServer } from '../../src/server/app.ts';
import { claimGroups, matchIdentity } from '../../src/server/oidc.ts';
import { deploymentFixture } from './setup.ts';

let d: TestDb;
let app: FastifyInstance;
let idp: Server;
let browser: Browser;
let base: string;

const ACCOUNTS: Record<string, { email: string; email_verified: boolean; groups?: string[] }> = {
  olga: { email: 'olga@example.com', email_verified: true, groups: ['staff'] },
  bob: { email: 'bob@example.com', email_verified: true },
  ghost: { email: 'ghost@example.com', email_verified: true },
  unverified: { email: 'olga@example.com', email_verified: false },
  outsider: { email: 'olga@other.org', email_verified: true },
};

test('matchIdentity: a verified email, from an allowed domain', () => {
  assert.equal(matchIdentity({}, { email: 'A@Example.com', email_verified: true }), { email: 'a@example.com' });
  assert.match((matchIdentity({}, { email: 'a@example.com', email_verified: false }) as { refused: string }).refused, /not verified/);
  assert.match((matchIdentity({}, { sub: 'x' }) as { refused: string }).refused, /no email/);
  assert.match((matchIdentity({ allowed_domains: ['example.com'] }, { email: 'a@evil.com', email_verified: true }) as { refused: string }).refused, /evil\.com is not allowed/);
});

test('claimGroups: a list or one string; anything else is none', () => {
  assert.equal(claimGroups({ groups: ['b', 'a', 'a', 7, ''] }, 'groups'), ['a', 'b']);
  assert.equal(claimGroups({ roles: 'platform' }, 'roles'), ['platform']);
  assert.equal(claimGroups({ groups: { a: 1 } }, 'groups'), []);
  assert.equal(claimGroups({ groups: ['a'] }, undefined), []);
});

test('set-up: an OpenID provider and a server configured for it', async () => {
  const [idpPort, appPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${idpPort}`;
  base = `http://127.0.0.1:${appPort}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'coder-git', client_secret: 'idp-client-secret', redirect_uris: [`${base}/login/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    conformIdTokenClaims: false,
    cookies: { keys: ['test-cookie-key'] },
    findAccount: async (_ctx: unknown, id: string) => (ACCOUNTS[id] ? { accountId: id, claims: async () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined),
  } as never);
  idp = createServer(provider.callback());
  await new Promise<void>((r) => idp.listen(idpPort, '127.0.0.1', r));
  process.env.TEST_OIDC_SECRET = 'idp-client-secret';
  d = await testDatabase();
  await deploymentFixture(d, {
    deployment: `apiVersion: coder-git/v1\nkind: Deployment\naccess_url: ${base}\nauth:\n  oidc:\n    issuer_url: ${issuer}\n    client_id: coder-git\n    client_secret_env: TEST_OIDC_SECRET\n    allowed_domains: [example.com]\n    scopes: [openid, email, groups]\n    groups_claim: groups\n`,
    files: { 'groups/platform.yaml': 'apiVersion: coder-git/v1\nkind: Group\noidc_group: platform\nroles: [auditor]\n' },
  });
  app = await buildServer({ database: d, logger: false });
  await app.listen({ host: '127.0.0.1', port: appPort });
  browser = await launchBrowser();
});

/** From our login page through the provider's login and consent, back to us. */
async function sso(ctx: BrowserContext, account: string): Promise<{ url: string; text: string }> {
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Sign in with SSO' }).click(); // a link with the button role
  try {
    await page.waitForURL(/127\.0\.0\.1:\d+\/interaction\//, { timeout: 5000 });
  } catch {
    throw new Error(`not at the provider: ${page.url()}\n${(await page.content()).slice(0, 1500)}`);
  }
  await page.locator('input[name=login]').fill(account);
  await page.locator('input[name=password]').fill('anything');
  await page.locator('button[type=submit]').click();
  // Then the provider asks for consent (its dev interaction: one "Continue" button).
  await page.waitForLoadState();
  if (page.url().includes('/interaction/')) await page.locator('button[type=submit]').first().click();
  await page.waitForURL((u) => u.toString().startsWith(base), { timeout: 15_000 });
  await page.waitForLoadState();
  const r = { url: page.url(), text: (await page.locator('main').textContent()) ?? '' };
  await page.close();
  return r;
}

test('a user declared with login: oidc signs in and lands on their workspaces', async () => {
  const ctx = await browser.newContext();
  const r = await sso(ctx, 'olga');
  assert.is(r.url, `${base}/workspaces`, r.text);
  assert.match(r.text, /My workspaces/);
  const cookie = (await ctx.cookies()).find((c) => c.name === 'coder_git_session');
  assert.ok(cookie?.httpOnly);
  const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: `coder_git_session=${cookie!.value}` } });
  assert.is((await me.json()).username, 'olga');
  const audit = await d.db.one<{ details: { method: string } }>("SELECT details FROM audit_log WHERE action = 'login' AND actor = 'olga'");
  assert.is(audit.details.method, 'oidc');
  await ctx.close();
});

for (const [account, why] of [
  ['ghost', /No user with email ghost@example\.com is declared/],
  ['bob', /bob does not sign in with SSO/],
  ['unverified', /not verified/],
  ['outsider', /other\.org is not allowed/],
] as const) {
  test(`refused: ${account}`, async () => {
    const ctx = await browser.newContext();
    const r = await sso(ctx, account);
    assert.match(r.text, why);
    assert.not.ok((await ctx.cookies()).some((c) => c.name === 'coder_git_session'), 'no session');
    await ctx.close();
  });
}

test("groups from the claim: a sign-in in the IdP's group gets the group's roles, a later one without it loses them (its older session too)", async () => {
  const roles = async (cookie: string) => (await (await fetch(`${base}/api/v1/me`, { headers: { cookie: `coder_git_session=${cookie}` } })).json()).roles;
  const signIn = async () => {
    const ctx = await browser.newContext();
    await sso(ctx, 'olga');
    const c = (await ctx.cookies()).find((x) => x.name === 'coder_git_session')!.value;
    await ctx.close();
    return c;
  };
  ACCOUNTS.olga!.groups = ['platform', 'staff'];
  const first = await signIn();
  assert.equal(await roles(first), ['auditor', 'member']);
  assert.equal((await d.db.one("SELECT idp_groups FROM users WHERE username = 'olga'")).idp_groups, ['platform', 'staff']);
  const audit = await d.db.one<{ details: { groups: string[] } }>("SELECT details FROM audit_log WHERE action = 'login' AND actor = 'olga' ORDER BY id DESC LIMIT 1");
  assert.equal(audit.details.groups, ['platform', 'staff']);
  // The auditor role reads every workspace; a member reads their own.
  assert.is((await fetch(`${base}/api/v1/users`, { headers: { cookie: `coder_git_session=${first}` } })).status, 200);
  ACCOUNTS.olga!.groups = ['staff'];
  const second = await signIn();
  assert.equal(await roles(second), ['member']);
  assert.equal(await roles(first), ['member'], 'the older session lost the role at once');
  assert.is((await fetch(`${base}/api/v1/users`, { headers: { cookie: `coder_git_session=${first}` } })).status, 403);
});

test('a callback that did not start here (no state cookie, or a forged state) is refused', async () => {
  const res = await fetch(`${base}/login/oidc/callback?code=abc&state=xyz`);
  assert.is(res.status, 400);
  assert.match(await res.text(), /did not start here/);
  const flow = Buffer.from(JSON.stringify({ state: 'expected', nonce: 'n', verifier: 'v'.repeat(43), next: '/' })).toString('base64url');
  const forged = await fetch(`${base}/login/oidc/callback?code=abc&state=other`, { headers: { cookie: `coder_git_oidc=${flow}` } });
  assert.is(forged.status, 400);
  assert.match(await forged.text(), /could not be verified/);
});

test('coder-git login --sso: the browser approves, the token comes back to the CLI', async () => {
  const config = tempDir();
  const child = spawn(process.execPath, [BIN, 'login', base, '--sso', '--no-browser'], { env: { ...process.env, XDG_CONFIG_HOME: config }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (x) => (out += x));
  child.stderr!.on('data', (x) => (err += x));
  const exited = new Promise((r) => child.on('close', r));
  const end = Date.now() + 20_000;
  while (!/(http:\/\/\S+\/login\/cli\?\S+)/.test(err) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const link = /(http:\/\/\S+\/login\/cli\?\S+)/.exec(err)![1]!;
  const ctx = await browser.newContext();
  await sso(ctx, 'olga');
  const page = await ctx.newPage();
  await page.goto(link);
  assert.match((await page.locator('main').textContent()) ?? '', /gets an API token \(30 days\) to act as olga/);
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
  assert.match((await page.textContent('body')) ?? '', /Signed in\. You can close this tab/);
  assert.is(await exited, 0, err);
  assert.match(out, new RegExp(`Signed in to ${base} as olga`));
  // A callback that is not a loopback address is refused.
  await page.goto(`${base}/login/cli?callback=${encodeURIComponent('https://evil.example.com/cb')}&state=${'s'.repeat(20)}`);
  assert.match((await page.locator('main').textContent()) ?? '', /callback must be http:\/\/127\.0\.0\.1:PORT/);
  // An approval link without the CSRF token mints nothing.
  const before = (await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE name = 'cli (sso)'")).n;
  await page.goto(`${base}/login/cli/approve?callback=${encodeURIComponent('http://127.0.0.1:9/cb')}&state=${'s'.repeat(20)}&_csrf=guess`);
  assert.match((await page.locator('main').textContent()) ?? '', /CSRF check failed/);
  assert.is((await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE name = 'cli (sso)'")).n, before);
  await ctx.close();
});

test('cleanup', async () => {
  await browser.close();
  await app.close();
  idp.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
