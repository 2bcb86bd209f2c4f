// Advisory locks, the coordination every coder-git process shares through PostgreSQL. The keys are
// fixed numbers, so processes of one version and the next agree.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

/** "codg": held by each transaction that changes what is applied (apply, the runner, schedules) */
export const APPLY_LOCK = 0x636f6467;
/** "codr": held by the one runner that reconciles, on a connection of its own */
export const RECONCILE_LOCK = 0x636f6472;

export const locks = {
  /** Waits for the apply lock; released when the transaction ends. */
  apply: (t: Q) => t.one(sql('locks/apply'), { key: APPLY_LOCK }),
  trySession: async (q: Q, key: number) => (await q.one<{ ok: boolean }>(sql('locks/try-session'), { key })).ok,
  unlockSession: (q: Q, key: number) => q.none(sql('locks/unlock-session'), { key }),
};
