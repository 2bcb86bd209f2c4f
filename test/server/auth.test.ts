// Who may do what, for every API route: one table, every route × every kind of caller. The table must
// cover every route the OpenAPI document lists, so a new route cannot ship without its row.
// Then: sessions and suspension, password login over the API, rate limiting, headers, and a database
// dump that holds no secret in plaintext.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { buildServer } from '../../src/server/app.ts';
import { openApi } from '../../src/server/api.ts';
import { apiKeys } from '../../src/db/repos/api-keys.ts';
import { issueKey, sha256 } from '../../src/server/auth.ts';
import { deploymentFixture, PASSWORDS, type Fixture } from './setup.ts';

let d: TestDb;
let app: FastifyInstance;
let f: Fixture;
let expiredToken: string;

test('set-up: a deployment applied from git, a server', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  const bob = await d.db.one<{ id: string }>("SELECT id FROM users WHERE username = 'bob'");
  expiredToken = `cgt_${randomBytes(32).toString('base64url')}`;
  await apiKeys.create(d.db, { user_id: bob.id, kind: 'token', name: 'old', secret_hash: sha256(expiredToken), expires_at: new Date(Date.now() - 1000) });
  f.secrets.push(expiredToken);
  app = await buildServer({ database: d, logger: false });
});

const CALLERS = ['anonymous', 'garbage', 'expired', 'agent', 'member', 'other-member', 'auditor', 'template-admin', 'user-admin', 'owner'] as const;
type Caller = (typeof CALLERS)[number];

function headers(c: Caller): Record<string, string> {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  switch (c) {
    case 'anonymous':
      return {};
    case 'garbage':
      return bearer(`cgt_${'x'.repeat(43)}`);
    case 'expired':
      return bearer(expiredToken);
    case 'agent':
      return bearer(f.agentToken);
    case 'member':
      return bearer(f.tokens.bob!);
    case 'other-member':
      return bearer(f.tokens.carol!);
    case 'auditor':
      return bearer(f.tokens.dave!);
    case 'template-admin':
      return bearer(f.tokens.erin!);
    case 'user-admin':
      return bearer(f.tokens.uma!);
    case 'owner':
      return bearer(f.tokens.alice!);
  }
}

const NOBODY = [401, 401, 401, 401];
const everyUser = (code: number) => [...NOBODY, code, code, code, code, code, code];
// order: anonymous garbage expired agent | member other-member auditor template-admin user-admin owner
const MATRIX: { method: string; route: string; url: string; body?: unknown; expect: number[] }[] = [
  { method: 'GET', route: '/api/v1/me', url: '/api/v1/me', expect: everyUser(200) },
  { method: 'GET', route: '/api/v1/workspaces', url: '/api/v1/workspaces', expect: everyUser(200) },
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}', url: '/api/v1/workspaces/bob/box', expect: [...NOBODY, 200, 404, 200, 200, 404, 200] },
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}/builds/{number}/logs', url: '/api/v1/workspaces/bob/box/builds/latest/logs', expect: [...NOBODY, 200, 404, 200, 200, 404, 200] },
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}/watch', url: '/api/v1/workspaces/bob/box/watch?for=0.2', expect: [...NOBODY, 200, 404, 200, 200, 404, 200] },
  { method: 'GET', route: '/api/v1/users', url: '/api/v1/users', expect: [...NOBODY, 403, 403, 200, 403, 200, 200] },
  { method: 'GET', route: '/api/v1/syncs', url: '/api/v1/syncs', expect: [...NOBODY, 403, 403, 200, 200, 403, 200] },
  { method: 'GET', route: '/api/v1/audit', url: '/api/v1/audit', expect: [...NOBODY, 403, 403, 200, 403, 403, 200] },
  { method: 'GET', route: '/api/v1/tokens', url: '/api/v1/tokens', expect: everyUser(200) },
  { method: 'POST', route: '/api/v1/tokens', url: '/api/v1/tokens', body: { name: 'matrix' }, expect: everyUser(201) },
  { method: 'DELETE', route: '/api/v1/tokens/{id}', url: `/api/v1/tokens/${randomUUID()}`, expect: everyUser(404) },
  { method: 'POST', route: '/api/v1/login', url: '/api/v1/login', body: {}, expect: CALLERS.map(() => 400) },
  { method: 'POST', route: '/api/v1/runner/refresh', url: '/api/v1/runner/refresh', expect: [...NOBODY, 403, 403, 403, 403, 403, 202] },
  // Not API-token routes: the agent socket wants an agent token; the webhook its signature.
  { method: 'GET', route: '/api/v1/agents/connect', url: '/api/v1/agents/connect', expect: [401, 401, 401, 404, 401, 401, 401, 401, 401, 401] },
  // Reaching into a workspace: its owner or an owner only (port 0 is refused after the access check).
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}/tcp/{port}', url: '/api/v1/workspaces/bob/box/tcp/0', expect: [...NOBODY, 400, 404, 404, 404, 404, 400] },
  // carol/lab has no agent: those allowed in hear 409 (no agent), the rest 404.
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}/ssh', url: '/api/v1/workspaces/carol/lab/ssh', expect: [...NOBODY, 404, 409, 404, 404, 404, 409] },
  { method: 'GET', route: '/api/v1/workspaces/{owner}/{name}/pty', url: '/api/v1/workspaces/carol/lab/pty?reconnect=abcdefgh12', expect: [...NOBODY, 404, 409, 404, 404, 404, 409] },
  // Start on connect: carol/lab is running already (200: nothing queued; the queued case is in test/agent).
  { method: 'POST', route: '/api/v1/workspaces/{owner}/{name}/start', url: '/api/v1/workspaces/carol/lab/start', expect: [...NOBODY, 404, 200, 404, 404, 404, 200] },
  // No CODER_GIT_ENCRYPTION_KEYS here: no keys kept (404), none made (409); the key routes with keys are in test/agent/git-ssh.
  { method: 'GET', route: '/api/v1/users/me/gitsshkey', url: '/api/v1/users/me/gitsshkey', expect: everyUser(404) },
  { method: 'POST', route: '/api/v1/users/me/gitsshkey', url: '/api/v1/users/me/gitsshkey', expect: everyUser(409) },
  { method: 'GET', route: '/api/v1/agents/me/gitsshkey', url: '/api/v1/agents/me/gitsshkey', expect: [401, 401, 401, 404, 401, 401, 401, 401, 401, 401] },
  { method: 'GET', route: '/api/v1/agents/relay', url: '/api/v1/agents/relay?session=x', expect: [401, 401, 401, 404, 401, 401, 401, 401, 401, 401] },
  { method: 'POST', route: '/api/v1/webhooks/git', url: '/api/v1/webhooks/git', body: {}, expect: CALLERS.map(() => 404) },
  // Last: it revokes the caller's token (the test issues new ones after the matrix).
  { method: 'POST', route: '/api/v1/logout', url: '/api/v1/logout', expect: everyUser(204) },
];

