// The git webhook end to end: a runner following a remote repository with a one-hour fetch interval
// applies a pushed commit within seconds of a signed GitHub (or GitLab) push reaching the server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, commitAll, git, gitRepo, tempDir, writeFiles } from '../helpers/git.ts';
import { BIN } from '../helpers/cli.ts';
import { buildServer } from '../../src/server/app.ts';
import { until as poll } from '../helpers/wait.ts';
import { listen } from '../../src/db/listen.ts';
import { REFRESH_CHANNEL } from '../../src/db/channels.ts';

const SECRET = 'webhook-secret-for-tests';
let d: TestDb;
let app: FastifyInstance;
let origin: string;
let runner: ChildProcess;
let log = '';

const files = (label: string) => ({
  'coder-git.yaml': 'apiVersion: coder-git/v1\nkind: Deployment\n',
  'users/alice.yaml': 'apiVersion: coder-git/v1\nkind: User\nemail: alice@example.com\n',
  'templates/plain/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\n',
  'templates/plain/main.tf': 'resource "terraform_data" "x" {}\n',
  'workspaces/alice/dev.yaml': `apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\n# ${label}\n`,
});
const applied = async (sha: string) => (await d.db.oneOrNone<{ status: string }>('SELECT status FROM syncs WHERE commit_sha = $1', [sha]))?.status === 'applied';
const until = (what: string, fn: () => Promise<boolean>) => poll(what, fn, { ms: 20_000, every: 50, detail: () => log });
const push = (payload: object, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
const github = (body: string) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

test('set-up: a remote repository, a runner fetching it hourly, a server with the webhook secret', async () => {
  d = await testDatabase();
  origin = gitRepo(files('one'));
  app = await buildServer({ database: d, logger: false, webhookSecret: SECRET });
  runner = spawn(process.execPath, [BIN, 'runner', '--repo', `file://${origin}`, '--interval', '1h', '--postgres-url', d.url, '--data-dir', path.join(tempDir(), 'data'), '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  runner.stdout!.on('data', (x) => (log += x));
  runner.stderr!.on('data', (x) => (log += x));
  await until('the first commit applied', () => applied(git(origin, 'rev-parse', 'HEAD').trim()));
});

test('a wrong signature or token is refused; a ping is answered', async () => {
  assert.is((await push({ ref: 'refs/heads/main' }, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` })).statusCode, 401);
  assert.is((await push({ ref: 'refs/heads/main' }, { 'x-gitlab-token': 'wrong' })).statusCode, 401);
  assert.is((await push({ ref: 'refs/heads/main' }, {})).statusCode, 401);
  const ping = await push({ zen: 'hi' }, { 'x-hub-signature-256': github(JSON.stringify({ zen: 'hi' })), 'x-github-event': 'ping' });
  assert.equal(ping.json(), { ok: true, pong: true });
});

test('a signed GitHub push makes the runner fetch and apply at once', async () => {
  writeFiles(origin, files('two'));
  const sha = commitAll(origin, 'pushed');
  await new Promise((r) => setTimeout(r, 1500));
  assert.not.ok(await applied(sha), 'not fetched on its own (hourly)');
  const payload = { ref: 'refs/heads/main', after: sha, repository: { clone_url: origin } };
  const started = Date.now();
  const res = await push(payload, { 'x-hub-signature-256': github(JSON.stringify(payload)), 'x-github-event': 'push' });
  assert.is(res.statusCode, 202);
  await until('applied after the webhook', () => applied(sha));
  assert.ok(Date.now() - started < 10_000);
});

test('a push to another branch is ignored; a GitLab push with the token works', async () => {
  writeFiles(origin, files('three'));
  const sha = commitAll(origin, 'gitlab');
  const other = { ref: 'refs/heads/feature', checkout_sha: sha };
  assert.is((await push(other, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' })).statusCode, 202);
  await new Promise((r) => setTimeout(r, 1500));
  assert.not.ok(await applied(sha), 'another branch: no fetch');
  assert.is((await push({ ref: 'refs/heads/main', checkout_sha: sha }, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' })).statusCode, 202);
  await until('applied after the GitLab webhook', () => applied(sha));
});

test("GitHub's form-encoded delivery works (signed as sent); a delivery seen before is answered without a refresh; a body that is not JSON or a form is refused", async () => {
  const refreshes: string[] = [];
  const l = listen(d, REFRESH_CHANNEL, (p) => refreshes.push(p));
  await l.ready;
  try {
    writeFiles(origin, files('four'));
    const sha = commitAll(origin, 'form');
    const form = `payload=${encodeURIComponent(JSON.stringify({ ref: 'refs/heads/main', after: sha }))}`;
    const send = (delivery: string) => app.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': github(form), 'x-github-event': 'push', 'x-github-delivery': delivery }, payload: form });
    const first = await send('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    assert.is(first.statusCode, 202, first.body);
    await until('applied after the form delivery', () => applied(sha));
    const again = await send('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    assert.equal([again.statusCode, again.json()], [200, { ok: true, duplicate: true }]);
    const other = await buildServer({ database: d, logger: false, webhookSecret: SECRET });
    const elsewhere = await other.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': github(form), 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, payload: form });
    await other.close();
    assert.is(elsewhere.json().duplicate, true, 'remembered across replicas');
    const gitlab = { ref: 'refs/heads/main', checkout_sha: sha };
    const gl = (uuid: string) => push(gitlab, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': uuid });
    assert.is((await gl('b8f4d3a2-0000-4000-8000-000000000001')).statusCode, 202);
    assert.is((await gl('b8f4d3a2-0000-4000-8000-000000000001')).json().duplicate, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.is(refreshes.length, 2, `one refresh per delivery: ${refreshes.join(' | ')}`);
    const text = '{"ref":"refs/heads/main"}';
    const plain = await app.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'text/plain', 'x-hub-signature-256': github(text) }, payload: text });
    assert.equal([plain.statusCode, plain.json().error.code], [415, 'unsupported_media_type']);
    const noPayload = await app.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': github('a=b') }, payload: 'a=b' });
    assert.equal([noPayload.statusCode, noPayload.json().error.message], [400, 'the form has no payload field holding a JSON object']);
  } finally {
    l.close();
  }
});

test('without a secret the endpoint is off', async () => {
  const off = await buildServer({ database: d, logger: false });
  const res = await off.inject({ method: 'POST', url: '/api/v1/webhooks/git', headers: { 'content-type': 'application/json' }, payload: '{}' });
  assert.is(res.statusCode, 404);
  assert.match(res.json().error.message, /CODER_GIT_WEBHOOK_SECRET/);
  assert.not.match(res.json().error.message, /--webhook-secret/, 'there is no such flag');
  await off.close();
});

test('cleanup', async () => {
  runner.kill('SIGTERM');
  await new Promise((r) => runner.on('close', r));
  await app.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
