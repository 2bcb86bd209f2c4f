// Sign-in against abuse: parallel guesses (on two replicas), forged X-Forwarded-For, the email as a
// second name for the limit, what a failed sign-in stores, what the request log keeps, and argon2id
// hashes made by other tools. Each case was found by an attack round against a running server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup } from '../helpers/git.ts';
import { buildServer } from '../../src/server/app.ts';
import { hashPassword } from '../../src/auth/password.ts';
import { parseTrustedProxies } from '../../src/server/client-ip.ts';
import { CoderGitError } from '../../src/errors.ts';
import { deploymentFixture, PASSWORDS, type Fixture } from './setup.ts';

let d: TestDb;
let a: FastifyInstance;
let b: FastifyInstance;
let f: Fixture;
const PW = 'frank-right-password';
// printed by `echo -n 'correct horse battery staple' | argon2 somesaltsomesalt -id -t 2 -m 12 -p 1 -e` (Debian argon2)
const ARGON2ID = '$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RYBmfaY2k3Lz3OGQbN0L5PrGQLaVEEnj4b+RLC0pyDk';

const passwordUser = (email: string, hash: string) => `apiVersion: coder-git/v1\nkind: User\nemail: ${email}\nroles: [member]\nlogin: password\npassword_hash: "${hash}"\n`;

test('set-up: a deployment with more password users, two replicas', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d);
  const hash = await hashPassword(PW);
  await f.apply(
    {
      'users/frank.yaml': passwordUser('frank@example.com', hash),
      'users/gina.yaml': passwordUser('gina@example.com', hash),
      'users/hank.yaml': passwordUser('hank@example.com', hash),
      'users/ivy.yaml': passwordUser('ivy@example.com', ARGON2ID),
    },
    'password users',
  );
  a = await buildServer({ database: d, logger: false });
  b = await buildServer({ database: d, logger: false });
});

const login = (app: FastifyInstance, username: string, password: string, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/login', payload: { username, password }, remoteAddress, headers });

test('40 parallel wrong guesses for one user, spread over two replicas and 40 addresses: at most 5 are checked', async () => {
  const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 ? a : b, 'frank', `guess-${i}`, `10.40.0.${i + 1}`).then((r) => r.statusCode)));
  const checked = codes.filter((c) => c === 401).length;
  assert.is(checked, 5, `checked ${checked}: ${codes.join(',')}`);
  assert.is(codes.filter((c) => c === 429).length, 35);
  assert.is((await login(a, 'frank', PW, '10.40.1.1')).statusCode, 429, 'the right password waits too');
  assert.is((await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'login_failed' AND target = 'frank'")).n, 5);
});

test('15 at once with the right password among them: never more than 5 checked, so a guess cannot ride the race', async () => {
  const tries = Array.from({ length: 15 }, (_, i) => (i === 14 ? PW : `guess-${i}`));
  const codes = await Promise.all(tries.map((p, i) => login(i % 2 ? a : b, 'gina', p, `10.15.0.${i + 1}`).then((r) => r.statusCode)));
  assert.ok(codes.filter((c) => c !== 429).length <= 5, codes.join(','));
  assert.is(codes.filter((c) => c === 429).length >= 10, true);
});

test('the email is the same account for the limit, in any case', async () => {
  for (let i = 0; i < 5; i++) assert.is((await login(a, 'hank', `guess-${i}`, `10.50.0.${i + 1}`)).statusCode, 401);
  const viaEmail = await login(b, 'HANK@EXAMPLE.COM', PW, '10.50.1.1');
  assert.is(viaEmail.statusCode, 429, 'locked by the username, refused by the email');
  assert.is((await login(b, 'Hank', PW, '10.50.1.2')).statusCode, 429);
});

