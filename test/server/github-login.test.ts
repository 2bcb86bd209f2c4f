// Sign in with GitHub against a stand-in of GitHub's documented OAuth app flow and REST API, in real
// Chromium: matched by the user file's github login or a verified email, allowed organizations and
// teams (through pagination and private memberships), every way an identity is refused, a forged
// state, PKCE; then the same deployment pointed at "GitHub Enterprise Server" (the API at /api/v3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, BrowserContext } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { freePort, until } from '../helpers/wait.ts';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { githubStandin, type GithubAccount, type GithubStandin } from '../helpers/github-standin.ts';
import { buildServer } from '../../src/server/app.ts';
import { githubRefusal, githubScopes, githubUrls } from '../../src/auth/github.ts';
import { deploymentFixture, type Fixture } from './setup.ts';

let d: TestDb;
let f: Fixture;
let app: FastifyInstance;
let gh: GithubStandin;
let browser: Browser;
let base: string;

const manyOrgs = Array.from({ length: 149 }, (_, i) => ({ login: `org-${i}`, public: true }));
const ACCOUNTS: GithubAccount[] = [
  // declared by login (in another case than the user file's), acme only privately and after 149 others
  { id: 1, login: 'Gina-GH', emails: [{ email: 'gina@elsewhere.org', verified: true, primary: true }], orgs: [...manyOrgs, { login: 'acme', public: false }], teams: [{ org: 'acme', slug: 'platform' }] },
  // matched by verified email (hank's user file names no GitHub login)
  { id: 2, login: 'hank-gh', emails: [{ email: 'old@hank.dev', verified: false }, { email: 'Hank@Example.com', verified: true }], orgs: [{ login: 'ACME', public: true }], teams: [{ org: 'acme', slug: 'dev' }] },
  // has gina's email, verified: but gina declares her GitHub login, so only that account is her
  { id: 3, login: 'mallory', emails: [{ email: 'gina@example.com', verified: true }], orgs: [{ login: 'acme', public: true }], teams: [{ org: 'acme', slug: 'dev' }] },
  { id: 4, login: 'ivy-gh', emails: [{ email: 'ivy@example.com', verified: true }], orgs: [{ login: 'other', public: true }] },
  { id: 5, login: 'tess-gh', emails: [{ email: 'tess@example.com', verified: true }], orgs: [{ login: 'acme', public: true }], teams: [{ org: 'acme', slug: 'sales' }] },
  { id: 6, login: 'unverified', emails: [{ email: 'hank@example.com', verified: false }], orgs: [{ login: 'acme', public: true }], teams: [{ org: 'acme', slug: 'dev' }] },
  { id: 7, login: 'pat-gh', emails: [{ email: 'pat@example.com', verified: true }], orgs: [{ login: 'acme', public: true }], teams: [{ org: 'acme', slug: 'dev' }] },
  { id: 8, login: 'sid-gh', emails: [{ email: 'sid@example.com', verified: true }], orgs: [{ login: 'acme', public: true }], teams: [{ org: 'acme', slug: 'dev' }] },
];
const user = (email: string, extra: string) => `apiVersion: coder-git/v1\nkind: User\nemail: ${email}\nroles: [member]\n${extra}`;
const deployment = (github: string) => `apiVersion: coder-git/v1\nkind: Deployment\naccess_url: ${base}\nauth:\n  github:\n    client_id: Iv1.coder-git-test\n    client_secret_env: TEST_GITHUB_SECRET\n${github}`;

test('the pure parts: URLs for github.com and Enterprise, scopes, organizations and teams', () => {
  assert.equal(githubUrls({ base_url: 'https://github.com' }), { authorize: 'https://github.com/login/oauth/authorize', token: 'https://github.com/login/oauth/access_token', api: 'https://api.github.com' });
  assert.is(githubUrls({ base_url: 'https://github.example.com/' }).api, 'https://github.example.com/api/v3');
  assert.throws(() => githubUrls({ base_url: 'http://github.example.com' }), /auth\.github: http:\/\/github\.example\.com is plain http; GitHub sign-in needs https/);
  assert.equal(githubScopes({}), ['read:user', 'user:email']);
  assert.equal(githubScopes({ allowed_teams: ['a/b'] }), ['read:user', 'user:email', 'read:org']);
  assert.is(githubRefusal({ allowed_organizations: ['Acme'] }, { login: 'x', orgs: ['acme'], teams: [] }), undefined);
  assert.match(githubRefusal({ allowed_organizations: ['acme', 'beta'] }, { login: 'x', orgs: [], teams: [] })!, /x is not a member of acme or beta on GitHub/);
  assert.match(githubRefusal({ allowed_teams: ['acme/dev'] }, { login: 'x', orgs: ['acme'], teams: ['acme/sales'] })!, /x is not in the team acme\/dev/);
});

