// The users table.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { Quota, Role, User } from '../../config/types.ts';

/** A user file's settings that only the agent and the quota check read (README: Per-user defaults). */
export interface UserDefaults {
  github?: string;
  schedule?: User['schedule'];
  shell?: string;
  dotfiles?: User['dotfiles'];
}

export interface UserRow {
  id: string;
  username: string;
  email: string;
  full_name: string | null;
  roles: Role[];
  login_type: 'password' | 'oidc' | 'github' | 'none';
  status: 'active' | 'suspended';
  password_hash: string | null;
  /** declared groups */
  groups: string[];
  /** the user's own limits, as written */
  quota: Quota;
  defaults: UserDefaults;
}

/** (groups, quota and defaults default to none) */
export type UserInput = Omit<UserRow, 'id' | 'groups' | 'quota' | 'defaults'> & Partial<Pick<UserRow, 'groups' | 'quota' | 'defaults'>>;

export type LoginRow = Pick<UserRow, 'id' | 'username' | 'email' | 'roles' | 'login_type' | 'status' | 'password_hash'>;

export const users = {
  /** The user signing in as `name` (a username or an email address). */
  forLogin: (q: Q, name: string) => q.oneOrNone<LoginRow>(sql('users/for-login'), { username: name, email: name }),
  /** The user a GitHub identity signs in as (by their declared github login, else a verified email). */
  forGithub: (q: Q, login: string, emails: string[]) => q.oneOrNone<LoginRow & { by_login: boolean }>(sql('users/for-github'), { login, emails }),
  /** Tell the servers that who may sign in changed (inside the applying transaction). */
  changed: (q: Q) => q.one(sql('users/changed')),
  list: (q: Q) => q.any<Omit<UserRow, 'password_hash' | 'quota' | 'defaults'> & { idp_groups: string[] }>(sql('users/list')),
  /** Records the groups claim of an OIDC sign-in; true when it differs from the last one. */
  setIdpGroups: async (q: Q, id: string, groups: string[]) => (await q.one<{ changed: boolean }>(sql('users/set-idp-groups'), { id, groups })).changed,
  load: (q: Q) => q.any<UserRow>(sql('users/load')),
  upsert: (q: Q, rows: UserInput[]) => (rows.length ? q.none(sql('users/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, usernames: string[]) => (usernames.length ? q.none(sql('users/delete'), { usernames }) : Promise.resolve()),
};