test('the matrix covers every route of the OpenAPI document', () => {
  const documented = Object.entries(openApi().paths as Record<string, Record<string, unknown>>).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m.toUpperCase()} ${p}`));
  assert.equal(MATRIX.map((r) => `${r.method} ${r.route}`).sort(), documented.sort());
});

test('every route × every caller', async () => {
  const wrong: string[] = [];
  for (const r of MATRIX) {
    for (const [i, c] of CALLERS.entries()) {
      const res = await app.inject({ method: r.method as 'GET', url: r.url, headers: headers(c), ...(r.body !== undefined ? { payload: r.body as object } : {}) });
      if (res.statusCode !== r.expect[i]) wrong.push(`${r.method} ${r.url} as ${c}: ${res.statusCode}, expected ${r.expect[i]} ${res.body.slice(0, 120)}`);
    }
  }
  assert.equal(wrong, []);
  const after = await app.inject({ url: '/api/v1/me', headers: headers('member') });
  assert.is(after.statusCode, 401, 'logout revoked the token it was made with');
  for (const u of await d.db.any<{ id: string; username: string }>('SELECT id, username FROM users WHERE deleted_at IS NULL')) {
    f.tokens[u.username] = (await issueKey(d.db, u.id, 'token', 'again', 86_400_000)).secret;
    f.secrets.push(f.tokens[u.username]!);
  }
});

test('what a member sees is their own; an auditor sees everything', async () => {
  const mine = (await app.inject({ url: '/api/v1/workspaces', headers: headers('member') })).json();
  assert.equal(mine.workspaces.map((w: { owner: string; name: string }) => `${w.owner}/${w.name}`), ['bob/box']);
  const all = (await app.inject({ url: '/api/v1/workspaces', headers: headers('auditor') })).json();
  assert.equal(all.workspaces.map((w: { owner: string; name: string }) => `${w.owner}/${w.name}`), ['bob/box', 'carol/lab']);
  const users = (await app.inject({ url: '/api/v1/users', headers: headers('auditor') })).json();
  assert.not.ok(JSON.stringify(users).includes('scrypt'), 'no password hashes in the API');
});

test('password login over the API: a token for the right password, the same answer for a wrong one and an unknown user', async () => {
  const ok = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'bob', password: PASSWORDS.bob } });
  assert.is(ok.statusCode, 201, ok.body);
  const token = ok.json().token as string;
  f.secrets.push(token);
  assert.match(token, /^cgt_/);
  assert.is((await app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } })).json().username, 'bob');
  const wrong = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'bob', password: 'nope' } });
  const unknown = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'nobody', password: 'nope' } });
  assert.equal([wrong.statusCode, unknown.statusCode], [401, 401]);
  assert.equal(wrong.json().error.message, unknown.json().error.message);
  const carol = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'carol', password: '' } });
  assert.is(carol.statusCode, 401, 'a user without password login cannot sign in with one');
  const sam = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'sam', password: PASSWORDS.sam } });
  assert.equal([sam.statusCode, sam.json().error.code], [401, 'suspended']);
});

test('failed logins are limited per user (and per address), across requests', async () => {
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'alice', password: `guess-${i}` }, remoteAddress: `10.0.0.${i}` })).statusCode);
  assert.equal(codes, [401, 401, 401, 401, 401, 429]);
  const right = await app.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'alice', password: PASSWORDS.alice }, remoteAddress: '10.0.0.99' });
  assert.is(right.statusCode, 429, 'even the right password waits');
  const audit = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'login_failed' AND target = 'alice'");
  assert.is(audit.n, 5);
});

/** Servers cache authenticated keys; a change reaches them by NOTIFY when it commits: within ms. */
const becomes = async (server: FastifyInstance, h: Record<string, string>, code: number) => {
  const end = Date.now() + 1000;
  for (;;) {
    const got = (await server.inject({ url: '/api/v1/me', headers: h })).statusCode;
    if (got === code || Date.now() > end) return got;
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('suspending a user in git ends their tokens at once (cached ones too); removing them too', async () => {
  assert.is(await becomes(app, headers('template-admin'), 200), 200, 'and now cached');
  await f.apply({ 'users/erin.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: erin@example.com\nroles: [template-admin]\nstatus: suspended\n' }, 'suspend erin');
  assert.is(await becomes(app, headers('template-admin'), 401), 401);
  await f.apply({ 'users/erin.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: erin@example.com\nroles: [template-admin]\n' }, 'erin is back');
  assert.is(await becomes(app, headers('template-admin'), 200), 200);
  await f.apply({ 'users/erin.yaml': null }, 'erin leaves');
  assert.is(await becomes(app, headers('template-admin'), 401), 401, 'a user removed from git');
});

test('a token revoked on one replica stops working on another that had it cached', async () => {
  const other = await buildServer({ database: d, logger: false });
  try {
    const made = (await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: headers('auditor'), payload: { name: 'two-replicas' } })).json();
    f.secrets.push(made.token);
    const h = { authorization: `Bearer ${made.token}` };
    assert.is((await other.inject({ url: '/api/v1/me', headers: h })).statusCode, 200);
    assert.is((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${made.id}`, headers: headers('auditor') })).statusCode, 204);
    assert.is(await becomes(other, h, 401), 401);
  } finally {
    await other.close();
  }
});

