// Self-service by pull request, for real: a config repo with a main branch and pull-request branches,
// `coder-git check --base main` judging each by the base commit's users and groups, and
// `coder-git codeowners` writing and checking .github/CODEOWNERS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cli } from '../helpers/cli.ts';
import { cleanup, commitAll, git, gitRepo, writeFiles } from '../helpers/git.ts';
import { baseFiles, bob } from '../fixtures/base.ts';
import { checkChanges, needed } from '../../src/governance/check.ts';
import { forgeStandin } from '../helpers/forge-standin.ts';

let repo: string;
const carol = 'apiVersion: coder-git/v1\nkind: User\nemail: carol@example.com\nroles: [member]\nlogin: none\ngithub: carol-gh\n';
const admins = 'apiVersion: coder-git/v1\nkind: Group\nmembers: [carol]\nroles: [template-admin]\n';
const box2 = 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: small\nparameters: { label: two }\n';

/** A branch off main with these changes, checked out. */
function branch(name: string, files: Record<string, string | null>): void {
  git(repo, 'checkout', '-q', '-B', name, 'main');
  writeFiles(repo, files);
  commitAll(repo, name);
}
const check = (...args: string[]) => cli(['check', '--base', 'main', '-C', repo, ...args]);

test('needed: who may change each kind of path', () => {
  assert.equal(needed('workspaces/bob/box.yaml'), { roles: ['owner'], owner: 'bob', what: "bob's workspaces" });
  assert.equal(needed('templates/small/main.tf').roles, ['template-admin', 'owner']);
  assert.equal(needed('groups/x.yaml').roles, ['user-admin', 'owner']);
  assert.equal(needed('coder-git.yaml').roles, ['owner']);
  assert.equal(needed('.github/workflows/ci.yml').roles, ['owner']);
});

test('set-up: main with alice (owner), bob (member) and carol (template-admin through a group, GitHub login carol-gh)', () => {
  repo = gitRepo({ ...baseFiles(), 'users/bob.yaml': `${bob}github: bob-gh\n`, 'users/carol.yaml': carol, 'groups/admins.yaml': admins });
});

test("a member's change to their own workspace files passes; by GitHub login too", async () => {
  branch('bob-own', { 'workspaces/bob/box2.yaml': box2, 'workspaces/bob/box.yaml': null });
  const r = await check('--author', 'bob-gh');
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.is(r.stdout, "ok   workspaces/bob/box.yaml: bob may change bob's workspaces\nok   workspaces/bob/box2.yaml: bob may change bob's workspaces\nAllowed: 2 changed files.\n");
});

test("a member's change to someone else's workspace or a template fails with annotations, until someone with the role approves", async () => {
  branch('bob-reaches', { 'workspaces/alice/dev.yaml': readFileSync(path.join(repo, 'workspaces/alice/dev.yaml'), 'utf8').replace('cpu: 4', 'cpu: 8'), 'templates/small/main.tf': `${readFileSync(path.join(repo, 'templates/small/main.tf'), 'utf8')}# more\n` });
  const r = await check('--author', 'bob', '--format', 'github');
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.is(
    r.stdout,
    "::error file=templates/small/main.tf,line=1,title=coder-git check::templates may be changed by a template-admin or an owner; bob (member) may not, and no approval by one of them was given\n" +
      "::error file=workspaces/alice/dev.yaml,line=1,title=coder-git check::alice's workspaces may be changed by alice or an owner; bob (member) may not, and no approval by one of them was given\n" +
      '2 of 2 changed files need an approval\n',
  );
  // carol (template-admin through groups/admins.yaml) may approve the template, not alice's workspace.
  const some = await check('--author', 'bob', '--approved-by', 'carol-gh', '--format', 'json');
  const j = JSON.parse(some.stdout);
  assert.equal(j.findings.map((f: { file: string; ok: boolean; by?: string }) => [f.file, f.ok, f.by ?? null]), [['templates/small/main.tf', true, 'carol'], ['workspaces/alice/dev.yaml', false, null]]);
  assert.is(some.code, 1);
  assert.is((await check('--author', 'bob', '--approved-by', 'carol-gh,alice@example.com')).code, 0);
  // The author approving their own change counts for nothing.
  assert.is((await check('--author', 'bob', '--approved-by', 'bob')).code, 1);
});

test('a pull request cannot grant itself the role it needs: the base decides', async () => {
  branch('bob-promotes-himself', { 'users/bob.yaml': `${bob}github: bob-gh\nroles: [owner]\n`.replace('roles: [member]\n', ''), 'coder-git.yaml': `${readFileSync(path.join(repo, 'coder-git.yaml'), 'utf8')}repository_url: https://git.example.com/x\n` });
  const r = await check('--author', 'bob');
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stdout, /^NO   coder-git\.yaml: the deployment settings may be changed by an owner; bob \(member\) may not/m);
  assert.match(r.stdout, /^NO   users\/bob\.yaml: users may be changed by a user-admin or an owner/m);
  const stranger = await check('--author', 'mallory');
  assert.match(stranger.stdout, /mallory \(no declared user has this username, GitHub login or email in the base commit\)/);
  const none = await cli(['check', '--base', 'main', '-C', repo], { env: { GITHUB_ACTOR: '' } });
  assert.is(none.code, 64, none.stderr);
});

