// `coder-git comment` through the CLI against a stand-in of GitHub's and GitLab's comment APIs on a
// real port: one sticky comment created, left alone when unchanged, edited in place, split into
// several when the plan outgrows the host's limit and folded back when it shrinks; other people's
// comments untouched; bad tokens and missing settings answered with what to set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { cleanup, tempDir } from '../helpers/git.ts';
import { forgeStandin, type ForgeStandin } from '../helpers/forge-standin.ts';

const TOKENS = { github: 'ghs_test', gitlab: 'glpat-test' };
let host: ForgeStandin;
const dir = tempDir();
const file = (name: string, body: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, body);
  return f;
};

const bigPlan = () => {
  const diffLines = Array.from({ length: 6000 }, (_, i) => `+ user${i}\n+     email = "user${i}@example.com"`).join('\n');
  return `### coder-git plan\n\nPlan: 6000 to add, 0 to change, 0 to destroy.\n\n<details><summary>Details</summary>\n\n\`\`\`diff\n${diffLines}\n\`\`\`\n\n</details>\n`;
};

const githubEnv = (o: { token?: string; pr?: number } = {}) => {
  const event = file('event.json', JSON.stringify({ pull_request: { number: o.pr ?? 7 } }));
  return { GITHUB_ACTIONS: 'true', GITHUB_API_URL: `${host.url}/github`, GITHUB_REPOSITORY: 'acme/config', GITHUB_EVENT_PATH: event, GITHUB_TOKEN: o.token ?? TOKENS.github, GITLAB_CI: '' };
};

test('GitHub: one sticky comment, created, left, edited, split and folded back; others untouched', async () => {
  host = await forgeStandin(TOKENS);
  // 150 comments by people first, so ours is found past the first page of 100.
  host.threads.set('github:acme/config#7', Array.from({ length: 150 }, (_, i) => ({ id: i + 1, body: `LGTM ${i}` })));
  const ours = () => host.threads.get('github:acme/config#7')!.filter((c) => c.body.startsWith('<!-- coder-git:plan part '));
  const env = githubEnv();

  let r = await cli(['comment', file('a.md', '### coder-git plan\n\nPlan: 1 to add.\n')], { env });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /GitHub pull request acme\/config#7: plan comment in 1 part \(1 created\)/);
  assert.is(ours().length, 1);
  const id = ours()[0]!.id;

  r = await cli(['comment', file('a.md', '### coder-git plan\n\nPlan: 1 to add.\n')], { env });
  assert.match(r.stdout, /\(1 unchanged\)/);
  r = await cli(['comment', file('b.md', '### coder-git plan\n\nPlan: 2 to add.\n')], { env });
  assert.match(r.stdout, /\(1 updated\)/);
  assert.is(ours()[0]!.id, id, 'edited in place');
  assert.match(ours()[0]!.body, /Plan: 2 to add/);

  r = await cli(['comment', file('big.md', bigPlan())], { env });
  assert.is(r.code, 0, r.stderr);
  const n = ours().length;
  assert.ok(n >= 4, `${n} comments`);
  assert.match(r.stdout, new RegExp(`in ${n} parts \\(${n - 1} created, 1 updated\\)`));
  assert.is(ours()[0]!.id, id, 'part 1 stays where the comment was');
  assert.ok(ours().every((c, i) => c.body.startsWith(`<!-- coder-git:plan part ${i + 1} of ${n} -->`)));

  // Piped on stdin, as `coder-git plan --format markdown | coder-git comment`.
  r = await cli(['comment'], { env, input: '### coder-git plan\n\nNo changes.\n' });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`\\(1 updated, ${n - 1} deleted\\)`));
  assert.is(ours().length, 1);
  assert.is(host.threads.get('github:acme/config#7')!.length, 151, "people's comments are all still there");

  // A second marker (another folder of a monorepo) is a comment of its own.
  r = await cli(['comment', '--marker', 'plan-staging', file('c.md', 'staging plan\n')], { env });
  assert.match(r.stdout, /\(1 created\)/);
  assert.is(ours().length, 1);
  r = await cli(['comment', '-C', 'deploy/prod', file('c.md', 'prod plan\n')], { env, cwd: dir });
  assert.is(r.code, 0, r.stderr);
  assert.ok(host.threads.get('github:acme/config#7')!.some((c) => c.body.startsWith('<!-- coder-git:plan-deploy-prod part 1 of 1 -->\nprod plan')), 'a subfolder gets a marker of its own');
});

