// The groups table (groups/<name>.yaml as applied).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { Quota, Role } from '../../config/types.ts';

export interface GroupRow {
  name: string;
  display_name: string | null;
  members: string[];
  roles: Role[];
  oidc_group: string | null;
  quota: Quota;
}

export const groups = {
  load: (q: Q) => q.any<GroupRow>(sql('groups/load')),
  upsert: (q: Q, rows: GroupRow[]) => (rows.length ? q.none(sql('groups/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, names: string[]) => (names.length ? q.none(sql('groups/delete'), { names }) : Promise.resolve()),
};
