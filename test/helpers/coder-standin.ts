// A local stand-in for the read-only routes of Coder's REST API that `coder-git import` uses, built
// from the response shapes in Coder's API reference (coder.com/docs/reference/api: Users, Templates,
// Workspaces, Builds, Files), with the fields Coder sends that coder-git does not read left in, so
// the import is tested against realistic documents. Template files are real tar archives made by
// the system's tar. Pagination (limit/offset) and the Coder-Session-Token header are enforced.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CODER_TOKEN = 'coder-session-token-for-tests';
const ORG = 'b3f1c2d4-0000-4000-8000-000000000001';
const ORG2 = 'b3f1c2d4-0000-4000-8000-000000000002';

function tarOf(files: Record<string, string>, links: Record<string, string> = {}): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'coder-standin-tar-'));
  try {
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    for (const [rel, target] of Object.entries(links)) symlinkSync(target, path.join(dir, rel));
    // Coder writes tar archives with Go's archive/tar (ustar, PAX for long names): --format=pax is the same family.
    return execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, '.'], { maxBuffer: 64 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const user = (i: number, username: string, o: { email?: string; name?: string; status?: string; login_type?: string; roles?: string[] } = {}) => ({
  id: `0000000${i}-aaaa-4000-8000-${String(i).padStart(12, '0')}`,
  username,
  name: o.name ?? '',
  email: o.email ?? `${username}@example.com`,
  created_at: '2025-01-02T10:00:00Z',
  updated_at: '2025-06-01T10:00:00Z',
  last_seen_at: '2026-11-20T08:00:00Z',
  status: o.status ?? 'active',
  login_type: o.login_type ?? 'password',
  theme_preference: '',
  organization_ids: [ORG],
  roles: (o.roles ?? []).map((r) => ({ name: r, display_name: r.replace(/(^|-)\w/g, (c) => c.toUpperCase()), organization_id: '' })),
  avatar_url: '',
});

const DOCKER_TF = `terraform {
  required_providers {
    coder  = { source = "coder/coder" }
    docker = { source = "kreuzwerker/docker" }
  }
}

variable "docker_host" {
  type        = string
  description = "Docker daemon the workspaces run on"
}

variable "registry_password" {
  type      = string
  sensitive = true
}

data "coder_workspace" "me" {}

data "coder_parameter" "cpu" {
  name    = "cpu"
  type    = "number"
  default = "2"
}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "docker_container" "workspace" {
  count = data.coder_workspace.me.start_count
  image = "codercom/enterprise-base:ubuntu"
  name  = "coder-\${data.coder_workspace.me.name}"
}
`;

const param = (p: Record<string, unknown>) => ({
  display_name: '',
  description: '',
  description_plaintext: '',
  icon: '',
  options: [],
  validation_error: '',
  validation_regex: '',
  validation_min: null,
  validation_max: null,
  validation_monotonic: '',
  mutable: true,
  ephemeral: false,
  required: false,
  form_type: 'input',
  ...p,
});

const variable = (name: string, o: Record<string, unknown>) => ({ name, description: '', type: 'string', value: '', default_value: '', required: false, sensitive: false, ...o });

export interface CoderStandin {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function coderStandin(): Promise<CoderStandin> {
  const many = Array.from({ length: 120 }, (_, i) => user(100 + i, `dev-${i}`, { login_type: 'none' }));
  const users = [
    user(1, 'admin', { name: 'Ada Admin', roles: ['owner'] }),
    user(2, 'alice', { name: 'Alice Liddell', login_type: 'oidc' }),
    user(3, 'bob', { login_type: 'github', status: 'dormant', roles: ['template-admin', 'organization-admin'] }),
    user(4, 'carol', { status: 'suspended' }),
    ...many,
  ];
  const files: Record<string, Buffer> = {
    'f-docker': tarOf({ 'main.tf': DOCKER_TF, 'README.md': '# Docker dev\n', 'scripts/setup.sh': '#!/bin/sh\necho set up\n' }, { 'latest.tf': 'main.tf' }),
    'f-k8s': tarOf({ 'main.tf': 'variable "namespace" {\n  type    = string\n  default = "coder"\n}\n\nvariable "home_size" {\n  type = number\n}\n' }),
  };
  const templates = [
    { id: 't-docker', name: 'docker-dev', display_name: 'Docker development', description: 'A container per developer', icon: '/icon/docker.png', organization_id: ORG, organization_name: 'coder', active_version_id: 'v-docker', default_ttl_ms: 8 * 3_600_000, max_ttl_ms: 24 * 3_600_000, activity_bump_ms: 3_600_000, autostop_requirement: { days_of_week: [], weeks: 1 }, autostart_requirement: { days_of_week: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] }, allow_user_autostart: true, allow_user_autostop: true, allow_user_cancel_workspace_jobs: false, deprecated: false, provisioner: 'terraform', created_by_id: users[0]!.id, created_by_name: 'admin', active_user_count: 2, build_time_stats: {}, require_active_version: false, max_port_share_level: 'owner' },
    { id: 't-k8s', name: 'k8s', display_name: 'Kubernetes', description: '', icon: '', organization_id: ORG2, organization_name: 'platform', active_version_id: 'v-k8s', default_ttl_ms: 0, activity_bump_ms: 0, autostop_requirement: { days_of_week: ['saturday', 'sunday'], weeks: 1 }, allow_user_autostart: true, allow_user_autostop: false, deprecated: true, provisioner: 'terraform' },
  ];
  const versions: Record<string, unknown> = {
    'v-docker': { id: 'v-docker', template_id: 't-docker', organization_id: ORG, name: 'brave_turing3', message: 'v3', readme: '', created_at: '2026-10-01T10:00:00Z', job: { id: 'j-1', status: 'succeeded', file_id: 'f-docker', type: 'template_version_import' }, warnings: [] },
    'v-k8s': { id: 'v-k8s', template_id: 't-k8s', organization_id: ORG2, name: 'calm_hopper1', message: '', job: { id: 'j-2', status: 'succeeded', file_id: 'f-k8s' } },
  };
  const richParameters: Record<string, unknown[]> = {
    'v-docker': [
      param({ name: 'cpu', display_name: 'CPU cores', type: 'number', default_value: '2', options: [2, 4, 8].map((n) => ({ name: `${n} cores`, description: '', value: String(n), icon: '' })), form_type: 'dropdown' }),
      param({ name: 'image', type: 'string', default_value: 'ubuntu', mutable: false }),
      param({ name: 'Dotfiles-URL', display_name: 'Dotfiles', type: 'string', default_value: '', validation_regex: '^(https://.*)?$' }),
      param({ name: 'extensions', type: 'list(string)', default_value: '[]', form_type: 'tag-select' }),
      param({ name: 'debug', type: 'bool', default_value: 'false', ephemeral: true, form_type: 'checkbox' }),
    ],
    'v-k8s': [param({ name: 'home_size', display_name: 'Home disk (GiB)', type: 'number', default_value: '', required: true, validation_min: 10, validation_max: 100, validation_monotonic: 'increasing' })],
  };
  const variables: Record<string, unknown[]> = {
    'v-docker': [variable('docker_host', { value: 'unix:///var/run/docker.sock', required: true }), variable('registry_password', { required: true, sensitive: true, value: '' })],
    'v-k8s': [variable('namespace', { value: 'coder', default_value: 'coder' })],
  };
  const build = (id: string, transition: string, status: string, version: string) => ({ id, build_number: 7, transition, status, template_version_id: version, job: { status: status === 'failed' ? 'failed' : 'succeeded' }, reason: 'initiator', resources: [], daily_cost: 0 });
  const ws = (o: Record<string, unknown>) => ({ created_at: '2026-01-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', organization_id: ORG, template_icon: '', template_display_name: '', template_allow_user_cancel_workspace_jobs: false, template_active_version_id: '', template_require_active_version: false, outdated: false, autostart_schedule: null, ttl_ms: null, last_used_at: '2026-11-20T00:00:00Z', deleting_at: null, dormant_at: null, health: { healthy: true, failing_agents: [] }, automatic_updates: 'never', allow_renames: false, favorite: false, ...o });
  const workspaces = [
    ws({ id: 'w-1', name: 'dev', owner_id: users[0]!.id, owner_name: 'admin', template_id: 't-docker', template_name: 'docker-dev', outdated: true, autostart_schedule: 'CRON_TZ=Europe/Berlin 30 9 * * 1-5', ttl_ms: 8 * 3_600_000, latest_build: build('b-1', 'start', 'running', 'v-docker') }),
    ws({ id: 'w-2', name: 'k8s-box', owner_id: users[1]!.id, owner_name: 'alice', template_id: 't-k8s', template_name: 'k8s', organization_id: ORG2, latest_build: build('b-2', 'stop', 'stopped', 'v-k8s') }),
    ws({ id: 'w-3', name: 'old', owner_id: users[3]!.id, owner_name: 'carol', template_id: 't-docker', template_name: 'docker-dev', deleting_at: '2026-12-10T00:00:00Z', latest_build: build('b-3', 'stop', 'stopped', 'v-docker') }),
    ws({ id: 'w-4', name: 'lab', owner_id: users[2]!.id, owner_name: 'bob', template_id: 't-docker', template_name: 'docker-dev', dormant_at: '2026-09-01T00:00:00Z', automatic_updates: 'always', latest_build: build('b-4', 'start', 'failed', 'v-docker') }),
  ];
  const buildParameters: Record<string, { name: string; value: string }[]> = {
    'b-1': [{ name: 'cpu', value: '4' }, { name: 'image', value: 'ubuntu' }, { name: 'Dotfiles-URL', value: 'https://github.com/admin/dotfiles' }, { name: 'extensions', value: '["ms-python.python"]' }, { name: 'debug', value: 'true' }],
    'b-2': [{ name: 'home_size', value: '20' }],
    'b-3': [],
    'b-4': [{ name: 'cpu', value: '8' }, { name: 'image', value: 'ubuntu' }],
  };

  const requests: string[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(Buffer.isBuffer(body) ? body : JSON.stringify(body));
    };
    if (req.headers['coder-session-token'] !== CODER_TOKEN) return send(401, { message: 'You must be logged in to use this endpoint.', detail: 'Cookie "coder_session_token" or query parameter must be provided.' });
    const page = <T>(rows: T[]) => {
      const limit = Number(u.searchParams.get('limit') ?? 0) || rows.length;
      const offset = Number(u.searchParams.get('offset') ?? 0);
      return rows.slice(offset, offset + limit);
    };
    let m: RegExpExecArray | null;
    const p = u.pathname;
    if (p === '/api/v2/users') return send(200, { users: page(users), count: users.length });
    if (p === '/api/v2/templates') return send(200, templates);
    if (p === '/api/v2/workspaces') return send(200, { workspaces: page(workspaces), count: workspaces.length });
    if ((m = /^\/api\/v2\/templateversions\/([\w-]+)$/.exec(p)) && versions[m[1]!]) return send(200, versions[m[1]!]);
    if ((m = /^\/api\/v2\/templateversions\/([\w-]+)\/rich-parameters$/.exec(p))) return send(200, richParameters[m[1]!] ?? []);
    if ((m = /^\/api\/v2\/templateversions\/([\w-]+)\/variables$/.exec(p))) return send(200, variables[m[1]!] ?? []);
    if ((m = /^\/api\/v2\/files\/([\w-]+)$/.exec(p)) && files[m[1]!]) return send(200, files[m[1]!], 'application/x-tar');
    if ((m = /^\/api\/v2\/workspacebuilds\/([\w-]+)\/parameters$/.exec(p)) && buildParameters[m[1]!]) return send(200, buildParameters[m[1]!]);
    send(404, { message: 'Route not found.' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
