// A deployment for the server tests, applied for real (git repo → validate → writeChanges): users of
// every role, passwords for some, a workspace each for bob and carol, API tokens for everyone.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/connect.ts';
import { buildServer } from '../../src/server/app.ts';
import { freePort } from '../helpers/wait.ts';
import { gitRepo, commitAll, writeFiles } from '../helpers/git.ts';
import { hashPassword } from '../../src/auth/password.ts';
import { loadCommit } from '../../src/apply/session.ts';
import { writeChanges } from '../../src/apply/apply.ts';
import { issueKey } from '../../src/server/auth.ts';
import { agents } from '../../src/db/repos/agents.ts';

export const PASSWORDS = { alice: 'alice-correct-horse', bob: 'bob-battery-staple', sam: 'sam-suspended-pass' };

const user = (email: string, roles: string[], extra = '') => `apiVersion: coder-git/v1\nkind: User\nemail: ${email}\nroles: [${roles.join(', ')}]\n${extra}`;
const ws = 'apiVersion: coder-git/v1\nkind: Workspace\ntemplate: plain\n';

export interface Fixture {
  repo: string;
  /** API token secrets by username */
  tokens: Record<string, string>;
  /** a live agent token of bob/box's latest build */
  agentToken: string;
  agentId: string;
  /** every secret handed out (for the "no plaintext in the database" check) */
  secrets: string[];
  apply(files: Record<string, string | null>, message: string): Promise<void>;
}

export async function deploymentFixture(database: Database, opts: { deployment?: string; files?: Record<string, string> } = {}): Promise<Fixture> {
  const { db } = database;
  const hashes = Object.fromEntries(await Promise.all(Object.entries(PASSWORDS).map(async ([u, p]) => [u, await hashPassword(p)])));
  const repo = gitRepo({
    'coder-git.yaml': opts.deployment ?? 'apiVersion: coder-git/v1\nkind: Deployment\naccess_url: http://127.0.0.1:3000\n',
    'users/alice.yaml': user('alice@example.com', ['owner'], `login: password\npassword_hash: "${hashes.alice}"\n`),
    'users/bob.yaml': user('bob@example.com', ['member'], `login: password\npassword_hash: "${hashes.bob}"\n`),
    'users/carol.yaml': user('carol@example.com', ['member']),
    'users/dave.yaml': user('dave@example.com', ['auditor']),
    'users/erin.yaml': user('erin@example.com', ['template-admin']),
    'users/uma.yaml': user('uma@example.com', ['user-admin']),
    'users/olga.yaml': user('olga@example.com', ['member'], 'login: oidc\n'),
    'users/sam.yaml': user('sam@example.com', ['member'], `login: password\nstatus: suspended\npassword_hash: "${hashes.sam}"\n`),
    'templates/plain/template.yaml': 'apiVersion: coder-git/v1\nkind: Template\n',
    'templates/plain/main.tf': 'resource "terraform_data" "x" {}\n',
    'workspaces/bob/box.yaml': ws,
    'workspaces/carol/lab.yaml': ws,
    ...opts.files,
  });
  const apply = async (message: string) => {
    const c = await loadCommit(repo, 'HEAD');
    if (!c.desired) throw new Error(JSON.stringify(c.result.diagnostics));
    await writeChanges(db, c.desired, { commit: c.source.commit!, ref: 'main', allowDestroy: true, maxDestroy: 100 });
  };
  await apply('initial');
  const ids = await db.any<{ id: string; username: string }>('SELECT id, username FROM users WHERE deleted_at IS NULL');
  const tokens: Record<string, string> = {};
  for (const u of ids) tokens[u.username] = (await issueKey(db, u.id, 'token', 'test', 86_400_000)).secret;
  const build = await db.one<{ id: string; workspace_id: string }>("SELECT b.id, b.workspace_id FROM workspace_builds b JOIN workspaces w ON w.latest_build_id = b.id WHERE w.name = 'box'");
  const agentToken = randomBytes(32).toString('base64url');
  const agent = await agents.create(db, { workspace_id: build.workspace_id, build_id: build.id, token_hash: createHash('sha256').update(agentToken).digest() });
  return {
    repo,
    tokens,
    agentToken,
    agentId: agent.id,
    secrets: [...Object.values(PASSWORDS), ...Object.values(tokens), agentToken],
    async apply(files, message) {
      writeFiles(repo, files);
      commitAll(repo, message);
      await apply(message);
    },
  };
}

/** n server replicas on one database, each listening on 127.0.0.1 with its internal URL set. */
export async function startReplicas(database: Database, n: number): Promise<{ app: FastifyInstance; url: string }[]> {
  const out: { app: FastifyInstance; url: string }[] = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const app = await buildServer({ database, logger: false, heartbeatMs: 1000, replicaUrl: url });
    await app.listen({ host: '127.0.0.1', port });
    out.push({ app, url });
  }
  return out;
}
