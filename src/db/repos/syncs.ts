// The syncs table: one row per commit seen.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export type SyncStatus = 'invalid' | 'untrusted' | 'applying' | 'applied' | 'failed' | 'superseded';

export interface SyncInput {
  commit_sha: string;
  ref: string | null;
  author: string | null;
  message: string | null;
  status: SyncStatus;
  errors: unknown[];
  plan_summary: unknown;
}

export interface SyncRow extends SyncInput {
  id: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export const syncs = {
  insert: async (q: Q, s: SyncInput) => (await q.one<{ id: string }>(sql('syncs/insert'), s)).id,
  setStatus: (q: Q, id: string, status: SyncStatus, extra: { errors?: unknown[]; plan_summary?: unknown; plan?: unknown } = {}) =>
    q.none(sql('syncs/set-status'), { id, status, errors: extra.errors ?? null, plan_summary: extra.plan_summary ?? null, plan: extra.plan ?? null }),
  /** One sync, with the whole plan it applied (null before this was kept, and for invalid commits). */
  get: (q: Q, id: string) => q.oneOrNone<SyncRow & { plan: unknown }>(sql('syncs/get'), { id }),
  recent: (q: Q, limit = 20) => q.any<SyncRow>(sql('syncs/recent'), { limit }),
  lastApplied: (q: Q) => q.oneOrNone<SyncRow>(sql('syncs/last-applied')),
  /** The newest sync applied or still applying: what the deployment is at, or is becoming. */
  lastWritten: (q: Q) => q.oneOrNone<SyncRow>(sql('syncs/last-written')),
  byCommit: (q: Q, commitSha: string) => q.oneOrNone<SyncRow>(sql('syncs/by-commit'), { commit_sha: commitSha }),
  /** Syncs of other commits still applying: overtaken by commitSha, the new tip. */
  supersede: (q: Q, commitSha: string) => q.none(sql('syncs/supersede'), { commit_sha: commitSha }),
  /** Syncs whose builds have all finished, not all successfully, become failed. */
  settle: (q: Q) => q.any<{ id: string; status: SyncStatus; commit_sha: string; ref: string | null; author: string | null; message: string | null }>(sql('syncs/settle')),
};