test('GitLab: the same on merge request notes, system notes ignored', async () => {
  host.threads.set('gitlab:42!3', [{ id: 1, body: 'added 1 commit', system: true }]);
  const env = { GITLAB_CI: 'true', CI_API_V4_URL: `${host.url}/gitlab/api/v4`, CI_PROJECT_ID: '42', CI_MERGE_REQUEST_IID: '3', GITLAB_TOKEN: TOKENS.gitlab, GITHUB_ACTIONS: '' };
  let r = await cli(['comment', file('a.md', '### coder-git plan\n\nPlan: 1 to add.\n')], { env });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /GitLab merge request 42!3: plan comment in 1 part \(1 created\)/);
  r = await cli(['comment', file('big.md', bigPlan())], { env });
  assert.match(r.stdout, /in 1 part \(1 updated\)/, 'GitLab takes a million characters in one note');
  assert.is(host.threads.get('gitlab:42!3')!.length, 2);
});

test('bad settings: each says what to set, and nothing is posted', async () => {
  const before = host.requests.length;
  const md = file('a.md', 'x\n');
  let r = await cli(['comment', md], { env: { ...githubEnv({ token: 'wrong' }) } });
  assert.is(r.code, 1);
  assert.match(r.stderr, /GitHub answered 401 to GET \/github\/repos\/acme\/config\/issues\/7\/comments: .*Bad credentials/);
  assert.match(r.stderr, /pull-requests: write/);

  r = await cli(['comment', md], { env: { ...githubEnv(), GITHUB_TOKEN: '' } });
  assert.is(r.code, 64);
  assert.match(r.stderr, /no token\. Set GITHUB_TOKEN/);
  r = await cli(['comment', md], { env: { ...githubEnv(), GITHUB_EVENT_PATH: '', GITHUB_REF: 'refs/heads/main' } });
  assert.is(r.code, 64);
  assert.match(r.stderr, /which pull request\? .*--pr NUMBER/);
  r = await cli(['comment', md], { env: { GITHUB_ACTIONS: '', GITLAB_CI: '' } });
  assert.is(r.code, 64);
  assert.match(r.stderr, /--forge github or --forge gitlab/);
  r = await cli(['comment', '--forge', 'gitlab', md], { env: { GITHUB_ACTIONS: '', GITLAB_CI: '', CI_API_V4_URL: '' } });
  assert.match(r.stderr, /Set CI_API_V4_URL/);
  r = await cli(['comment', file('empty.md', '\n')], { env: githubEnv() });
  assert.is(r.code, 64);
  assert.match(r.stderr, /empty\.md is empty/);
  r = await cli(['comment', path.join(dir, 'missing.md')], { env: githubEnv() });
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot read .*missing\.md/);
  r = await cli(['comment', '--marker', 'a b', md], { env: githubEnv() });
  assert.is(r.code, 64);
  assert.match(r.stderr, /--marker "a b"/);
  assert.is(host.requests.length, before + 1, 'only the refused listing reached the host');
});

test('--dry-run prints the bodies it would post, split for GitHub', async () => {
  const r = await cli(['comment', '--dry-run', file('big.md', bigPlan())], { env: { GITHUB_ACTIONS: '', GITLAB_CI: '' } });
  assert.is(r.code, 0, r.stderr);
  const heads = r.stdout.match(/^----- comment \d+ of \d+ \((\d+) characters\) -----$/gm)!;
  assert.ok(heads.length >= 4);
  for (const h of heads) assert.ok(Number(/\((\d+) characters/.exec(h)![1]) <= 65_536);
});

test('cleanup', async () => {
  await host.close();
  cleanup();
});

test.run();
