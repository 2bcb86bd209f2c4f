// Validation, stage one: each file on its own. Raw bytes → YAML → kind and apiVersion → JSON Schema
// (with defaults) → a typed object whose name comes from its path. Then crossref.ts checks how the
// files fit together. Every problem is collected; the desired state exists only when there is none.

import type { ConfigSource, SourceFile } from './source.ts';
import { isConfigPath, MAX_FILE_BYTES } from './source.ts';
import { byPosition, type Diagnostic } from './diagnostics.ts';
import { place, NAME_RE, NAME_RULE, type Placement } from './layout.ts';
import { expectedKind, parseConfigFile, type ParsedFile } from './yaml.ts';
import { validateSchema, type SchemaKind } from './schemas.ts';
import { schemaDiagnostics, show } from './messages.ts';
import { crossCheck } from './crossref.ts';
import type { FileSet, Loaded } from './fileset.ts';

export type { FileSet, Loaded } from './fileset.ts';
import type { Deployment, DesiredState, Group, Template, User, Workspace } from './types.ts';
import { resolveUsers } from './resolve.ts';

export interface ValidationResult {
  /** present only when there are no errors */
  state: DesiredState | undefined;
  diagnostics: Diagnostic[];
  counts: { users: number; groups: number; templates: number; workspaces: number };
}

export function validateSource(source: ConfigSource): ValidationResult {
  const diags: Diagnostic[] = [];
  const set: FileSet = { deployment: undefined, users: new Map(), groups: new Map(), templates: new Map(), workspaces: new Map(), templateFiles: new Map() };
  const err = (file: string, message: string, code: Diagnostic['code'], line = 1, col = 1) =>
    diags.push({ file, line, col, severity: 'error', code, message });

  for (const f of source.files) {
    const where = place(f.path);
    switch (where.kind) {
      case 'ignored':
        // A link where config lives (a folder of workspaces, a template folder, users/ itself) would
        // otherwise vanish without a word: git stores it as one entry, never as the files behind it.
        if (f.kind !== 'file' && isConfigPath(f.path)) err(f.path, `${f.kind === 'symlink' ? 'a symbolic link' : 'a git submodule'} is not followed; put the folder or file itself here`, 'file');
        continue;
      case 'misplaced':
        err(f.path, where.message, 'location');
        continue;
      case 'template-file': {
        let files = set.templateFiles.get(where.template);
        if (!files) set.templateFiles.set(where.template, (files = new Map()));
        files.set(where.rel, f);
        if (f.kind !== 'file') err(f.path, `${f.kind === 'symlink' ? 'a symbolic link' : 'a git submodule'} is not allowed in a template; put the file itself here`, 'file');
        else if (f.size > MAX_FILE_BYTES) err(f.path, tooLarge(f.size), 'file');
        continue;
      }
      default:
        break;
    }
    // A config YAML file.
    if (where.kind === 'template') {
      let files = set.templateFiles.get(where.name);
      if (!files) set.templateFiles.set(where.name, (files = new Map()));
      files.set('template.yaml', f);
    }
    const name = where.kind === 'deployment' ? undefined : where.name;
    if (where.kind === 'workspace' && !NAME_RE.test(where.owner)) {
      err(f.path, `"${where.owner}" (the folder name) is not a valid username: it must be ${NAME_RULE}`, 'identity');
    }
    if (name !== undefined && !NAME_RE.test(name)) {
      const what = where.kind === 'template' ? 'template name (the folder name)' : `${where.kind} name (the file name)`;
      err(f.path, `"${name}" is not a valid ${what}: it must be ${NAME_RULE}`, 'identity');
    }
    const unreadable = () => register(set, where, f.path, { value: {}, parsed: AT_START, broken: 'unreadable' });
    if (f.kind !== 'file') {
      err(f.path, `${f.kind === 'symlink' ? 'a symbolic link' : 'a git submodule'} is not followed; put the file itself here`, 'file');
      unreadable();
      continue;
    }
    if (f.size > MAX_FILE_BYTES || !f.content) {
      err(f.path, tooLarge(f.size), 'file');
      unreadable();
      continue;
    }
    const res = parseConfigFile(f.path, f.content);
    if (!res.ok) {
      diags.push(...res.diagnostics);
      unreadable();
      continue;
    }
    const parsed = res.parsed;
    const kind = (where.kind === 'deployment' ? 'deployment' : where.kind) as SchemaKind;
    if (!checkHeader(f.path, parsed, diags)) {
      unreadable();
      continue;
    }
    const schemaErrors = validateSchema(kind, parsed.value);
    const broken = schemaErrors.length > 0 ? 'schema' : false;
    diags.push(...schemaDiagnostics(f.path, schemaErrors, parsed));
    const doc = parsed.value as Record<string, unknown>;
    if (where.kind === 'deployment') {
      // A broken coder-git.yaml still marks the repo; cross-checks then use no deployment settings.
      register(set, where, f.path, { value: doc, parsed, broken });
      continue;
    }
    // The path is the identity; a name/owner field may repeat it but must agree.
    const agree = (field: string, expected: string, from: string) => {
      if (doc[field] !== undefined && doc[field] !== expected) {
        const p = parsed.locate([field]);
        err(f.path, `${field}: ${show(doc[field])} disagrees with the ${from} "${expected}"; remove the field or make them equal`, 'identity', p.line, p.col);
      }
    };
    agree('name', where.name, where.kind === 'template' ? 'folder name' : 'file name');
    if (where.kind === 'workspace') agree('owner', where.owner, 'folder name');
    register(set, where, f.path, { value: doc, parsed, broken });
  }

  if (!set.deployment) {
    err('coder-git.yaml', 'missing: a config repo has coder-git.yaml at its root (apiVersion: coder-git/v1, kind: Deployment); `coder-git init` makes one', 'file');
  }
  diags.push(...crossCheck(set));
  diags.sort(byPosition);
  const counts = { users: set.users.size, groups: set.groups.size, templates: set.templates.size, workspaces: set.workspaces.size };
  if (diags.some((d) => d.severity === 'error') || !set.deployment || set.deployment.broken) return { state: undefined, diagnostics: diags, counts };
  const pick = <T>(m: Map<string, Loaded<T>>) => new Map([...m].map(([k, v]) => [k, v.value]));
  const state: DesiredState = { deployment: set.deployment.value, users: pick(set.users), groups: pick(set.groups), templates: pick(set.templates), workspaces: pick(set.workspaces) };
  resolveUsers(state);
  return {
    state,
    diagnostics: diags,
    counts,
  };
}