test('a token revoked through the API stops working; changes need a header, not the browser cookie', async () => {
  const made = (await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: headers('member'), payload: { name: 'short', lifetime: '1d' } })).json();
  f.secrets.push(made.token);
  const auth = { authorization: `Bearer ${made.token}` };
  assert.is((await app.inject({ url: '/api/v1/me', headers: auth })).statusCode, 200);
  assert.is((await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${made.id}`, headers: headers('member') })).statusCode, 204);
  assert.is((await app.inject({ url: '/api/v1/me', headers: auth })).statusCode, 401);
  const bad = await app.inject({ method: 'POST', url: '/api/v1/tokens', headers: headers('member'), payload: { name: '', lifetime: '2y' } });
  assert.equal([bad.statusCode, bad.json().error.message], [400, 'name: 1 to 64 letters, digits, spaces, . _ or -, starting with a letter or digit']);
  const viaCookie = await app.inject({ method: 'POST', url: '/api/v1/tokens', cookies: { coder_git_session: f.tokens.bob! }, payload: { name: 'x' } });
  assert.is(viaCookie.statusCode, 403);
  assert.is((await app.inject({ url: '/api/v1/me', cookies: { coder_git_session: f.tokens.bob! } })).statusCode, 200, 'reads work with the cookie');
});

test('security headers on every answer (the full set on pages); /healthz; /api/docs', async () => {
  const res = await app.inject({ url: '/healthz' });
  assert.equal(res.json(), { ok: true });
  assert.equal([res.headers['content-security-policy'], res.headers['x-content-type-options'], res.headers['referrer-policy']], ["default-src 'none'; frame-ancestors 'none'", 'nosniff', 'no-referrer']);
  const page = await app.inject({ url: '/login' });
  for (const h of ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy']) assert.ok(page.headers[h], h);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'.*frame-ancestors 'none'.*form-action 'self'/);
  assert.not.ok(page.headers['strict-transport-security'], 'no HSTS over http');
  const docs = (await app.inject({ url: '/api/docs' })).json();
  assert.is(docs.openapi, '3.1.0');
  assert.ok(docs.paths['/api/v1/workspaces/{owner}/{name}'].get);
});

test('a dump of the database holds no password or token in plaintext', async () => {
  const tables = await d.db.any<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
  let dump = '';
  for (const { t } of tables) for (const r of await d.db.any<{ row: string }>(`SELECT to_jsonb(x)::text AS row FROM "${t}" x`)) dump += `${r.row}\n`;
  assert.ok(dump.length > 10_000, 'the dump has the deployment in it');
  const found = f.secrets.filter((s) => dump.includes(s) || dump.includes(Buffer.from(s).toString('hex')));
  assert.equal(found, []);
});

test('cleanup', async () => {
  await app.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
