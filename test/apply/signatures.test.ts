// Signed commits, for real (README: Signed commits): keys made by ssh-keygen, commits signed by git,
// each synced on a real database. Only a good signature by a key the last applied commit trusts is
// applied; anything else is recorded as untrusted, with why, and nothing of it is applied.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stopOwnServer, testDatabase, type TestDb } from '../helpers/db.ts';
import { cleanup, git, gitRepo, tempDir, writeFiles } from '../helpers/git.ts';
import { baseFiles, deployment } from '../fixtures/base.ts';
import { syncCommit } from '../../src/apply/sync.ts';

let d: TestDb;
let repo: string;
const keys: Record<string, string> = {};

function key(name: string): { file: string; pub: string } {
  const dir = tempDir();
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { file, pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

/** Commits the files, signed with `signer`'s key (or unsigned); returns the SHA. */
function commit(files: Record<string, string | null>, message: string, signer?: string): string {
  writeFiles(repo, files);
  git(repo, 'add', '--all');
  const sign = signer ? ['-c', 'commit.gpgsign=true', '-c', 'gpg.format=ssh', '-c', `user.signingkey=${keys[signer]}`] : [];
  git(repo, ...sign, 'commit', '--quiet', '--allow-empty', '-m', message);
  return git(repo, 'rev-parse', 'HEAD').trim();
}

const sync = (sha: string) => syncCommit({ db: d.db, dir: repo, sha, ref: 'main', allowDestroy: true, maxDestroy: 10 });
const status = async (sha: string) => (await d.db.one<{ status: string; errors: { message: string }[] }>('SELECT status, errors FROM syncs WHERE commit_sha = $1 ORDER BY created_at DESC LIMIT 1', [sha]));
const users = async () => (await d.db.any<{ username: string }>('SELECT username FROM users WHERE deleted_at IS NULL ORDER BY username')).map((u) => u.username);
const carol = 'apiVersion: coder-git/v1\nkind: User\nemail: carol@example.com\nlogin: none\n';
const signed = `${deployment}signatures:\n  required: true\n  allowed_signers: .coder-git/allowed_signers\n`;

test('set-up: keys for alice (trusted) and mallory; a repo whose first commit alice signs', async () => {
  d = await testDatabase();
  const alice = key('alice');
  const mallory = key('mallory');
  keys.alice = alice.file;
  keys.mallory = mallory.file;
  keys.malloryPub = mallory.pub;
  repo = gitRepo({ ...baseFiles(), 'coder-git.yaml': signed, '.coder-git/allowed_signers': `alice@example.com namespaces="git" ${alice.pub}\n` });
  const first = commit({}, 'signed by alice', 'alice');
  const r = await sync(first);
  assert.is(r.kind, 'queued', JSON.stringify(r));
  assert.equal(await users(), ['alice', 'bob']);
});

test('an unsigned commit is recorded as untrusted and nothing of it is applied', async () => {
  const sha = commit({ 'users/carol.yaml': carol }, 'unsigned');
  const r = await sync(sha);
  assert.is(r.kind, 'invalid');
  const s = await status(sha);
  assert.is(s.status, 'untrusted');
  assert.match(s.errors[0]!.message, /^commit [0-9a-f]{12} is not trusted: it is not signed; nothing of it is applied$/);
  assert.equal(await users(), ['alice', 'bob'], 'carol was not applied');
});

test("a key the commit adds to the allowed signers is not trusted for that commit (the last applied one's file decides)", async () => {
  const sha = commit({ '.coder-git/allowed_signers': `${readFileSync(path.join(repo, '.coder-git/allowed_signers'), 'utf8')}mallory@example.com namespaces="git" ${keys.malloryPub}\n` }, 'mallory trusts herself', 'mallory');
  await sync(sha);
  const s = await status(sha);
  assert.is(s.status, 'untrusted');
  assert.match(s.errors[0]!.message, /is not trusted: its signature (cannot be checked|is good but by a key that is not trusted)/);
  assert.equal(await users(), ['alice', 'bob']);
});

test('a commit cannot switch the rule off for itself', async () => {
  const sha = commit({ 'coder-git.yaml': deployment }, 'no more signatures');
  await sync(sha);
  assert.is((await status(sha)).status, 'untrusted');
});

test("a commit alice signs is applied (carol arrives, and mallory's key is trusted from now on)", async () => {
  const sha = commit({ 'coder-git.yaml': signed }, 'alice signs what came before', 'alice');
  const r = await sync(sha);
  assert.ok(r.kind === 'queued' || r.kind === 'unchanged', JSON.stringify(r.kind));
  assert.equal(await users(), ['alice', 'bob', 'carol']);
  const next = commit({ 'users/carol.yaml': null }, 'mallory, now trusted', 'mallory');
  assert.is((await sync(next)).kind, 'queued');
  assert.equal(await users(), ['alice', 'bob']);
});

test('allowed_signers_env: the runner names the file; a commit signed by a key outside it is refused', async () => {
  const runnerFile = path.join(tempDir(), 'allowed');
  writeFiles(path.dirname(runnerFile), { allowed: `alice@example.com namespaces="git" ${readFileSync(`${keys.alice}.pub`, 'utf8')}` });
  process.env.TEST_SIGNERS = runnerFile;
  const turnOn = commit({ 'coder-git.yaml': `${deployment}signatures:\n  required: true\n  allowed_signers_env: TEST_SIGNERS\n` }, 'signers from the runner', 'alice');
  assert.is((await sync(turnOn)).kind, 'queued');
  const sha = commit({ 'users/carol.yaml': carol }, 'mallory again', 'mallory');
  await sync(sha);
  assert.is((await status(sha)).status, 'untrusted');
  delete process.env.TEST_SIGNERS;
  const alice = commit({}, 'alice, without the variable', 'alice');
  await sync(alice);
  assert.match((await status(alice)).errors[0]!.message, /names TEST_SIGNERS, which the runner's environment does not set/);
});

test('cleanup', async () => {
  await d.drop();
  await stopOwnServer();
  cleanup();
});

test.run();