test('set-up: the GitHub stand-in, a deployment with auth.github (organization acme, teams platform and dev), a server', async () => {
  const appPort = await freePort();
  base = `http://127.0.0.1:${appPort}`;
  gh = await githubStandin({ clientId: 'Iv1.coder-git-test', clientSecret: 'gh-client-secret', callback: `${base}/login/github/callback`, accounts: ACCOUNTS });
  process.env.TEST_GITHUB_SECRET = 'gh-client-secret';
  d = await testDatabase();
  f = await deploymentFixture(d, {
    deployment: deployment(`    base_url: ${gh.url}\n    api_url: ${gh.url}\n    allowed_organizations: [acme]\n    allowed_teams: [acme/platform, acme/dev]\n`),
    files: {
      'users/gina.yaml': user('gina@example.com', 'login: github\ngithub: gina-gh\n'),
      'users/hank.yaml': user('hank@example.com', 'login: github\n'),
      'users/ivy.yaml': user('ivy@example.com', 'login: github\ngithub: ivy-gh\n'),
      'users/tess.yaml': user('tess@example.com', 'login: github\ngithub: tess-gh\n'),
      'users/pat.yaml': user('pat@example.com', 'login: none\ngithub: pat-gh\n'),
      'users/sid.yaml': user('sid@example.com', 'login: github\ngithub: sid-gh\nstatus: suspended\n'),
    },
  });
  app = await buildServer({ database: d, logger: false });
  await app.listen({ host: '127.0.0.1', port: appPort });
  browser = await launchBrowser();
});

/** From our login page to the stand-in's authorize page, Authorize (or Cancel), back to us. */
async function signIn(ctx: BrowserContext, login: string, o: { cancel?: boolean } = {}): Promise<{ url: string; text: string }> {
  gh.signedIn = login;
  const page = await ctx.newPage();
  await page.goto(`${base}/login`);
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.waitForURL((u) => u.toString().startsWith(`${gh.url}/login/oauth/authorize`), { timeout: 10_000 });
  await page.locator(o.cancel ? '#cancel' : '#authorize').click();
  // (a good sign-in is redirected on to its page; a refusal is the callback's own page)
  await page.waitForURL((u) => u.toString().startsWith(base), { timeout: 15_000 });
  await page.waitForLoadState();
  const r = { url: page.url(), text: (await page.locator('main').textContent()) ?? '' };
  await page.close();
  return r;
}
const sessionOf = async (ctx: BrowserContext) => (await ctx.cookies()).find((c) => c.name === 'coder_git_session')?.value;
const whoami = async (cookie: string) => (await (await fetch(`${base}/api/v1/me`, { headers: { cookie: `coder_git_session=${cookie}` } })).json()).username;

test('a user declared with login: github and github: <login> signs in (case-insensitively, acme found on page 2 of a private membership) and lands on their workspaces', async () => {
  const ctx = await browser.newContext();
  const r = await signIn(ctx, 'Gina-GH');
  assert.is(r.url, `${base}/workspaces`, r.text);
  assert.match(r.text, /My workspaces/);
  assert.is(await whoami((await sessionOf(ctx))!), 'gina');
  // state and PKCE went out; read:org was asked for (acme is a private membership)
  const q = gh.authorizations.at(-1)!;
  assert.is(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.get('state') ?? '', /^[A-Za-z0-9_-]{32}$/);
  assert.is(q.get('scope'), 'read:user user:email read:org');
  assert.is(q.get('redirect_uri'), `${base}/login/github/callback`);
  assert.ok(gh.requests.filter((x) => x === 'GET /user/orgs').length >= 2, 'followed the Link header to the second page');
  const audit = await d.db.one<{ details: Record<string, unknown> }>("SELECT details FROM audit_log WHERE action = 'login' AND actor = 'gina'");
  assert.equal(audit.details, { method: 'github', github: 'Gina-GH', github_id: 1, matched_by: 'login' });
  await ctx.close();
});

test('a user whose file names no GitHub login is matched by a verified email', async () => {
  const ctx = await browser.newContext();
  const r = await signIn(ctx, 'hank-gh');
  assert.is(r.url, `${base}/workspaces`, r.text);
  assert.is(await whoami((await sessionOf(ctx))!), 'hank');
  const audit = await d.db.one<{ details: { matched_by: string } }>("SELECT details FROM audit_log WHERE action = 'login' AND actor = 'hank'");
  assert.is(audit.details.matched_by, 'email');
  await ctx.close();
});

for (const [login, why] of [
  ['mallory', /No user in the config repo has github: mallory or the email gina@example\.com/],
  ['unverified', /No user in the config repo has github: unverified \(and GitHub shows no verified email\)/],
  ['ivy-gh', /ivy-gh is not a member of acme on GitHub \(coder-git\.yaml auth\.github\.allowed_organizations\)/],
  ['tess-gh', /tess-gh is not in the team acme\/platform or acme\/dev on GitHub/],
  ['pat-gh', /pat does not sign in with GitHub \(users\/pat\.yaml login: none\)/],
  ['sid-gh', /This account is suspended/],
] as const) {
  test(`refused: ${login}`, async () => {
    const ctx = await browser.newContext();
    const r = await signIn(ctx, login);
    assert.match(r.text, why);
    assert.is(await sessionOf(ctx), undefined, 'no session');
    await ctx.close();
  });
}

