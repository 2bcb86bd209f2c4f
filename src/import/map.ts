// Maps what a Coder deployment holds onto a coder-git config repo: users, templates (their files,
// parameters as template.yaml parameters declared as Terraform variables, schedule limits, template
// variables as deployment-wide values) and workspaces (owner, template, the latest build's
// parameters, started or stopped, autostart and ttl). Whatever has no coder-git equivalent is
// listed in `notes`, never dropped silently. Pure: the snapshot comes from coder-api.ts.
import { stringify } from 'yaml';
import type { CoderRichParameter, CoderTemplate, CoderTemplateVariable, CoderUser, CoderWorkspace } from './coder-api.ts';
import type { TarContents } from './tar.ts';
import { NAME_RE } from '../config/layout.ts';
import { formatDuration } from '../time/duration.ts';
import { schemaModeline } from '../config/editor.ts';

export interface CoderSnapshot {
  users: CoderUser[];
  templates: { template: CoderTemplate; files: TarContents; parameters: CoderRichParameter[]; variables: CoderTemplateVariable[] }[];
  workspaces: { workspace: CoderWorkspace; parameters: { name: string; value: string }[] }[];
}

export interface Mapped {
  files: Map<string, string | Buffer>;
  /** what was not carried over, or changed on the way, one line each */
  notes: string[];
  /** deployment-wide Terraform values and the TF_VAR_ names the runner must provide */
  terraform: { variables: Record<string, string | number | boolean>; env: string[] };
  counts: { users: number; templates: number; workspaces: number };
}

type ParamType = 'string' | 'number' | 'boolean';
interface ParamMap {
  from: string;
  name: string;
  type: ParamType;
}

const ROLES = new Set(['owner', 'template-admin', 'user-admin', 'auditor']);
const TF_TYPE: Record<ParamType, string> = { string: 'string', number: 'number', boolean: 'bool' };
const CODER_PROVIDER = /\b(resource|data)\s+"(coder_\w+)"/g;
const MIN_TTL_MS = 60_000;

const doc = (kind: 'user' | 'template' | 'workspace', body: Record<string, unknown>) =>
  `${schemaModeline(kind)}\n${stringify({ apiVersion: 'coder-git/v1', kind: kind[0]!.toUpperCase() + kind.slice(1), ...body }, { lineWidth: 0 })}`;

/** A coder-git parameter name (a Terraform variable name that is not a coder_ built-in). */
function paramName(n: string): string {
  let s = n.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (/^[0-9]/.test(s) || s.startsWith('coder_') || !s) s = `p_${s}`;
  return s;
}

function typed(type: ParamType, v: string): string | number | boolean {
  if (type === 'number') return Number(v);
  if (type === 'boolean') return v === 'true';
  return v;
}

const clip = (s: string | undefined, n: number) => (s ? (s.length > n ? `${s.slice(0, n - 1)}…` : s) : undefined);

