// The build_jobs table: the build queue. Claimed with FOR UPDATE SKIP LOCKED together with a lease on
// the workspace row, so several workers (on several machines) share builds and never build one
// workspace at once.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export interface ClaimedJob {
  id: string;
  build_id: string;
  workspace_id: string;
  attempts: number;
  lease_until: Date;
}

export const jobs = {
  claim: (q: Q, runnerId: string, leaseSeconds: number) => q.oneOrNone<ClaimedJob>(sql('build_jobs/claim'), { runner_id: runnerId, lease_seconds: leaseSeconds }),
  /** false: the lease was lost; the worker must stop touching the workspace. */
  extend: async (q: Q, id: string, runnerId: string, leaseSeconds: number) =>
    (await q.oneOrNone(sql('build_jobs/extend'), { id, runner_id: runnerId, lease_seconds: leaseSeconds })) !== null,
  /** false: another runner holds it now. */
  finish: async (q: Q, id: string, runnerId: string) => (await q.oneOrNone(sql('build_jobs/finish'), { id, runner_id: runnerId })) !== null,
  depth: (q: Q) => q.one<{ waiting: number; leased: number }>(sql('build_jobs/depth')),
  /** Running builds whose runner died (lease run out): marked interrupted, their jobs removed. */
  reapExpired: async (q: Q) => (await q.any<{ id: string }>(sql('build_jobs/reap'))).map((r) => r.id),
};
