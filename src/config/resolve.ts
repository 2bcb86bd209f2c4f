// What a user's and a workspace's settings come to once groups and user defaults are taken in
// (README: Groups, Quotas, Per-user defaults). Pure functions of the desired state: the plan, apply,
// validate and the runner's quota check all use these, so they cannot disagree.

import type { DesiredState, Group, Quota, Role, Scalar, Template, User, Workspace } from './types.ts';

const ROLE_ORDER: Role[] = ['owner', 'template-admin', 'user-admin', 'auditor', 'member'];

/** Fills in each user's groups and merges the owner's schedule defaults into each workspace. */
export function resolveUsers(state: DesiredState): void {
  for (const g of [...state.groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    for (const m of g.members) state.users.get(m)?.groups.push(g.name);
  }
  for (const w of state.workspaces.values()) w.schedule = inheritedSchedule(w.schedule, state.users.get(w.owner));
}

/** A workspace's schedule: its own fields, else its owner's defaults; autostart "off" means none. */
export function inheritedSchedule(own: Workspace['schedule'] | undefined, owner: Pick<User, 'schedule'> | undefined): Workspace['schedule'] {
  const out: Workspace['schedule'] = {};
  const autostart = own?.autostart ?? owner?.schedule?.autostart;
  if (autostart && autostart !== 'off') out.autostart = autostart;
  const ttl = own?.ttl ?? owner?.schedule?.ttl;
  if (ttl) out.ttl = ttl;
  return out;
}

/** The user's roles and those their declared groups give, in a fixed order. */
export function effectiveRoles(user: Pick<User, 'roles' | 'groups'>, groups: Map<string, Pick<Group, 'roles'>>): Role[] {
  const all = new Set<Role>(user.roles);
  for (const g of user.groups) for (const r of groups.get(g)?.roles ?? []) all.add(r);
  return ROLE_ORDER.filter((r) => all.has(r));
}

export const QUOTA_FIELDS = ['workspaces', 'running', 'budget'] as const;

/** Each limit: the user's own, else the largest any of their groups gives, else none. */
export function effectiveQuota(user: Pick<User, 'quota' | 'groups'>, groups: Map<string, Pick<Group, 'quota'>>): Quota {
  const out: Quota = {};
  for (const k of QUOTA_FIELDS) {
    const own = user.quota?.[k];
    if (own !== undefined) {
      out[k] = own;
      continue;
    }
    const given = user.groups.map((g) => groups.get(g)?.quota?.[k]).filter((v): v is number => v !== undefined);
    if (given.length) out[k] = Math.max(...given);
  }
  return out;
}

/** What one running workspace of template t costs with these parameter values (defaults included). */
export function workspaceCost(t: Pick<Template, 'cost' | 'parameters'>, params: Record<string, Scalar>): number {
  let cost = t.cost?.base ?? 0;
  for (const [name, rate] of Object.entries(t.cost?.parameters ?? {})) {
    const v = params[name] ?? t.parameters[name]?.default;
    if (v === undefined) continue;
    if (typeof rate === 'number') cost += typeof v === 'number' ? v * rate : 0;
    else cost += rate[String(v)] ?? 0;
  }
  // (sums of decimals like 0.1 + 0.2 would otherwise show as 0.30000000000000004)
  return Math.round(cost * 1e6) / 1e6;
}