type ConfigPlacement = Exclude<Placement, { kind: 'ignored' | 'misplaced' | 'template-file' }>;

/** Where nothing could be read, positions fall back to the start of the file. */
const AT_START: ParsedFile = { value: {}, locate: () => ({ line: 1, col: 1 }) };

/**
 * The typed object of a file, field by field (with the schema's defaults already filled in). The
 * identity comes from the path. For a broken file the fields are whatever was there.
 */
function register(set: FileSet, where: ConfigPlacement, file: string, l: Loaded<Record<string, unknown>>): void {
  const { value: d, parsed, broken } = l;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- schema-checked (or knowingly broken) fields
  const v = d as { [k: string]: any };
  switch (where.kind) {
    case 'deployment':
      set.deployment = { value: { access_url: v.access_url, ...(v.repository_url ? { repository_url: v.repository_url } : {}), ...(v.wildcard_access_url ? { wildcard_access_url: v.wildcard_access_url } : {}), auth: v.auth, terraform: v.terraform, notifications: v.notifications, ...(v.signatures ? { signatures: v.signatures } : {}) }, parsed, broken };
      return;
    case 'user': {
      const u: User = {
        name: where.name, file, email: v.email, full_name: v.full_name, roles: v.roles, login: v.login, status: v.status, password_hash: v.password_hash,
        github: v.github, quota: v.quota, schedule: v.schedule, shell: v.shell, dotfiles: v.dotfiles, groups: [],
      };
      set.users.set(where.name, { value: u, parsed, broken });
      return;
    }
    case 'group': {
      const g: Group = { name: where.name, file, display_name: v.display_name, members: v.members ?? [], roles: v.roles ?? [], oidc_group: v.oidc_group, quota: v.quota };
      set.groups.set(where.name, { value: g, parsed, broken });
      return;
    }
    case 'template': {
      const t: Template = {
        name: where.name, file, display_name: v.display_name, description: v.description, icon: v.icon,
        parameters: v.parameters, agent: v.agent, schedule: v.schedule, apps: v.apps ?? {}, cost: v.cost ?? { base: 0, parameters: {} }, max_port_share: v.max_port_share ?? 'owner', files: new Map(),
      };
      set.templates.set(where.name, { value: t, parsed, broken });
      return;
    }
    case 'workspace': {
      const w: Workspace = { owner: where.owner, name: where.name, file, template: v.template, parameters: v.parameters, state: v.state, schedule: v.schedule, ports: v.ports ?? [] };
      set.workspaces.set(`${where.owner}/${where.name}`, { value: w, parsed, broken });
    }
  }
}

function tooLarge(size: number): string {
  return `the file is ${(size / 1048576).toFixed(1)} MiB; config files may be at most 1 MiB`;
}

/** apiVersion and kind first: a file of the wrong kind would otherwise drown in schema errors. */
function checkHeader(file: string, parsed: ParsedFile, diags: Diagnostic[]): boolean {
  const v = parsed.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    diags.push({ file, line: 1, col: 1, severity: 'error', code: 'schema', message: `expected a mapping (key: value lines) starting with apiVersion: coder-git/v1 and kind: ${expectedKind(file)}, got ${Array.isArray(v) ? 'a list' : show(v)}` });
    return false;
  }
  const doc = v as Record<string, unknown>;
  const want = expectedKind(file);
  if (typeof doc.apiVersion === 'string' && doc.apiVersion !== 'coder-git/v1') {
    const p = parsed.locate(['apiVersion']);
    const hint = /^coder-git\/v\d+$/.test(doc.apiVersion) ? 'this coder-git reads coder-git/v1' : 'use apiVersion: coder-git/v1';
    diags.push({ file, line: p.line, col: p.col, severity: 'error', code: 'schema', message: `apiVersion: ${show(doc.apiVersion)} is not supported; ${hint}` });
    return false;
  }
  if (typeof doc.kind === 'string' && doc.kind !== want) {
    const p = parsed.locate(['kind']);
    const folder = want === 'Deployment' ? 'coder-git.yaml' : `a file in ${file.split('/')[0]}/`;
    diags.push({ file, line: p.line, col: p.col, severity: 'error', code: 'schema', message: `kind: ${show(doc.kind)} does not belong here; ${folder} is kind: ${want}` });
    return false;
  }
  return true;
}
