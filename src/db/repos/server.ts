// Questions about the PostgreSQL server itself (health checks, `coder-git db status`).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export const server = {
  ping: (q: Q) => q.one(sql('server/ping')),
  version: async (q: Q) => (await q.one<{ server_version: string }>(sql('server/version'))).server_version,
};