test('cancelled on GitHub, a forged state, a replayed code, a wrong client secret: no session, each said', async () => {
  const ctx = await browser.newContext();
  const r = await signIn(ctx, 'hank-gh', { cancel: true });
  assert.match(r.text, /GitHub sign-in was cancelled/);
  assert.is(await sessionOf(ctx), undefined);
  // A callback with a state of someone else's making (login CSRF): refused before any code is used.
  const forged = await fetch(`${base}/login/github/callback?code=abc&state=forged`, { headers: { cookie: `coder_git_github=${Buffer.from(JSON.stringify({ state: 'mine', verifier: 'v' })).toString('base64url')}` }, redirect: 'manual' });
  assert.is(forged.status, 400);
  assert.match(await forged.text(), /did not start here/);
  // A code used twice (the stand-in forgets it after the first exchange, as GitHub does).
  const start = await fetch(`${base}/login/github`, { redirect: 'manual' });
  const flowCookie = start.headers.get('set-cookie')!.split(';')[0]!;
  const authorize = new URL(start.headers.get('location')!);
  gh.signedIn = 'hank-gh';
  const approved = await fetch(`${gh.url}/login/oauth/authorize/approve${authorize.search}`, { redirect: 'manual' });
  const callback = approved.headers.get('location')!;
  const first = await fetch(callback, { headers: { cookie: flowCookie }, redirect: 'manual' });
  assert.is(first.status, 303);
  const again = await fetch(callback, { headers: { cookie: flowCookie }, redirect: 'manual' });
  assert.is(again.status, 502);
  assert.match(await again.text(), /GitHub’s answer could not be used/);
  const failed = await d.db.one<{ details: { reason: string } }>("SELECT details FROM audit_log WHERE action = 'login_failed' AND details->>'method' = 'github' ORDER BY id DESC LIMIT 1");
  assert.match(failed.details.reason, /GitHub refused the code: The code passed is incorrect or expired/);
  // A server without its client secret says so before anyone goes to GitHub.
  delete process.env.TEST_GITHUB_SECRET;
  const unset = await fetch(`${base}/login/github`, { redirect: 'manual' });
  assert.is(unset.status, 500);
  assert.match(await unset.text(), /the server&#39;s environment does not set TEST_GITHUB_SECRET \(auth\.github\.client_secret_env\)/);
  // A server whose client secret is wrong: the exchange is refused.
  process.env.TEST_GITHUB_SECRET = 'not-the-secret';
  const ctx2 = await browser.newContext();
  const r2 = await signIn(ctx2, 'hank-gh');
  assert.match(r2.text, /GitHub’s answer could not be used/);
  assert.is(await sessionOf(ctx2), undefined);
  process.env.TEST_GITHUB_SECRET = 'gh-client-secret';
  await ctx.close();
  await ctx2.close();
});

test('a PKCE verifier that does not match the challenge is refused by the host', async () => {
  const start = await fetch(`${base}/login/github`, { redirect: 'manual' });
  const flow = JSON.parse(Buffer.from(start.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!, 'base64url').toString());
  const authorize = new URL(start.headers.get('location')!);
  gh.signedIn = 'hank-gh';
  const callback = (await fetch(`${gh.url}/login/oauth/authorize/approve${authorize.search}`, { redirect: 'manual' })).headers.get('location')!;
  const tampered = Buffer.from(JSON.stringify({ ...flow, verifier: 'x'.repeat(43) })).toString('base64url');
  const res = await fetch(callback, { headers: { cookie: `coder_git_github=${tampered}` }, redirect: 'manual' });
  assert.is(res.status, 502);
  const failed = await d.db.one<{ details: { reason: string } }>("SELECT details FROM audit_log WHERE action = 'login_failed' AND details->>'method' = 'github' ORDER BY id DESC LIMIT 1");
  assert.match(failed.details.reason, /code_verifier does not match/);
});

test('GitHub Enterprise Server: base_url alone, the API at <base_url>/api/v3; no organization rule, so read:org is not asked for', async () => {
  await f.apply({ 'coder-git.yaml': deployment(`    base_url: ${gh.url}\n`) }, 'enterprise');
  // (the server reads the deployment again within 5 s)
  await until('the new settings are read', async () => !new URL((await fetch(`${base}/login/github`, { redirect: 'manual' })).headers.get('location')!).searchParams.get('scope')!.includes('read:org'), { ms: 10_000 });
  const before = gh.requests.length;
  const ctx = await browser.newContext();
  const r = await signIn(ctx, 'tess-gh');
  assert.is(r.url, `${base}/workspaces`, r.text);
  assert.is(await whoami((await sessionOf(ctx))!), 'tess');
  const api = gh.requests.slice(before).filter((x) => /\/user/.test(x));
  assert.equal(api.sort(), ['GET /api/v3/user', 'GET /api/v3/user/emails']);
  assert.is(gh.authorizations.at(-1)!.get('scope'), 'read:user user:email');
  await ctx.close();
});

test('cleanup', async () => {
  await browser?.close();
  await app?.close();
  await gh?.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
