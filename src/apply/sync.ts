// One sync path. Every way a commit gets applied — the runner's reconcile, `coder-git apply` in CI
// or by hand, a saved plan — goes through syncCommit: load the commit (cached by SHA), guard
// (never backwards), plan, write under the apply lock, and record the sync's status, one row per
// commit. Running the builds it queued is the worker pool's (runner/workers.ts); telling people
// (console, log, notifications) is the caller's, from the outcome.
import path from 'node:path';
import type { Db } from '../db/connect.ts';
import { jobs } from '../db/repos/jobs.ts';
import { syncs, type SyncRow } from '../db/repos/syncs.ts';
import type { Deployment } from '../config/types.ts';
import type { Diagnostic } from '../config/diagnostics.ts';
import { CoderGitError } from '../errors.ts';
import { hasChanges } from '../plan/diff.ts';
import type { Plan } from '../plan/types.ts';
import { assertFresh, makePlan, writeChanges } from './apply.ts';
import { loadCommit, newerApplied, type LoadedCommit } from './session.ts';
import { untrusted } from './signatures.ts';
import { deployment as deploymentRepo } from '../db/repos/deployment.ts';

export interface SyncOptions {
  db: Db;
  /** the config repo */
  dir: string;
  /** the commit to sync (a full SHA) */
  sha: string;
  ref: string | null;
  /** the runner's fencing epoch: refused if another runner has reconciled since */
  epoch?: number;
  allowDestroy: boolean;
  maxDestroy: number;
  /** refuse a commit that the newest applied (or applying) one already contains */
  neverBackwards?: boolean;
  /** a failed build is retried only this long after it finished (the runner's backoff) */
  retryAfterMs?: number;
  /** a saved plan's fingerprint: refused as stale if the applied state moved since */
  expectFingerprint?: string;
  /** sees the plan before anything is written (apply prints it and asks); false: nothing is written */
  review?: (plan: Plan) => Promise<boolean>;
}

/** What a sync did. `newly`: this call recorded it (so the caller reports it once, not every tick). */
export type SyncOutcome =
  | { kind: 'invalid'; syncId: string; errors: unknown[]; loaded: LoadedCommit; plan?: Plan; newly: boolean }
  | { kind: 'older'; newer: string; loaded: LoadedCommit }
  | { kind: 'busy'; plan: Plan; builds: number; loaded: LoadedCommit; deployment: Deployment }
  | { kind: 'unchanged'; plan: Plan; syncId: string | undefined; loaded: LoadedCommit; deployment: Deployment }
  | { kind: 'cancelled'; plan: Plan; loaded: LoadedCommit; deployment: Deployment }
  | { kind: 'refused'; error: CoderGitError; plan: Plan; syncId: string; newly: boolean; loaded: LoadedCommit; deployment: Deployment }
  | { kind: 'queued'; plan: Plan; syncId: string; buildIds: string[]; loaded: LoadedCommit; deployment: Deployment };

// A commit never changes, so what it validates to is kept: the runner asks for the same commit on
// every tick and every finished build. A few entries (the tip, and a commit being reviewed).
const cache = new Map<string, Promise<LoadedCommit>>();
const CACHE_SIZE = 4;

/** The commit `sha` of the repo in `dir`, loaded and validated once per process. */
export function loadCommitCached(dir: string, sha: string): Promise<LoadedCommit> {
  const key = `${path.resolve(dir)}\0${sha}`;
  let hit = cache.get(key);
  if (hit) {
    cache.delete(key); // most recently used goes last
    cache.set(key, hit);
    return hit;
  }
  hit = loadCommit(dir, sha);
  hit.catch(() => cache.delete(key)); // a failed read (git busy, disk) is tried again next time
  cache.set(key, hit);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return hit;
}