export function mapSnapshot(s: CoderSnapshot): Mapped {
  const files = new Map<string, string | Buffer>();
  const notes: string[] = [];
  const terraform: Mapped['terraform'] = { variables: {}, env: [] };

  // Users.
  const users = new Set<string>();
  const passwordUsers: string[] = [];
  const githubUsers: string[] = [];
  for (const u of s.users) {
    const name = u.username.toLowerCase();
    if (!NAME_RE.test(name)) {
      notes.push(`user ${u.username}: not a valid coder-git username; not imported (nor their workspaces)`);
      continue;
    }
    const roles = u.roles.map((r) => r.name).filter((r) => ROLES.has(r));
    const other = u.roles.map((r) => r.name).filter((r) => !ROLES.has(r) && r !== 'member');
    if (other.length) notes.push(`user ${name}: role${other.length > 1 ? 's' : ''} ${other.join(', ')} not mapped (coder-git roles: owner, template-admin, user-admin, auditor, member)`);
    let login: string = u.login_type;
    if (login === 'password') passwordUsers.push(name);
    else if (login === 'github') githubUsers.push(name);
    else if (login !== 'oidc') login = 'none';
    let status: string = u.status;
    if (status === 'dormant') {
      notes.push(`user ${name}: dormant in Coder; imported as active`);
      status = 'active';
    }
    users.add(name);
    files.set(`users/${name}.yaml`, doc('user', { email: u.email, ...(u.name ? { full_name: clip(u.name, 128) } : {}), roles: roles.length ? roles : ['member'], login, status }));
  }
  if (githubUsers.length) notes.push(`users ${githubUsers.join(', ')}: sign in with GitHub, imported with login: github, matched by their verified email at sign-in; add github: <their GitHub login> to match by login instead, and auth.github to coder-git.yaml`);
  if (passwordUsers.length) notes.push(`users ${passwordUsers.join(', ')}: sign in with a password, whose hash Coder does not reveal: add password_hash (coder-git hash-password) or switch them to login: oidc`);

  // Templates.
  const params = new Map<string, ParamMap[]>();
  for (const { template: t, files: tar, parameters, variables } of s.templates) {
    let name = t.name.toLowerCase();
    if (!NAME_RE.test(name)) {
      notes.push(`template ${t.name}: not a valid coder-git template name; not imported (nor its workspaces)`);
      continue;
    }
    if (params.has(name)) {
      const renamed = `${name}-${(t.organization_name ?? 'org').toLowerCase()}`.slice(0, 32).replace(/-+$/, '');
      notes.push(`template ${name} of organization ${t.organization_name ?? t.organization_id}: the name is taken by another organization's template; imported as ${renamed}`);
      name = renamed;
    }
    const dir = `templates/${name}`;
    const tf: string[] = [];
    for (const f of tar.files) {
      if (f.path.startsWith('.terraform/') || f.path === '.terraform.lock.hcl') continue;
      if (f.path === 'template.yaml') {
        notes.push(`template ${name}: its own template.yaml is kept as template.coder.yaml (coder-git's takes the name)`);
        files.set(`${dir}/template.coder.yaml`, f.content);
        continue;
      }
      files.set(`${dir}/${f.path}`, f.content);
      if (f.path.endsWith('.tf')) tf.push(f.content.toString('utf8'));
    }
    for (const x of tar.skipped) notes.push(`template ${name}: ${x} not imported (coder-git templates hold plain files)`);
    if (t.deprecated) notes.push(`template ${name}: deprecated in Coder; imported as a normal template`);

    const declared = new Set(tf.flatMap((c) => [...c.matchAll(/^\s*variable\s+"([^"]+)"/gm)].map((m) => m[1]!)));
    const mapped: ParamMap[] = [];
    const spec: Record<string, Record<string, unknown>> = {};
    for (const p of parameters) {
      if (p.type === 'list(string)') {
        notes.push(`template ${name}: parameter ${p.name} is a list(string); coder-git parameters are string, number, integer or boolean: not imported`);
        continue;
      }
      const type: ParamType = p.type === 'bool' ? 'boolean' : p.type;
      const pname = paramName(p.name);
      if (pname !== p.name) notes.push(`template ${name}: parameter ${p.name} is named ${pname} (a Terraform variable name)`);
      if (p.ephemeral) notes.push(`template ${name}: parameter ${pname} is ephemeral in Coder (set per build); in coder-git it is an ordinary parameter`);
      if (p.validation_monotonic) notes.push(`template ${name}: parameter ${pname} must only ${p.validation_monotonic === 'increasing' ? 'grow' : 'shrink'} in Coder; coder-git does not check that`);
      const one: Record<string, unknown> = { type };
      if (p.display_name) one.display_name = clip(p.display_name, 64);
      if (p.description) one.description = clip(p.description, 1024);
      if (!p.required && (p.default_value !== '' || type === 'string')) one.default = typed(type, p.default_value);
      if (p.options?.length) one.enum = p.options.map((o) => typed(type, o.value));
      if (type === 'number' && typeof p.validation_min === 'number') one.minimum = p.validation_min;
      if (type === 'number' && typeof p.validation_max === 'number') one.maximum = p.validation_max;
      if (type === 'string' && p.validation_regex) one.pattern = p.validation_regex;
      if (!p.mutable) one.mutable = false;
      spec[pname] = one;
      mapped.push({ from: p.name, name: pname, type });
    }
    params.set(name, mapped);

    const uses = [...new Set(tf.flatMap((c) => [...c.matchAll(CODER_PROVIDER)].map((m) => `${m[1] === 'data' ? 'data.' : ''}${m[2]}`)))];
    if (uses.length) {
      notes.push(`template ${name}: uses the coder provider (${uses.join(', ')}); coder-git passes workspace facts and parameters as Terraform variables and runs its own agent (README: Templates and the Terraform contract): rewrite these blocks before applying`);
    }
    const missing = mapped.filter((p) => !declared.has(p.name));
    if (missing.length) {
      files.set(`${dir}/coder-git-parameters.tf`, `# Made by coder-git import: coder-git passes each parameter of template.yaml as a Terraform\n# variable of the same name (in Coder they were data "coder_parameter" blocks).\n\n${missing.map((p) => `variable "${p.name}" {\n  type = ${TF_TYPE[p.type]}\n}\n`).join('\n')}`);
    }
    const owned = new Set(mapped.map((p) => p.name));
    for (const v of variables) {
      if (owned.has(v.name) || v.name.startsWith('coder_')) continue;
      if (v.sensitive) {
        if (!terraform.env.includes(`TF_VAR_${v.name}`)) terraform.env.push(`TF_VAR_${v.name}`);
        notes.push(`template ${name}: variable ${v.name} is sensitive, so Coder does not reveal it: set TF_VAR_${v.name} in the runner's (and CI's) environment (listed in terraform.env)`);
        continue;
      }
      if (!v.required && v.value === v.default_value) continue;
      const value = v.type === 'number' ? Number(v.value) : v.type === 'bool' ? v.value === 'true' : v.value;
      const prev = terraform.variables[v.name];
      if (prev !== undefined && prev !== value) notes.push(`template ${name}: variable ${v.name} is ${JSON.stringify(value)} here but ${JSON.stringify(prev)} in another template; coder-git.yaml terraform.variables holds one value for all templates (kept ${JSON.stringify(prev)})`);
      else terraform.variables[v.name] = value;
    }

    const schedule: Record<string, string> = {};
    if (t.default_ttl_ms && t.default_ttl_ms >= MIN_TTL_MS) schedule.default_ttl = formatDuration(t.default_ttl_ms);
    if (t.max_ttl_ms && t.max_ttl_ms >= MIN_TTL_MS && t.max_ttl_ms >= (t.default_ttl_ms ?? 0)) schedule.max_ttl = formatDuration(t.max_ttl_ms);
    if (t.autostop_requirement?.days_of_week?.length) notes.push(`template ${name}: the autostop requirement (${t.autostop_requirement.days_of_week.join(', ')}) has no coder-git equivalent; max_ttl caps how long a workspace runs`);
    if (t.activity_bump_ms) notes.push(`template ${name}: activity bump (${formatDuration(t.activity_bump_ms)}) not mapped: coder-git stops a workspace at its ttl, counted from its start`);
    if (t.allow_user_autostart === false || t.allow_user_autostop === false) notes.push(`template ${name}: Coder forbids users to change schedules here; in coder-git schedules change only through reviewed commits anyway`);
    files.set(
      `${dir}/template.yaml`,
      doc('template', {
        ...(t.display_name ? { display_name: clip(t.display_name, 64) } : {}),
        ...(t.description ? { description: clip(t.description, 1024) } : {}),
        ...(t.icon ? { icon: clip(t.icon, 256) } : {}),
        parameters: spec,
        ...(Object.keys(schedule).length ? { schedule } : {}),
      }),
    );
  }

  // Workspaces.
  let workspaces = 0;
  for (const { workspace: w, parameters } of s.workspaces) {
    const owner = w.owner_name.toLowerCase();
    const key = `${owner}/${w.name}`;
    const tname = w.template_name.toLowerCase();
    if (w.latest_build.transition === 'delete' || w.deleting_at) {
      notes.push(`workspace ${key}: being deleted in Coder; not imported`);
      continue;
    }
    if (!users.has(owner)) {
      notes.push(`workspace ${key}: its owner was not imported; not imported`);
      continue;
    }
    const tparams = params.get(tname);
    if (!tparams) {
      notes.push(`workspace ${key}: its template ${w.template_name} was not imported; not imported`);
      continue;
    }
    if (!NAME_RE.test(w.name.toLowerCase())) {
      notes.push(`workspace ${key}: not a valid coder-git workspace name; not imported`);
      continue;
    }
    const values: Record<string, string | number | boolean> = {};
    for (const p of tparams) {
      const v = parameters.find((x) => x.name === p.from);
      if (v) values[p.name] = typed(p.type, v.value);
    }
    const schedule: Record<string, string> = {};
    if (w.autostart_schedule) schedule.autostart = w.autostart_schedule;
    if (w.ttl_ms && w.ttl_ms >= MIN_TTL_MS) schedule.ttl = formatDuration(w.ttl_ms);
    if (w.outdated) notes.push(`workspace ${key}: on an older version of ${tname} in Coder; coder-git builds it from the imported (active) version on its next build`);
    if (w.dormant_at) notes.push(`workspace ${key}: dormant in Coder; imported as stopped`);
    if (w.automatic_updates === 'always') notes.push(`workspace ${key}: automatic updates were on; in coder-git every workspace follows its template's current version`);
    if (w.latest_build.status === 'failed') notes.push(`workspace ${key}: its last build in Coder failed`);
    const state = w.latest_build.transition === 'stop' || w.dormant_at ? 'stopped' : 'running';
    files.set(`workspaces/${owner}/${w.name.toLowerCase()}.yaml`, doc('workspace', { template: tname, ...(Object.keys(values).length ? { parameters: values } : {}), state, ...(Object.keys(schedule).length ? { schedule } : {}) }));
    workspaces++;
  }
  return { files, notes, terraform, counts: { users: users.size, templates: params.size, workspaces } };
}
