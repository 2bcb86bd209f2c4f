// Generates the benchmark config repo: 10,000 users, 20,000 workspaces and 50 templates, committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export interface BenchRepoSize {
  users: number;
  workspaces: number;
  templates: number;
}

export const FULL: BenchRepoSize = { users: 10_000, workspaces: 20_000, templates: 50 };

const gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

export function generateRepo(dir: string, size: BenchRepoSize = FULL): void {
  const write = (rel: string, text: string) => {
    const abs = path.join(dir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  };
  write('coder-git.yaml', 'apiVersion: coder-git/v1\nkind: Deployment\naccess_url: https://coder.example.com\nterraform:\n  variables:\n    region: eu-west-1\n');
  for (let t = 0; t < size.templates; t++) {
    write(`templates/t${t}/template.yaml`, `# yaml-language-server: $schema=../../.coder-git/schemas/template.json
apiVersion: coder-git/v1
kind: Template
display_name: Template ${t}
description: Generated template number ${t}
parameters:
  cpu:
    type: integer
    default: 2
    minimum: 1
    maximum: 16
  image:
    type: string
    enum: [debian-12, ubuntu-22.04, ubuntu-24.04]
    default: debian-12
    mutable: false
  label:
    type: string
    pattern: "^[a-z0-9-]+$"
    default: dev
agent:
  startup_script: |
    echo starting
    cat .motd
schedule:
  default_ttl: 8h
  max_ttl: 24h
`);
    write(`templates/t${t}/main.tf`, `variable "cpu" {\n  type = number\n}\n\nvariable "image" {\n  type = string\n}\n\nvariable "label" {\n  type = string\n}\n\nvariable "coder_workspace_name" {\n  type = string\n}\n\nresource "terraform_data" "w" {\n  input = "\${var.coder_workspace_name}-\${var.cpu}-\${var.image}"\n}\n`);
  }
  for (let u = 0; u < size.users; u++) {
    write(`users/user${u}.yaml`, `# yaml-language-server: $schema=../.coder-git/schemas/user.json
apiVersion: coder-git/v1
kind: User
email: user${u}@example.com
full_name: User Number ${u}
roles: [${u % 100 === 0 ? 'owner, ' : ''}member]
login: password
status: active
`);
  }
  for (let w = 0; w < size.workspaces; w++) {
    const owner = w % size.users;
    write(`workspaces/user${owner}/ws${w}.yaml`, `# yaml-language-server: $schema=../../.coder-git/schemas/workspace.json
apiVersion: coder-git/v1
kind: Workspace
template: t${w % size.templates}
parameters:
  cpu: ${1 + (w % 8)}
  label: ws-${w}
state: ${w % 10 === 0 ? 'stopped' : 'running'}
schedule:
  autostart: "CRON_TZ=Europe/Berlin 0 9 * * 1-5"
  ttl: 8h
`);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: gitEnv, stdio: 'ignore' });
  git('init', '-q', '--initial-branch=main');
  git('add', '--all');
  git('-c', 'commit.gpgsign=false', 'commit', '-qm', 'generated');
}
