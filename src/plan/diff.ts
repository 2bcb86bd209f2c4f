// The plan: a pure function of the desired state (a validated commit) and the applied state (what
// PostgreSQL remembers). No I/O: tested as it is, and every caller (CLI, CI, runner) gets the same answer.
//
// Builds: a new workspace builds with its desired transition (running → start, stopped → stop); a
// removed one is destroyed (delete). An existing workspace builds when its template version, its
// parameters (template defaults included) or its state change; a schedule change alone does not
// build. While the schedule has started or stopped a workspace, its state is the schedule's until
// a commit changes `state:`. A workspace whose last build failed or was interrupted builds again ("retry"); one with a
// build pending or running gets none (it is said so).

import type { DesiredState, ParameterSpec, Scalar, Template, User } from '../config/types.ts';
import type { UserDefaults } from '../db/repos/users.ts';
import type { AppliedState } from '../db/state.ts';
import { effectiveParameters, templateHash } from './hash.ts';
import { effectiveRoles, workspaceCost } from '../config/resolve.ts';
import type { BuildPlan, Counts, FieldChange, ObjectChange, Plan, PlanError, TemplateChange, WorkspaceChange } from './types.ts';

/** Keys sorted at every level: values read back from jsonb come with PostgreSQL's key order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, x]) => [k, canonical(x)]));
  }
  return v;
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a ?? null)) === JSON.stringify(canonical(b ?? null));

function fields(pairs: [string, unknown, unknown, boolean?][]): FieldChange[] {
  return pairs
    .filter(([, before, after]) => !same(before, after))
    .map(([field, before, after, sensitive]) => (sensitive ? { field, before: before == null ? null : '(sensitive)', after: after == null ? null : '(sensitive)', sensitive: true } : { field, before: before ?? null, after: after ?? null }));
}

function sortedSchedule(s: { autostart?: string; ttl?: string } | undefined) {
  const out: Record<string, string> = {};
  if (s?.autostart) out.autostart = s.autostart;
  if (s?.ttl) out.ttl = s.ttl;
  return out;
}

export function templateVersions(desired: DesiredState): Map<string, string> {
  return new Map([...desired.templates.values()].map((t) => [t.name, templateHash(t)]));
}

export interface DiffOptions {
  /** a failed or interrupted build is retried only once it finished this long ago (the runner's backoff) */
  retryAfterMs?: number;
  now?: Date;
}

const sortedPorts = (ps: { port: number; share: string }[]) => [...ps].sort((x, y) => x.port - y.port).map((p) => ({ port: p.port, share: p.share }));
const portsOrNull = (ps: { port: number; share: string }[]) => (ps.length ? sortedPorts(ps) : null);

