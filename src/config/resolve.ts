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
  const won = quotaWinners(user.quota, user.groups.map((g) => groups.get(g)?.quota));
  return Object.fromEntries(Object.entries(won).map(([k, w]) => [k, w.value]));
}

/**
 * The quota rule, field by field: the user's own value replaces their groups'; of several groups
 * the largest wins. Says which won (`group`: its index in `groups`; absent: the user's own), so
 * validate can name the line that sets the limit.
 */
export function quotaWinners(own: Quota | undefined, groups: (Quota | undefined)[]): Partial<Record<keyof Quota, { value: number; group?: number }>> {
  const out: Partial<Record<keyof Quota, { value: number; group?: number }>> = {};
  for (const k of QUOTA_FIELDS) {
    const mine = own?.[k];
    if (mine !== undefined) {
      out[k] = { value: mine };
      continue;
    }
    groups.forEach((q, group) => {
      const v = q?.[k];
      if (v !== undefined && (!out[k] || v > out[k].value)) out[k] = { value: v, group };
    });
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
  return roundCost(cost);
}

/** Costs are shown and compared to six places: sums of decimals like 0.1 + 0.2 would otherwise show as 0.30000000000000004. */
export function roundCost(cost: number): number {
  return Math.round(cost * 1e6) / 1e6;
}
