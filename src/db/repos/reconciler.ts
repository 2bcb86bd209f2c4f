// The reconciler table: the fencing token of the one runner that reconciles.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export const reconciler = {
  take: async (q: Q, holder: string) => Number((await q.one<{ epoch: string }>(sql('reconciler/take'), { holder })).epoch),
  /** True while epoch is still the current one (locks the row for the rest of the transaction). */
  check: async (q: Q, epoch: number) => (await q.one<{ ok: boolean }>(sql('reconciler/check'), { epoch })).ok,
};