export function diff(desired: DesiredState, applied: AppliedState, hashes: Map<string, string> = templateVersions(desired), opts: DiffOptions = {}): Plan {
  const now = (opts.now ?? new Date()).getTime();
  const retryWait = (finished: Date | null | undefined) => (opts.retryAfterMs && finished ? Math.max(0, finished.getTime() + opts.retryAfterMs - now) : 0);
  const errors: PlanError[] = [];

  const dep = desired.deployment;
  const was = applied.deployment;
  const depFields = fields([
    ['access_url', was?.access_url, dep.access_url],
    ['auth', was?.auth, dep.auth],
    ['terraform', was?.terraform, dep.terraform],
    ['notifications', was?.notifications, dep.notifications],
    ['signatures', was?.signatures, dep.signatures],
  ]);
  const deployment: ObjectChange = { key: 'coder-git.yaml', action: !was ? 'create' : depFields.length ? 'update' : 'noop', fields: depFields };

  const users: ObjectChange[] = [];
  for (const u of desired.users.values()) {
    const a = applied.users.get(u.name);
    const f = fields([
      ['email', a?.email, u.email],
      ['full_name', a?.full_name, u.full_name ?? null],
      ['roles', a?.roles, effectiveRoles(u, desired.groups)],
      ['groups', a ? a.groups ?? [] : undefined, u.groups],
      ['login', a?.login_type, u.login],
      ['status', a?.status, u.status],
      ['password_hash', a?.password_hash, u.password_hash ?? null, true],
      ['quota', orNull(a?.quota), orNull(u.quota)],
      ...defaultFields(a?.defaults, userDefaults(u)),
    ]);
    users.push({ key: u.name, action: !a ? 'create' : f.length ? 'update' : 'noop', fields: f });
  }
  for (const a of applied.users.values()) if (!desired.users.has(a.username)) users.push({ key: a.username, action: 'delete', fields: [] });

  const groups: ObjectChange[] = [];
  for (const g of desired.groups.values()) {
    const a = applied.groups.get(g.name);
    const f = fields([
      ['display_name', a?.display_name, g.display_name ?? null],
      ['members', a?.members, [...g.members].sort()],
      ['roles', a?.roles, g.roles],
      ['oidc_group', a?.oidc_group, g.oidc_group ?? null],
      ['quota', orNull(a?.quota), orNull(g.quota)],
    ]);
    groups.push({ key: g.name, action: !a ? 'create' : f.length ? 'update' : 'noop', fields: f });
  }
  for (const a of applied.groups.values()) if (!desired.groups.has(a.name)) groups.push({ key: a.name, action: 'delete', fields: [] });

  const templates: TemplateChange[] = [];
  const newVersion = new Set<string>();
  for (const t of desired.templates.values()) {
    const a = applied.templates.get(t.name);
    const hash = hashes.get(t.name)!;
    const f = fields([
      ['display_name', a?.display_name, t.display_name ?? null],
      ['description', a?.description, t.description ?? null],
      ['icon', a?.icon, t.icon ?? null],
      ['version', a?.active_hash?.slice(0, 12), hash.slice(0, 12)],
    ]);
    if (a?.active_hash !== hash) newVersion.add(t.name);
    templates.push({ key: t.name, action: !a ? 'create' : f.length ? 'update' : 'noop', fields: f, ...(a?.active_hash !== hash ? { version: hash } : {}), workspaces: [] });
  }
  for (const a of applied.templates.values()) if (!desired.templates.has(a.name)) templates.push({ key: a.name, action: 'delete', fields: [], workspaces: [] });

  const templateChanges = new Map(templates.map((t) => [t.key, t]));
  const workspaces: WorkspaceChange[] = [];
  for (const [key, w] of desired.workspaces) {
    const t = desired.templates.get(w.template)!;
    const a = applied.workspaces.get(key);
    const params = effectiveParameters(t, w);
    const schedule = sortedSchedule(w.schedule);
    const cost = workspaceCost(t, params);
    if (!a) {
      workspaces.push({ key, action: 'create', template: w.template, fields: fields([['template', null, w.template], ['state', null, w.state], ...paramFields({}, params), ['schedule', null, Object.keys(schedule).length ? schedule : null], ['ports', null, w.ports.length ? sortedPorts(w.ports) : null], ['cost', null, cost || null]]), build: { transition: w.state === 'running' ? 'start' : 'stop', reason: 'sync', why: ['new workspace'] } });
      continue;
    }
    if (a.template !== w.template) {
      errors.push({ key, file: w.file, message: `template: a workspace cannot move from template "${a.template}" to "${w.template}"; delete it and create a new one` });
      continue;
    }
    for (const m of immutableChanges(t, a.parameters, params)) errors.push({ key, file: w.file, message: m });
    // (shared ports change who may reach the workspace, never what it is: no build)
    const f = fields([['state', a.desired_state, w.state], ...paramFields(a.parameters, params), ['schedule', sortedSchedule(a.schedule), schedule], ['ports', portsOrNull(a.ports ?? []), portsOrNull(w.ports)], ['cost', Number(a.cost ?? 0) || null, cost || null]]);
    // Builds follow what was last *built*, not the recorded desired state: a change recorded while a
    // build was in progress still gets its build once that one finishes.
    const builtHash = a.build_hash ?? a.content_hash;
    const builtParams = a.build_parameters ?? a.parameters;
    const builtState = a.build_transition === 'start' ? 'running' : a.build_transition === 'stop' ? 'stopped' : a.desired_state;
    // The schedule's state stands until git says something new about `state:` (README: Schedules).
    const wanted = w.state === a.desired_state && a.scheduled_state ? a.scheduled_state : w.state;
    const transition = wanted === 'running' ? 'start' : 'stop';
    const why: string[] = [];
    if (builtHash !== hashes.get(w.template)) why.push(`template "${w.template}" has a new version`);
    if (!same(sortKeys(builtParams), sortKeys(params))) why.push('parameters changed');
    if (builtState !== wanted) why.push(wanted === 'running' ? 'started' : 'stopped');
    const last = a.build_status;
    const inProgress = last === 'pending' || last === 'running' ? `build #${a.build_number} is ${last}` : undefined;
    let build: BuildPlan | null = null;
    let waiting: string | undefined;
    if (inProgress) build = null;
    else if (why.length) build = { transition, reason: 'sync', why };
    else if (!last || last === 'failed' || last === 'interrupted' || last === 'canceled') {
      const wait = retryWait(a.build_finished_at);
      if (!wait) build = { transition, reason: 'retry', why: [last ? `the last build ${last}` : 'never built'] };
      // Still work to do: the deployment does not match the commit until the retry succeeds.
      else waiting = `the last build ${last}; retrying in ${Math.ceil(wait / 1000)}s`;
    }
    if (why.length && newVersion.has(w.template)) templateChanges.get(w.template)!.workspaces.push(key);
    workspaces.push({ key, action: f.length || a.content_hash !== hashes.get(w.template) ? 'update' : 'noop', template: w.template, fields: a.content_hash !== hashes.get(w.template) ? [{ field: 'template_version', before: a.content_hash?.slice(0, 12) ?? null, after: hashes.get(w.template)!.slice(0, 12) }, ...f] : f, build, ...(inProgress || waiting ? { inProgress: inProgress ?? waiting } : {}) });
  }
  for (const [key, a] of applied.workspaces) {
    if (desired.workspaces.has(key)) continue;
    // A workspace stays in the applied state until its destroy succeeds: one in progress is left
    // alone, a failed one is destroyed again.
    const destroying = a.build_transition === 'delete';
    if (destroying && (a.build_status === 'pending' || a.build_status === 'running')) {
      workspaces.push({ key, action: 'delete', template: a.template, fields: [], build: null, inProgress: `build #${a.build_number} (delete) is ${a.build_status}` });
    } else if (destroying && a.build_status !== 'succeeded' && retryWait(a.build_finished_at)) {
      workspaces.push({ key, action: 'delete', template: a.template, fields: [], build: null, inProgress: `retrying the failed destroy in ${Math.ceil(retryWait(a.build_finished_at) / 1000)}s` });
    } else {
      const retry = destroying && a.build_status !== 'succeeded';
      workspaces.push({ key, action: 'delete', template: a.template, fields: [], build: { transition: 'delete', reason: retry ? 'retry' : 'sync', why: [retry ? `the last destroy ${a.build_status}` : 'removed from git'] } });
    }
  }

  const sortByKey = <T extends { key: string }>(xs: T[]) => xs.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return {
    deployment,
    users: sortByKey(users),
    groups: sortByKey(groups),
    templates: sortByKey(templates),
    workspaces: sortByKey(workspaces),
    errors,
    summary: {
      users: count(users),
      groups: count(groups),
      templates: count(templates),
      workspaces: count(workspaces),
      builds: {
        start: workspaces.filter((w) => w.build?.transition === 'start').length,
        stop: workspaces.filter((w) => w.build?.transition === 'stop').length,
        delete: workspaces.filter((w) => w.build?.transition === 'delete').length,
      },
    },
  };
}

