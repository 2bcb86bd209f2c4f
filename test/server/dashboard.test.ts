// The dashboard's detail pages in real Chromium against a real server: a workspace's page (state,
// schedule, agent and startup log, builds with their commits), a build's page with its log streamed
// while it runs, a sync's page (the forge link, its errors with file:line or the plan it applied, its
// builds), live updates from the event streams without a reload, links from the tables, and tables
// that fit a 390 px phone. Screenshots of each page go to $SCREENSHOTS (default: a temp folder).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { launchBrowser, signedInPage } from '../helpers/browser.ts';
import { until } from '../helpers/wait.ts';
import { buildServer } from '../../src/server/app.ts';
import { publish, BUILD_CHANNEL } from '../../src/db/channels.ts';
import { deploymentFixture, type Fixture } from './setup.ts';

let d: TestDb;
let app: FastifyInstance;
let f: Fixture;
let browser: Browser;
let base: string;
let boxBuild: { id: string; workspace_id: string };
let invalidSync: string;
const shots = process.env.SCREENSHOTS ?? tempDir('coder-git-shots-');
const shot = async (p: Page, name: string) => {
  mkdirSync(shots, { recursive: true });
  await p.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
};

test('set-up: a deployment with a repository_url, logs, a failed build, an invalid commit; a server; Chromium', async () => {
  d = await testDatabase();
  f = await deploymentFixture(d, { deployment: 'apiVersion: coder-git/v1\nkind: Deployment\naccess_url: http://127.0.0.1:3000\nrepository_url: https://git.example.test/acme/infra\n' });
  boxBuild = await d.db.one("SELECT b.id, b.workspace_id FROM workspace_builds b JOIN workspaces w ON w.latest_build_id = b.id WHERE w.name = 'box'");
  await d.db.none("UPDATE workspace_builds SET status = 'running', started_at = now() WHERE id = $1", [boxBuild.id]);
  await d.db.none("INSERT INTO build_logs (build_id, stream, line) VALUES ($1, 'stdout', 'terraform_data.x: Creating...')", [boxBuild.id]);
  await d.db.none("INSERT INTO agent_logs (agent_id, stream, line) VALUES ($1, 'stdout', 'hello from the startup script <b>not bold</b>')", [f.agentId]);
  await d.db.none("UPDATE workspace_builds SET status = 'failed', error = 'terraform apply exited with 1', started_at = now(), finished_at = now() FROM workspaces w WHERE w.latest_build_id = workspace_builds.id AND w.name = 'lab'");
  invalidSync = (
    await d.db.one<{ id: string }>(
      "INSERT INTO syncs (commit_sha, ref, author, message, status, errors, finished_at) VALUES ('0123456789abcdef0123456789abcdef01234567', 'main', 'Bob', 'typo in a workspace', 'invalid', $1, now()) RETURNING id",
      [JSON.stringify([{ file: 'workspaces/bob/box.yaml', line: 3, col: 11, severity: 'error', code: 'reference', message: 'template: "plian" does not exist; did you mean "plain"?' }])],
    )
  ).id;
  app = await buildServer({ database: d, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  browser = await launchBrowser();
});

test("a workspace's page: state, agent, schedule, drift, its startup log (escaped), every build with its log link", async () => {
  const p = await signedInPage(browser, base, f.tokens.bob!);
  await p.goto(`${base}/workspaces/bob/box`);
  assert.is(await p.getByRole('heading', { level: 1 }).textContent(), 'bob/box');
  const facts = (await p.locator('dl.facts').textContent()) ?? '';
  assert.match(facts, /State\s*running \(git\)/);
  assert.match(facts, /Last build\s*#1 start running/);
  assert.match(facts, /Agent\s*connecting created/);
  assert.match(facts, /Autostart\s*none/);
  assert.match(facts, /Drift\s*none found/);
  assert.is(await p.locator('pre.log').first().textContent(), 'hello from the startup script <b>not bold</b>\n');
  assert.is(await p.locator('pre.log b').count(), 0, 'log text is escaped');
  const row = p.locator('table.stack tbody tr').first();
  assert.match((await row.textContent()) ?? '', /#1\s*start\s*running\s*sync/);
  assert.match((await row.locator('td[data-label="Commit"]').textContent()) ?? '', /^[0-9a-f]{12}$/, 'the commit, not a link for a member (no syncs:read)');
  await shot(p, 'workspace');
  await p.getByRole('link', { name: '#1', exact: true }).click();
  await p.waitForURL(`${base}/workspaces/bob/box/builds/1`);
  await p.context().close();
});

test("another's workspace, or none, is an HTML 404 page (not JSON)", async () => {
  const p = await signedInPage(browser, base, f.tokens.bob!);
  for (const url of ['/workspaces/carol/lab', '/workspaces/admin/dev', '/workspaces/bob/box/builds/9', '/syncs/1']) {
    const res = await p.goto(`${base}${url}`);
    assert.is(res!.status(), 404, url);
    assert.match(res!.headers()['content-type']!, /text\/html/, url);
    assert.is(await p.getByRole('heading', { level: 1 }).textContent(), 'Not found', url);
  }
  await p.context().close();
});

test("a running build's log streams into its page; its end shows without a reload", async () => {
  const p = await signedInPage(browser, base, f.tokens.bob!);
  await p.goto(`${base}/workspaces/bob/box/builds/1`);
  await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
  assert.match((await p.locator('#build-status').textContent()) ?? '', /running/);
  await d.db.none("INSERT INTO build_logs (build_id, stream, line) VALUES ($1, 'stdout', 'terraform_data.x: Creation complete after 0s'), ($1, 'stdout', 'Apply complete! Resources: 1 added, 0 changed, 0 destroyed.')", [boxBuild.id]);
  await until('the new lines on the page', async () => /Apply complete!/.test((await p.locator('#build-log').textContent()) ?? ''), { ms: 5000 });
  assert.is(await p.locator('#build-log').textContent(), 'terraform_data.x: Creating...\nterraform_data.x: Creation complete after 0s\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n', 'each line once, in order');
  await shot(p, 'build-running');
  await d.db.none("UPDATE workspace_builds SET status = 'succeeded', finished_at = now() WHERE id = $1", [boxBuild.id]);
  await until('the build shown succeeded', async () => /succeeded/.test((await p.locator('#build-status').textContent()) ?? ''), { ms: 5000 });
  assert.is(await p.evaluate(() => (window as unknown as { marker?: number }).marker), 42, 'no reload');
  await shot(p, 'build-finished');
  await p.context().close();
});

test("the workspace's page follows its event stream: a build ending on a runner shows at once", async () => {
  await d.db.none("UPDATE workspace_builds SET status = 'running', finished_at = NULL WHERE id = $1", [boxBuild.id]);
  const p = await signedInPage(browser, base, f.tokens.bob!);
  await p.goto(`${base}/workspaces/bob/box`);
  await p.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  assert.match((await p.locator('dl.facts').textContent()) ?? '', /#1 start running/);
  await d.db.none("UPDATE workspace_builds SET status = 'succeeded', finished_at = now() WHERE id = $1", [boxBuild.id]);
  await publish(d.db, BUILD_CHANNEL, { build_id: boxBuild.id, workspace_id: boxBuild.workspace_id, status: 'succeeded' });
  await until('the page shows the build succeeded', async () => /#1 start succeeded/.test((await p.locator('dl.facts').textContent()) ?? ''), { ms: 3000 });
  assert.is(await p.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'no reload');
  await p.context().close();
});

test("a sync's page: the commit linked to the forge, the plan it applied, its builds linked; an invalid one's errors with file:line", async () => {
  const p = await signedInPage(browser, base, f.tokens.alice!);
  await p.goto(`${base}/syncs/1`);
  assert.is(await p.getByRole('heading', { level: 1 }).textContent(), 'Sync #1');
  const commit = p.locator('dl.facts a').first();
  assert.match((await commit.getAttribute('href')) ?? '', /^https:\/\/git\.example\.test\/acme\/infra\/commit\/[0-9a-f]{40}$/);
  const plan = (await p.locator('pre.log').textContent()) ?? '';
  assert.match(plan, /\+ bob\/box \(create\)[\s\S]*build: start \(new workspace\)/, 'the plan as coder-git plan shows it');
  assert.match(plan, /Plan: \d+ to add/);
  assert.match((await p.locator('table.stack').textContent()) ?? '', /bob\/box[\s\S]*#1 start[\s\S]*carol\/lab[\s\S]*#1 start[\s\S]*failed[\s\S]*terraform apply exited with 1/);
  await shot(p, 'sync');
  await p.getByRole('link', { name: 'carol/lab' }).click();
  await p.waitForURL(`${base}/workspaces/carol/lab`);
  assert.match((await p.locator('dl.facts').textContent()) ?? '', /Agent\s*none/, 'a workspace whose build failed: no agent "connecting"');
  assert.match((await p.locator('table.stack').textContent()) ?? '', /failed[\s\S]*terraform apply exited with 1/);
  const commitCell = p.locator('td[data-label="Commit"] a').first();
  assert.is(await commitCell.getAttribute('href'), '/syncs/1', 'an owner gets the commit linked to its sync');
  await p.goto(`${base}/syncs/${invalidSync}`);
  assert.equal(await p.locator('ul.errors li').allTextContents(), ['workspaces/bob/box.yaml:3:11: template: "plian" does not exist; did you mean "plain"?']);
  assert.match((await p.locator('main').textContent()) ?? '', /None: the commit is invalid/);
  await shot(p, 'sync-invalid');
  await p.context().close();
});

test("the owner's overview links every workspace, build and sync to its page; none of it overflows a 390 px phone", async () => {
  const wide = await signedInPage(browser, base, f.tokens.alice!);
  await wide.goto(`${base}/workspaces`);
  assert.is(await wide.getByRole('link', { name: 'bob/box' }).getAttribute('href'), '/workspaces/bob/box');
  assert.is(await wide.locator('h2:has-text("Latest syncs") + table a').first().getAttribute('href'), `/syncs/${invalidSync}`);
  assert.is(await wide.locator('h2:has-text("Failed builds") + table td[data-label="Build"] a').getAttribute('href'), '/workspaces/carol/lab/builds/1');
  await shot(wide, 'overview');
  await wide.context().close();
  const phone = await signedInPage(browser, base, f.tokens.alice!, { width: 390, height: 800 });
  for (const [name, url] of [['overview', '/workspaces'], ['workspace', '/workspaces/bob/box'], ['build', '/workspaces/bob/box/builds/1'], ['sync', '/syncs/1'], ['sync-invalid', `/syncs/${invalidSync}`], ['tokens', '/tokens']] as const) {
    await phone.goto(`${base}${url}`);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${url}: ${width} px wide on a 390 px screen`);
    await shot(phone, `phone-${name}`);
  }
  await phone.context().close();
});

test('cleanup', async () => {
  await browser?.close();
  await app.close();
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
