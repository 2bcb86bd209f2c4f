// Who may change what in a pull request (README: Self-service by pull request). Pure: the changed
// paths, who wrote the change and who approved it, judged by the roles of the *base* commit's users
// and groups (a pull request cannot grant itself the right it needs).

import type { DesiredState, Role, User } from '../config/types.ts';
import { effectiveRoles } from '../config/resolve.ts';

export interface Finding {
  file: string;
  /** the roles that may change it (besides a workspace's own owner) */
  needs: Role[];
  ok: boolean;
  /** who allowed it: the author, or an approver */
  by?: string;
  message: string;
}

/** The roles that may change path; for a workspace file, its owner may too. */
export function needed(path: string): { roles: Role[]; owner?: string; what: string } {
  const parts = path.split('/');
  if (parts[0] === 'workspaces' && parts.length >= 3) return { roles: ['owner'], owner: parts[1], what: `${parts[1]}'s workspaces` };
  if (parts[0] === 'templates') return { roles: ['template-admin', 'owner'], what: 'templates' };
  if (parts[0] === 'users' || parts[0] === 'groups') return { roles: ['user-admin', 'owner'], what: parts[0] };
  return { roles: ['owner'], what: path === 'coder-git.yaml' ? 'the deployment settings' : 'files outside the config folders' };
}

/** The declared user a forge identity names: a username, a GitHub login or an email address. */
export function findUser(state: Pick<DesiredState, 'users'>, who: string): User | undefined {
  const w = who.trim().toLowerCase().replace(/^@/, '');
  for (const u of state.users.values()) if (u.name === w || u.github?.toLowerCase() === w || u.email.toLowerCase() === w) return u;
  return undefined;
}

export function checkChanges(base: Pick<DesiredState, 'users' | 'groups'>, changed: string[], author: string, approvers: string[]): Finding[] {
  const me = findUser(base, author);
  const active = (u: User | undefined): u is User => !!u && u.status === 'active';
  const rolesOf = (u: User) => effectiveRoles(u, base.groups);
  const approving = approvers.map((a) => findUser(base, a)).filter((u): u is User => active(u) && u.name !== me?.name);
  return [...new Set(changed)].sort().map((file) => {
    const n = needed(file);
    const may = (u: User) => (n.owner !== undefined && u.name === n.owner) || rolesOf(u).some((r) => n.roles.includes(r));
    const who = n.owner !== undefined ? `${n.owner} or ${list(n.roles)}` : list(n.roles);
    if (active(me) && may(me)) return { file, needs: n.roles, ok: true, by: me.name, message: `${me.name} may change ${n.what}` };
    const approver = approving.find(may);
    if (approver) return { file, needs: n.roles, ok: true, by: approver.name, message: `approved by ${approver.name}` };
    const author_ = me ? `${me.name}${active(me) ? ` (${rolesOf(me).join(', ')})` : ' (suspended)'}` : `${author} (no declared user has this username, GitHub login or email in the base commit)`;
    return { file, needs: n.roles, ok: false, message: `${n.what} may be changed by ${who}; ${author_} may not, and no approval by one of them was given${approvers.length ? ` (approved by: ${approvers.join(', ')})` : ''}` };
  });
}

const list = (roles: Role[]) => roles.map((r) => `an ${r === 'owner' ? 'owner' : r}`).join(' or ').replace(/an (template|user)/g, 'a $1');
