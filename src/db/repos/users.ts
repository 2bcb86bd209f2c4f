// The users table.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { Role } from '../../config/types.ts';

export interface UserRow {
  id: string;
  username: string;
  email: string;
  full_name: string | null;
  roles: Role[];
  login_type: 'password' | 'oidc' | 'none';
  status: 'active' | 'suspended';
  password_hash: string | null;
}

export type UserInput = Omit<UserRow, 'id'>;

export type LoginRow = Pick<UserRow, 'id' | 'username' | 'email' | 'roles' | 'login_type' | 'status' | 'password_hash'>;

export const users = {
  /** The user signing in as `name` (a username or an email address). */
  forLogin: (q: Q, name: string) => q.oneOrNone<LoginRow>(sql('users/for-login'), { username: name, email: name }),
  /** Tell the servers that who may sign in changed (inside the applying transaction). */
  changed: (q: Q) => q.one(sql('users/changed')),
  list: (q: Q) => q.any<Omit<UserRow, 'password_hash'>>(sql('users/list')),
  load: (q: Q) => q.any<UserRow>(sql('users/load')),
  upsert: (q: Q, rows: UserInput[]) => (rows.length ? q.none(sql('users/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, usernames: string[]) => (usernames.length ? q.none(sql('users/delete'), { usernames }) : Promise.resolve()),
};
