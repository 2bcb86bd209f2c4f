// The login_attempts table: what the sign-in limit counts (migration 0008).
import type { Db } from '../connect.ts';
import { sql } from '../sql.ts';

export interface Limits {
  windowS: number;
  maxAccount: number;
  maxIp: number;
}

export const loginAttempts = {
  /**
   * Records an attempt unless the account or the address is at its limit: the check and the insert
   * under both keys' advisory locks, so N parallel guesses give at most the limit's worth of checks.
   * Returns the attempt's id, or null when refused.
   */
  record: (db: Db, accountKey: string, ip: string, l: Limits) =>
    db.tx(async (t) => {
      // Always in the same order, so two attempts never wait on each other's second lock.
      for (const key of [`account ${accountKey}`, `ip ${ip}`].sort()) await t.one(sql('login_attempts/lock'), { key });
      const row = await t.oneOrNone<{ id: string }>(sql('login_attempts/record'), { account_key: accountKey, ip, window_s: l.windowS, max_account: l.maxAccount, max_ip: l.maxIp });
      if (row && Number(row.id) % 100 === 0) await t.none(sql('login_attempts/prune'));
      return row?.id ?? null;
    }),
  succeeded: (db: Db, id: string) => db.none(sql('login_attempts/succeeded'), { id }),
};
