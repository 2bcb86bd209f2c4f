// `coder-git init`: a new config repo that validates and runs as it is: coder-git.yaml, the
// built-in templates asked for, an owner, one running workspace, CI pipelines and a first commit.

import { codeowners, CODEOWNERS_PATH } from './governance/codeowners.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CoderGitError } from './errors.ts';
import { GitRepo } from './git/git.ts';
import { NAME_RE, NAME_RULE } from './config/layout.ts';
import { VERSION } from './version.ts';
import { editorFiles, schemaModeline } from './config/editor.ts';

export const BUILTIN_TEMPLATES = ['local', 'sandbox', 'docker', 'kubernetes', 'aws-ec2'] as const;

export interface InitOptions {
  dir: string;
  admin: string;
  adminEmail: string;
  workspace: string;
  templates: string[];
  accessUrl: string;
  commit: boolean;
}

export interface InitResult {
  dir: string;
  files: string[];
  commit: string | undefined;
}

import { PKG_ROOT as pkgRoot } from './paths.ts';

export async function initRepo(opts: InitOptions): Promise<InitResult> {
  for (const [flag, value] of [['--admin', opts.admin], ['--workspace', opts.workspace]] as const) {
    if (!NAME_RE.test(value)) throw new CoderGitError('CG_USAGE', `${flag} ${JSON.stringify(value)}: must be ${NAME_RULE}`);
  }
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(opts.adminEmail)) {
    throw new CoderGitError('CG_USAGE', `--admin-email ${JSON.stringify(opts.adminEmail)}: must be an email address like admin@example.com`);
  }
  if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(opts.accessUrl)) {
    throw new CoderGitError('CG_USAGE', `--access-url ${JSON.stringify(opts.accessUrl)}: must be an http:// or https:// URL`);
  }
  for (const t of opts.templates) {
    if (!(BUILTIN_TEMPLATES as readonly string[]).includes(t)) {
      throw new CoderGitError('CG_USAGE', `--template ${t}: no such built-in template; there are ${BUILTIN_TEMPLATES.join(', ')}`);
    }
  }
  if (!opts.templates.includes('local')) opts = { ...opts, templates: ['local', ...opts.templates] };

  const dir = await emptyRepoDir(opts.dir, 'init makes a new config repo in an empty or new directory');

  const files = new Map<string, string>();
  files.set('coder-git.yaml', deploymentFile(opts.accessUrl));
  files.set(`users/${opts.admin}.yaml`, adminFile(opts.admin, opts.adminEmail));
  files.set(`workspaces/${opts.admin}/${opts.workspace}.yaml`, workspaceFile());
  for (const t of opts.templates) {
    const src = path.join(pkgRoot, 'templates', t);
    for (const f of (await fsp.readdir(src, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(src, path.join(e.parentPath ?? e.path, e.name)))) {
      const text = await fsp.readFile(path.join(src, f), 'utf8');
      files.set(`templates/${t}/${f}`, f === 'template.yaml' ? `${schemaModeline('template')}\n${text}` : text);
    }
  }
  for (const [rel, text] of await repoScaffold()) files.set(rel, text);
  files.set('README.md', readme(opts));
  // (its admin has no github login yet: the file says so; `coder-git codeowners` refreshes it)
  const admin = { name: opts.admin, file: `users/${opts.admin}.yaml`, email: opts.adminEmail, roles: ['owner' as const], login: 'password' as const, status: 'active' as const, groups: [] };
  files.set(CODEOWNERS_PATH, codeowners({ users: new Map([[opts.admin, admin]]), groups: new Map() }));

  await writeNewFiles(dir, files);
  const commit = opts.commit ? await commitNewRepo(dir, 'Initial coder-git config repo') : undefined;
  return { dir, files: [...files.keys()].sort(), commit };
}

/** The folder for a new config repo (made if missing), refused unless empty but for .git. */
export async function emptyRepoDir(target: string, why: string): Promise<string> {
  const dir = path.resolve(target);
  await fsp.mkdir(dir, { recursive: true });
  const existing = (await fsp.readdir(dir)).filter((e) => e !== '.git');
  if (existing.length) throw new CoderGitError('CG_EXISTS', `${dir} is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}); ${why}`);
  return dir;
}

/** Writes the files of a new repo, never over an existing one nor outside dir. */
export async function writeNewFiles(dir: string, files: Map<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of files) {
    const abs = path.join(dir, rel);
    if (!abs.startsWith(`${dir}${path.sep}`)) throw new CoderGitError('CG_IO', `refusing to write ${rel}: outside ${dir}`);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(abs, content, { flag: 'wx' });
  }
}

/** git init (unless dir is a repo already) and commit everything; returns the commit. */
export async function commitNewRepo(dir: string, message: string): Promise<string> {
  const repo = new GitRepo(dir);
  if (!(await repo.isRepo())) await repo.init();
  return repo.commitAll(message);
}

/** What every new config repo gets besides its config: the CI pipelines (pinned to this version), a .gitignore, editor settings and schemas. */
export async function repoScaffold(): Promise<Map<string, string>> {
  const ci = (f: string) => fsp.readFile(path.join(pkgRoot, 'ci', f), 'utf8').then((s) => s.replaceAll('{{version}}', VERSION));
  return new Map([
    ['.github/workflows/coder-git.yaml', await ci('github/coder-git.yaml')],
    ['.gitlab-ci.yml', await ci('gitlab/coder-git.gitlab-ci.yml')],
    ['.gitignore', '.terraform/\n.terraform.lock.hcl\n'],
    ...editorFiles(),
  ]);
}

export function deploymentFile(accessUrl: string): string {
  return `${schemaModeline('deployment')}
apiVersion: coder-git/v1
kind: Deployment
# Where people and workspace agents reach the coder-git server.
access_url: ${accessUrl}
auth:
  password:
    enabled: true
  # Single sign-on; the client secret comes from the environment, never from git:
  # oidc:
  #   issuer_url: https://accounts.example.com
  #   client_id: coder-git
  #   client_secret_env: CODER_GIT_OIDC_CLIENT_SECRET
  #   allowed_domains: [example.com]
terraform:
  binary: terraform
  parallelism: 4
  timeout: 30m
  # Environment variables of the runner that templates may see (cloud credentials):
  env: []
  # Values for template variables of the same name:
  variables: {}
`;
}

function adminFile(name: string, email: string): string {
  return `${schemaModeline('user')}
apiVersion: coder-git/v1
kind: User
email: ${email}
full_name: ${name === 'admin' ? 'Administrator' : name}
roles: [owner]
login: password
status: active
# password_hash: $scrypt$...   (make one with: coder-git hash-password; $argon2id$ hashes work too)
`;
}

function workspaceFile(): string {
  return `${schemaModeline('workspace')}
apiVersion: coder-git/v1
kind: Workspace
template: local
state: running
parameters: {}
`;
}

function readme(o: InitOptions): string {
  return `# coder-git config repo

Everything here is applied by coder-git when it reaches the main branch:

| path | what |
| --- | --- |
| \`coder-git.yaml\` | deployment settings |
| \`users/<username>.yaml\` | people who can log in and own workspaces |
| \`templates/<name>/\` | workspace templates: \`template.yaml\` beside a Terraform module |
| \`workspaces/<owner>/<name>.yaml\` | workspaces |

Check a change before you push it: \`npx coder-git validate\`.

Made by \`coder-git init\` ${VERSION} with owner \`${o.admin}\` and workspace \`${o.admin}/${o.workspace}\`.
`;
}