export async function syncCommit(o: SyncOptions): Promise<SyncOutcome> {
  const { db, sha } = o;
  const loaded = await loadCommitCached(o.dir, sha);
  const info = loaded.source.commit;
  // A commit's sync is reused while it is the newest one; a commit that comes back as the tip after
  // others (a force-push or a reset to it) is a new deployment and gets a new sync, so the newest
  // applied sync is always what is deployed.
  const prior = await syncs.byCommit(db, sha);
  const seen = prior && (await syncs.recent(db, 1))[0]?.id === prior.id ? prior : null;
  const record = (status: 'invalid' | 'untrusted' | 'applied' | 'failed', errors: unknown[], planSummary: unknown) =>
    syncs.insert(db, { commit_sha: sha, ref: o.ref, author: info?.author ?? null, message: info?.subject ?? null, status, errors, plan_summary: planSummary });

  if (!loaded.desired) {
    const errors = loaded.result.diagnostics.filter((d: Diagnostic) => d.severity === 'error');
    return { kind: 'invalid', syncId: seen?.id ?? (await record('invalid', errors, null)), errors, loaded, newly: !seen };
  }
  const desired = loaded.desired;
  const deployment = desired.deployment;

  const lastWritten = (await syncs.lastWritten(db))?.commit_sha;
  // Whether signatures are required, and whom to trust, is what was last applied says (a commit
  // cannot switch the check off for itself); a commit that turns it on is checked by its own rule.
  // A commit whose sync got past this check is not checked again on each of the runner's ticks; an
  // untrusted one is (the runner's allowed signers may have changed).
  if (!seen || seen.status === 'untrusted') {
    const applied = await deploymentRepo.load(db);
    const rule = applied?.signatures?.required ? applied : deployment;
    const distrust = await untrusted(o.dir, sha, rule, lastWritten);
    if (distrust) {
      const errors = [{ message: `commit ${sha.slice(0, 12)} is not trusted: ${distrust}; nothing of it is applied` }];
      return { kind: 'invalid', syncId: seen?.id ?? (await record('untrusted', errors, null)), errors, loaded, newly: !seen };
    }
  }

  if (o.neverBackwards) {
    const newer = await newerApplied(o.dir, sha, lastWritten);
    if (newer) return { kind: 'older', newer, loaded };
  }

  // Builds whose runner died are interrupted first, so this plan retries them instead of waiting.
  await jobs.reapExpired(db);
  const { plan, fingerprint } = await makePlan(db, desired, undefined, { retryAfterMs: o.retryAfterMs });
  // (checked again under the lock when writing; this catches a saved plan that would now change nothing)
  assertFresh(o.expectFingerprint, fingerprint);
  if (plan.errors.length) {
    return { kind: 'invalid', syncId: seen?.id ?? (await record('invalid', plan.errors, null)), errors: plan.errors, loaded, plan, newly: !seen };
  }
  const busy = plan.workspaces.filter((w) => w.inProgress).length;
  if (!hasChanges(plan)) {
    // Applied means the deployment matches the commit: nothing left to do and nothing in progress.
    if (busy) return { kind: 'busy', plan, builds: busy, loaded, deployment };
    if (o.review) await o.review(plan);
    return { kind: 'unchanged', plan, syncId: await markApplied(db, seen, record, plan), loaded, deployment };
  }
  if (seen?.status === 'invalid') return { kind: 'invalid', syncId: seen.id, errors: seen.errors, loaded, plan, newly: false };
  if (o.review && !(await o.review(plan))) return { kind: 'cancelled', plan, loaded, deployment };
  try {
    const w = await writeChanges(db, desired, {
      commit: info!,
      ref: o.ref,
      epoch: o.epoch,
      syncId: seen?.id,
      // what was reviewed is what is written: refused if the applied state moved meanwhile
      expectFingerprint: o.expectFingerprint ?? (o.review ? fingerprint : undefined),
      allowDestroy: o.allowDestroy,
      maxDestroy: o.maxDestroy,
      retryAfterMs: o.retryAfterMs,
    });
    return { kind: 'queued', plan: w.plan, syncId: w.syncId, buildIds: w.buildIds, loaded, deployment };
  } catch (err) {
    // A stale saved plan says nothing about the commit: nothing is recorded, the caller says so.
    if (!(err instanceof CoderGitError) || (err.code !== 'CG_DESTROY_GUARD' && err.code !== 'CG_PLAN_INVALID')) throw err;
    // Refused: recorded once, nothing applied (until a new commit, or a flag that allows it).
    const errors = [{ message: err.message, hint: err.hint }];
    const newly = seen?.status !== 'failed';
    let syncId = seen?.id;
    if (!syncId) syncId = await record('failed', errors, plan.summary);
    else if (newly) await syncs.setStatus(db, syncId, 'failed', { errors });
    return { kind: 'refused', error: err, plan, syncId, newly, loaded, deployment };
  }
}

async function markApplied(db: Db, seen: SyncRow | null, record: (s: 'applied', e: unknown[], p: unknown) => Promise<string>, plan: Plan): Promise<string> {
  if (!seen) return record('applied', [], plan.summary);
  if (seen.status !== 'applied') await syncs.setStatus(db, seen.id, 'applied', { errors: [] });
  return seen.id;
}
