// Validation, stage two, for who people are and what they may spend (README: Groups, Quotas,
// Per-user defaults): groups name existing users, a template's cost names its parameters, a user's
// schedule defaults parse, and no user's workspaces exceed their quota.

import type { At, FileSet, Loaded } from './fileset.ts';
import type { Group, Quota, Template, User } from './types.ts';
import { didYouMean } from './messages.ts';
import { parseCron } from '../time/cron.ts';
import { isDuration, parseDuration } from '../time/duration.ts';
import { quotaWinners, roundCost, workspaceCost } from './resolve.ts';
import { plural } from '../plural.ts';

export function checkGroups(set: FileSet, at: At): void {
  const oidc = set.deployment && !set.deployment.broken ? set.deployment.value.auth.oidc : undefined;
  for (const g of set.groups.values()) {
    if (g.broken) continue;
    const { value: group, parsed } = g;
    group.members.forEach((m, i) => {
      if (set.users.has(m)) return;
      at(group.file, parsed, ['members', i], `members[${i}]: "${m}" has no users/${m}.yaml${didYouMean(m, [...set.users.keys()])}; add the user or remove the member`, 'reference');
    });
    if (group.oidc_group !== undefined && set.deployment && !set.deployment.broken && !oidc?.groups_claim) {
      at(group.file, parsed, ['oidc_group'], `oidc_group: "${group.oidc_group}", but coder-git.yaml sets no auth.oidc.groups_claim, so no sign-in brings members; set auth.oidc.groups_claim (often "groups")`, 'reference', false, 'warning');
    }
  }
}

export function checkUserDefaults(u: Loaded<User>, at: At): void {
  const { value: user, parsed } = u;
  const s = user.schedule;
  if (s?.autostart !== undefined && s.autostart !== 'off') {
    const c = parseCron(s.autostart);
    if (!c.ok) at(user.file, parsed, ['schedule', 'autostart'], `schedule.autostart: ${c.message}`, 'schedule');
  }
  if (isDuration(s?.ttl) && parseDuration(s.ttl) < 60_000) at(user.file, parsed, ['schedule', 'ttl'], `schedule.ttl: ${s.ttl} is too short; at least 1m`, 'schedule');
}

/** cost.parameters names declared parameters; a rate applies to a number, a price list to values it can take. */
export function checkTemplateCost(loaded: Loaded<Template>, at: At): void {
  const { value: t, parsed } = loaded;
  for (const [name, rate] of Object.entries(t.cost.parameters)) {
    const spec = t.parameters[name];
    const path = ['cost', 'parameters', name];
    if (!spec) {
      const declared = Object.keys(t.parameters);
      at(t.file, parsed, path, `cost.parameters.${name}: no parameter "${name}"${didYouMean(name, declared)}; it declares: ${declared.join(', ') || 'none'}`, 'reference', true);
    } else if (typeof rate === 'number' && spec.type !== 'number' && spec.type !== 'integer') {
      at(t.file, parsed, path, `cost.parameters.${name}: a rate per unit needs a number parameter, and "${name}" is ${spec.type}; give a price per value instead, like ${name}: {${String(spec.enum?.[0] ?? 'value')}: 1}`, 'reference');
    } else if (typeof rate === 'object' && spec.enum) {
      const values = spec.enum.map(String);
      for (const v of Object.keys(rate)) {
        if (!values.includes(v)) at(t.file, parsed, [...path, v], `cost.parameters.${name}.${v}: "${v}" is not a value of parameter ${name}${didYouMean(v, values)}; values: ${values.join(', ')}`, 'reference', true);
      }
    }
  }
}

interface Limit {
  value: number;
  /** where it is written, as file:line */
  from: string;
}

/** Each limit of a user and the file line that sets it: their own quota, else the most generous group. */
function limits(u: Loaded<User>, groups: Map<string, Loaded<Group>>): Partial<Record<keyof Quota, Limit>> {
  const where = (l: Loaded<{ file: string }>, k: string) => `${l.value.file}:${l.parsed.locate(['quota', k]).line}`;
  const mine = [...groups.values()].filter((g) => !g.broken && g.value.members.includes(u.value.name));
  const won = quotaWinners(u.value.quota, mine.map((g) => g.value.quota));
  return Object.fromEntries(Object.entries(won).map(([k, w]) => [k, { value: w.value, from: where(w.group === undefined ? u : mine[w.group]!, k) }]));
}

/**
 * Every user's workspaces against their quota: how many they own, how many are declared running
 * and what those cost. Each workspace that counts toward an exceeded limit says so, so the file a
 * pull request adds carries the error.
 */
export function checkQuotas(set: FileSet, at: At): void {
  const byOwner = new Map<string, Loaded<import('./types.ts').Workspace>[]>();
  for (const w of set.workspaces.values()) {
    if (w.broken) continue;
    const list = byOwner.get(w.value.owner) ?? [];
    list.push(w);
    byOwner.set(w.value.owner, list);
  }
  for (const [owner, list] of byOwner) {
    const u = set.users.get(owner);
    if (!u || u.broken) continue;
    const l = limits(u, set.groups);
    if (!l.workspaces && !l.running && !l.budget) continue;
    list.sort((a, b) => (a.value.name < b.value.name ? -1 : 1));
    const names = (ws: typeof list) => ws.map((w) => w.value.name).join(', ');
    const blame = (ws: typeof list, message: string, field?: string) => {
      for (const w of ws) at(w.value.file, w.parsed, field && field in (w.parsed.value as object) ? [field] : [], message, 'quota');
    };
    if (l.workspaces && list.length > l.workspaces.value) {
      blame(list, `${owner} would own ${plural(list.length, 'workspace')} (${names(list)}); quota.workspaces (${l.workspaces.from}) allows ${l.workspaces.value}: remove one or raise the quota`);
    }
    const running = list.filter((w) => w.value.state === 'running');
    if (l.running && running.length > l.running.value) {
      blame(running, `${owner} would run ${plural(running.length, 'workspace')} (${names(running)}); quota.running (${l.running.from}) allows ${l.running.value}: set state: stopped on one or raise the quota`, 'state');
    }
    if (l.budget) {
      const costOf = (w: (typeof list)[number]) => {
        const t = set.templates.get(w.value.template);
        return t && !t.broken && typeof w.value.parameters === 'object' ? workspaceCost(t.value, w.value.parameters) : 0;
      };
      const total = roundCost(running.reduce((n, w) => n + costOf(w), 0));
      if (total > l.budget.value) {
        const each = running.map((w) => `${w.value.name} ${costOf(w)}`).join(', ');
        blame(running.filter((w) => costOf(w) > 0), `${owner}'s running workspaces would cost ${total} (${each}); quota.budget (${l.budget.from}) allows ${l.budget.value}: stop one, choose smaller parameters or raise the quota`, 'parameters');
      }
    }
  }
}