test('without trusted proxies, X-Forwarded-For is ignored: rotating it gives no fresh limit and forges nothing', async () => {
  const codes: number[] = [];
  for (let i = 0; i < 25; i++) codes.push((await login(a, `nobody-${i}`, 'x', '10.60.0.1', { 'x-forwarded-for': `203.0.113.${i}` })).statusCode);
  assert.equal(codes.slice(19), [401, 429, 429, 429, 429, 429], 'the address limit (20) holds');
  const forged = await d.db.one<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE ip << '203.0.113.0/24'::inet");
  assert.is(forged.n, 0, 'no forged address in the audit log');
  const bad = await login(a, 'bob', 'x', '10.61.0.1', { 'x-forwarded-for': 'not-an-ip' });
  assert.is(bad.statusCode, 401, 'a malformed header is not a server error');
  const token = await a.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${f.tokens.bob}`, 'x-forwarded-for': 'not-an-ip, also bad' }, payload: { name: 'xff' }, remoteAddress: '10.61.0.2' });
  assert.is(token.statusCode, 201, token.body);
});

test('with --trusted-proxies, the forwarded address of a trusted proxy is used; a malformed one falls back to the proxy', async () => {
  const behind = await buildServer({ database: d, logger: false, trustedProxies: parseTrustedProxies('10.70.0.0/16') });
  try {
    await login(behind, 'nobody-proxied', 'x', '10.70.0.1', { 'x-forwarded-for': '198.51.100.7' });
    await login(behind, 'nobody-proxied', 'x', '10.71.0.1', { 'x-forwarded-for': '198.51.100.8' });
    assert.is((await login(behind, 'nobody-proxied', 'x', '10.70.0.1', { 'x-forwarded-for': 'not-an-ip' })).statusCode, 401);
    const ips = (await d.db.any<{ ip: string }>("SELECT host(ip) AS ip FROM audit_log WHERE action = 'login_failed' AND at > now() - interval '1 minute' AND (ip << '10.70.0.0/16' OR ip << '10.71.0.0/16' OR ip << '198.51.100.0/24') ORDER BY id")).map((r) => r.ip);
    assert.equal(ips, ['198.51.100.7', '10.71.0.1', '10.70.0.1'], 'trusted: the client; untrusted: the peer; malformed: the proxy');
  } finally {
    await behind.close();
  }
  for (const bad of ['bogus', '10.0.0.0/33', '1.2.3.4/8/9', 'fd00::/129']) {
    try {
      parseTrustedProxies(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.ok(e instanceof CoderGitError && e.code === 'CG_USAGE', String(e));
      assert.match((e as Error).message, /^--trusted-proxies: .* is not an address, a CIDR/);
    }
  }
  assert.equal(parseTrustedProxies(' 10.0.0.1, fd00::/8 ,loopback'), ['10.0.0.1', 'fd00::/8', 'loopback']);
});

test('what a failed sign-in stores: never the text typed as a name that nobody has', async () => {
  const typo = 'Tr0ub4dor&3-typed-in-the-wrong-field';
  assert.is((await login(a, typo, 'x', '10.80.0.1')).statusCode, 401);
  const dump = JSON.stringify(await d.db.any('SELECT * FROM audit_log')) + JSON.stringify(await d.db.any('SELECT * FROM login_attempts'));
  assert.not.ok(dump.includes(typo), 'the audit log and the attempts hold no trace of it');
  // An unknown name is limited like a known one (so a guesser cannot tell them apart by the limit).
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push((await login(a, 'no-such-user', `g${i}`, `10.81.0.${i + 1}`)).statusCode);
  assert.equal(codes, [401, 401, 401, 401, 401, 429]);
});

test('"suspended" is said only after the right password; a wrong one gets the same answer as anyone', async () => {
  const wrong = await login(a, 'sam', 'not-sams-password', '10.90.0.1');
  const nobody = await login(a, 'nobody-at-all', 'x', '10.90.0.2');
  assert.equal([wrong.statusCode, wrong.json().error], [401, nobody.json().error]);
  const right = await login(a, 'sam', PASSWORDS.sam, '10.90.0.3');
  assert.equal([right.statusCode, right.json().error.code], [401, 'suspended']);
});

test('an argon2id password_hash (made by the reference argon2 tool) signs in', async () => {
  const ok = await login(a, 'ivy', 'correct horse battery staple', '10.95.0.1');
  assert.is(ok.statusCode, 201, ok.body);
  assert.is((await login(a, 'ivy', 'correct horse battery stapler', '10.95.0.2')).statusCode, 401);
});

test('at info, the request log has changes and refusals, not successful reads', async () => {
  let out = '';
  const stream = new Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  const logged = await buildServer({ database: d, logger: { level: 'info', stream } });
  try {
    await logged.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${f.tokens.bob}` } });
    await logged.inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${f.tokens.bob}` } });
    await logged.inject({ method: 'POST', url: '/api/v1/login', payload: { username: 'bob', password: 'wrong' }, remoteAddress: '10.99.0.1' });
  } finally {
    await logged.close();
  }
  const urls = out.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg === 'request').map((l) => `${l.method} ${l.url} ${l.status}`);
  assert.equal(urls, ['GET /api/v1/users 403', 'POST /api/v1/login 401']);
});

test('the request log keeps no CSRF token, token, relay session or OAuth code from a query string', async () => {
  let out = '';
  const stream = new Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  const logged = await buildServer({ database: d, logger: { level: 'debug', stream } });
  try {
    await logged.inject({ url: '/login?_csrf=csrf-value-1&next=%2F' });
    await logged.inject({ url: '/api/v1/me?token=token-value-2' });
    await logged.inject({ url: '/api/v1/agents/relay?session=session-value-3' });
    await logged.inject({ url: '/oidc/callback?code=code-value-4&state=state-value-5' });
  } finally {
    await logged.close();
  }
  assert.match(out, /"url":"\/login\?_csrf=\[redacted\]&next=%2F"/);
  for (const secret of ['csrf-value-1', 'token-value-2', 'session-value-3', 'code-value-4', 'state-value-5']) assert.not.ok(out.includes(secret), `${secret} in ${out}`);
});

test('cleanup', async () => {
  await a.close();
  await b.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