test('codeowners: writes .github/CODEOWNERS from the users and groups; --check tells stale from current', async () => {
  git(repo, 'checkout', '-q', 'main');
  assert.is((await cli(['codeowners', '--check', '-C', repo])).code, 1, 'missing');
  const w = await cli(['codeowners', '-C', repo]);
  assert.is(w.code, 0, w.stderr);
  const text = readFileSync(path.join(repo, '.github/CODEOWNERS'), 'utf8');
  assert.match(text, /^\/templates\/ +@carol-gh$/m);
  assert.match(text, /^\/workspaces\/bob\/ +@bob-gh$/m);
  assert.match(text, /^# without a github login \(their workspaces fall back to the owners\): alice$/m);
  assert.is((await cli(['codeowners', '--check', '-C', repo])).code, 0);
  writeFiles(repo, { 'users/alice.yaml': `${readFileSync(path.join(repo, 'users/alice.yaml'), 'utf8')}github: alice-gh\n` });
  const stale = await cli(['codeowners', '--check', '-C', repo]);
  assert.equal([stale.code, stale.stdout], [1, '.github/CODEOWNERS is stale; run coder-git codeowners\n']);
  await cli(['codeowners', '-C', repo]);
  assert.match(readFileSync(path.join(repo, '.github/CODEOWNERS'), 'utf8'), /^\/workspaces\/bob\/ +@bob-gh @alice-gh$/m);
});

test('unit: checkChanges judges by the base state it is given', () => {
  const users = new Map([['ann', { name: 'ann', file: '', email: 'ann@x.io', roles: ['member' as const], login: 'none' as const, status: 'suspended' as const, groups: [] }]]);
  const [f] = checkChanges({ users, groups: new Map() }, ['workspaces/ann/a.yaml'], 'ann', []);
  assert.is(f!.ok, false, 'a suspended user may not change even their own workspaces');
  assert.match(f!.message, /ann \(suspended\)/);
});

test("--forge-approvals reads who approved from the code host: GitHub reviews of the head commit only, each reviewer's latest; GitLab approvals", async () => {
  const forge = await forgeStandin({ github: 'gh-token', gitlab: 'gl-token' });
  try {
    // (from a clean main: the tests above leave files in the working tree)
    git(repo, 'checkout', '-q', '-f', 'main');
    git(repo, 'clean', '-fdq');
    branch('bob-reaches-again', { 'templates/small/main.tf': `${readFileSync(path.join(repo, 'templates/small/main.tf'), 'utf8')}# again\n` });
    // (no --author: the pull request's author comes from the host, not from who runs the job — here carol)
    const gh = (...args: string[]) => cli(['check', '--base', 'main', '-C', repo, '--forge-approvals', ...args], { env: { GITHUB_ACTIONS: 'true', GITHUB_ACTOR: 'carol-gh', GITHUB_API_URL: `${forge.url}/github`, GITHUB_REPOSITORY: 'acme/config', GITHUB_TOKEN: 'gh-token' } });
    forge.authors.set('github:acme/config#5', 'bob-gh');
    forge.authors.set('gitlab:42!7', 'bob-gh');
    const head = 'c'.repeat(40);
    forge.heads.set('github:acme/config#5', head);
    // carol approved an earlier push; alice approved, then asked for changes; erin only commented
    forge.reviews.set('github:acme/config#5', [
      { user: { login: 'carol-gh' }, state: 'APPROVED', commit_id: 'a'.repeat(40) },
      { user: { login: 'alice' }, state: 'APPROVED', commit_id: head },
      { user: { login: 'alice' }, state: 'CHANGES_REQUESTED', commit_id: head },
    ]);
    const stale = await gh('--pr', '5');
    assert.is(stale.code, 1, stale.stdout + stale.stderr);
    assert.match(stale.stdout, /^NO   templates\/small\/main\.tf: templates may be changed by a template-admin or an owner; bob \(member\) may not/m);
    forge.reviews.get('github:acme/config#5')!.push({ user: { login: 'carol-gh' }, state: 'COMMENTED', commit_id: head }, { user: { login: 'carol-gh' }, state: 'APPROVED', commit_id: head });
    const ok = await gh('--pr', '5');
    assert.is(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok   templates\/small\/main\.tf: approved by carol/m);
    assert.ok(forge.requests.includes('GET /github/repos/acme/config/pulls/5/reviews'));
    // A token the host refuses: said, with what the token needs.
    const refused = await cli(['check', '--base', 'main', '-C', repo, '--author', 'bob', '--forge-approvals', '--pr', '5'], { env: { GITHUB_ACTIONS: 'true', GITHUB_API_URL: `${forge.url}/github`, GITHUB_REPOSITORY: 'acme/config', GITHUB_TOKEN: 'wrong' } });
    assert.is(refused.code, 1);
    assert.match(refused.stderr, /GitHub answered 401 to GET \/github\/repos\/acme\/config\/pulls\/5/);
    assert.match(refused.stderr, /pull-requests: read/);

    const gl = (...args: string[]) => cli(['check', '--base', 'main', '-C', repo, '--forge-approvals', ...args], { env: { GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'carol-gh', CI_API_V4_URL: `${forge.url}/gitlab/api/v4`, CI_PROJECT_ID: '42', CI_MERGE_REQUEST_IID: '7', GITLAB_TOKEN: 'gl-token' } });
    assert.is((await gl()).code, 1);
    forge.approvals.set('gitlab:42!7', ['carol-gh']);
    const glOk = await gl();
    assert.is(glOk.code, 0, glOk.stdout + glOk.stderr);
  } finally {
    await forge.close();
  }
});

test('cleanup', () => cleanup());
test.run();
