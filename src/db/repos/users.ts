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

export const users = {
  load: (q: Q) => q.any<UserRow>(sql('users/load')),
  upsert: (q: Q, rows: UserInput[]) => (rows.length ? q.none(sql('users/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, usernames: string[]) => (usernames.length ? q.none(sql('users/delete'), { usernames }) : Promise.resolve()),
};