const orNull = (o: object | undefined | null) => (o && Object.keys(o).length ? o : o === undefined ? undefined : null);

/** A user file's settings for workspaces, as stored in users.defaults. */
export function userDefaults(u: User): UserDefaults {
  const d: UserDefaults = {};
  if (u.github) d.github = u.github;
  if (u.schedule && Object.keys(u.schedule).length) d.schedule = u.schedule;
  if (u.shell) d.shell = u.shell;
  if (u.dotfiles) d.dotfiles = u.dotfiles;
  return d;
}

function defaultFields(before: UserDefaults | undefined, after: UserDefaults): [string, unknown, unknown][] {
  return (['github', 'schedule', 'shell', 'dotfiles'] as const).map((k) => [k, before?.[k] ?? null, after[k] ?? null]);
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

function paramFields(before: Record<string, Scalar>, after: Record<string, Scalar>): [string, unknown, unknown][] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names.map((n) => [`parameters.${n}`, before[n] ?? null, after[n] ?? null]);
}

function immutableChanges(t: Template, before: Record<string, Scalar>, after: Record<string, Scalar>): string[] {
  const out: string[] = [];
  for (const [name, spec] of Object.entries(t.parameters) as [string, ParameterSpec][]) {
    if (spec.mutable === false && name in before && !same(before[name], after[name])) {
      out.push(`parameters.${name}: cannot change from ${JSON.stringify(before[name])} to ${JSON.stringify(after[name] ?? null)}: template "${t.name}" declares it mutable: false (fixed when the workspace was created); delete the workspace and create a new one to change it`);
    }
  }
  return out;
}

function count(xs: ObjectChange[]): Counts {
  return { create: xs.filter((x) => x.action === 'create').length, update: xs.filter((x) => x.action === 'update').length, delete: xs.filter((x) => x.action === 'delete').length };
}

export function hasChanges(p: Plan): boolean {
  return [p.deployment, ...p.users, ...p.groups, ...p.templates, ...p.workspaces].some((x) => x.action !== 'noop') || p.workspaces.some((w) => w.build !== null);
}
