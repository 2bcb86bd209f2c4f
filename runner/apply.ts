// `coder-git apply`: one commit through the one sync path (src/apply/sync.ts), then its builds on
// the same worker pool the runner uses (workers.ts), reported as they finish (progress.ts). A
// one-shot runner: what it prints is the caller's (the CLI passes where text and JSON go).
import type { Db } from '../src/db/connect.ts';
import { builds } from '../src/db/repos/builds.ts';
import { jobs } from '../src/db/repos/jobs.ts';
import type { Deployment } from '../src/config/types.ts';
import { formatValidation, type Colors } from '../src/config/format.ts';
import { GitRepo } from '../src/git/git.ts';
import type { Plan } from '../src/plan/types.ts';
import { renderPlan, summaryLine } from '../src/plan/render.ts';
import { hasChanges } from '../src/plan/diff.ts';
import { finishSync } from '../src/apply/apply.ts';
import { checkRefUnmoved, driverFor, readPlan } from '../src/apply/session.ts';
import { loadCommitCached, syncCommit, type SyncOutcome } from '../src/apply/sync.ts';
import { Progress, type BuildReport } from './progress.ts';
import { runBuilds } from './workers.ts';

export interface ApplyCommitOptions {
  db: Db;
  /** the database's URL, for the builds' own processes */
  databaseUrl: string;
  dir: string;
  dataDir: string;
  ref: string;
  /** a plan saved by `coder-git plan --out`: applied as it is, refused if stale */
  planfile?: string;
  allowDestroy: boolean;
  maxDestroy: number;
  allowOlder: boolean;
  parallelism?: number;
  agentCommand: string;
  leaseSeconds: number;
  verbose: boolean;
  color: Colors;
  /** human text (the plan, progress); stderr when stdout carries JSON */
  write: (s: string) => void;
  /** a terminal: a live status line of the builds running */
  live: boolean;
  /** asked before anything is written when the plan changes something; undefined: approved */
  confirm?: () => Promise<boolean>;
}

export type ApplyStatus = 'applied' | 'nothing' | 'failed' | 'invalid' | 'older' | 'cancelled';

export interface ApplyResult {
  status: ApplyStatus;
  commit: string;
  sync_id: string | null;
  /** the commit that is newer than this one and applied (status older) */
  newer?: string;
  errors: unknown[];
  plan: Plan | null;
  builds: BuildReport[];
}

export async function applyCommit(o: ApplyCommitOptions): Promise<ApplyResult> {
  const saved = o.planfile ? await readPlan(o.planfile) : undefined;
  if (saved) await checkRefUnmoved(o.dir, saved);
  const sha = saved ? saved.commit : await new GitRepo(o.dir).resolveCommit(o.ref);
  const ref = saved ? saved.ref : o.ref;
  const result = (status: ApplyStatus, r: Partial<ApplyResult> = {}): ApplyResult => ({ status, commit: sha, sync_id: null, errors: [], plan: null, builds: [], ...r });
  const run = (deployment: Deployment, buildIds: string[], progress?: Progress) =>
    runBuilds({
      parallelism: o.parallelism ?? deployment.terraform.parallelism,
      buildIds,
      env: { db: o.db, databaseUrl: o.databaseUrl, driver: driverFor(deployment, o.dataDir), dataDir: o.dataDir, deployment, leaseSeconds: o.leaseSeconds, agentCommand: o.agentCommand, onLine: progress?.line },
      onStart: progress ? (job) => void progress.started(job.build_id) : undefined,
      onFinished: progress?.finished,
    });

  // Builds in progress (another apply's, a dead runner's) are waited for — and built, when queued —
  // so the plan sees what they did; again if more started while this one planned.
  const loaded = await loadCommitCached(o.dir, sha);
  const sync = () =>
    syncCommit({
      db: o.db,
      dir: o.dir,
      sha,
      ref,
      allowDestroy: o.allowDestroy,
      maxDestroy: o.maxDestroy,
      neverBackwards: !o.allowOlder,
      expectFingerprint: saved?.fingerprint,
      review: async (plan) => {
        o.write(renderPlan('text', plan, o.color));
        if (saved || !o.confirm || !hasChanges(plan)) return true;
        return o.confirm();
      },
    });
  let r: SyncOutcome | undefined;
  for (let round = 0; !r || (r.kind === 'busy' && round < 10); round++) {
    const busy = loaded.desired ? await builds.inProgress(o.db) : [];
    if (busy.length) {
      o.write(`Waiting for ${busy.length} build(s) in progress…\n`);
      await run(loaded.desired!.deployment, busy, progress(busy));
    }
    r = await sync();
  }
  switch (r.kind) {
    case 'invalid':
      if (r.plan) o.write(renderPlan('text', r.plan, o.color));
      else o.write(formatValidation('text', r.loaded.source, r.loaded.result, o.color));
      return result('invalid', { sync_id: r.syncId, errors: r.errors, plan: r.plan ?? null });
    case 'older':
      o.write(`Nothing applied: ${sha.slice(0, 12)} is older than ${r.newer.slice(0, 12)}, which is applied already and contains it. To go back to it anyway: --allow-older (or revert in git).\n`);
      return result('older', { newer: r.newer });
    case 'cancelled':
      o.write('Apply cancelled.\n');
      return result('cancelled', { plan: r.plan });
    case 'refused':
      throw r.error;
    case 'busy':
      // (builds kept starting elsewhere, round after round: whoever starts them finishes the job)
      o.write(`${r.builds} build(s) keep starting elsewhere; nothing else to change.\n`);
      return result('nothing', { plan: r.plan });
    case 'unchanged': {
      // Nothing to change; builds a dead apply left queued are still built.
      const reports = (await jobs.depth(o.db)).waiting ? await buildQueued(r.deployment) : [];
      return result('nothing', { sync_id: r.syncId ?? null, plan: r.plan, builds: reports });
    }
    case 'queued': {
      o.write(`\nApplying ${sha.slice(0, 12)} (sync ${r.syncId}): ${summaryLine(r.plan)}\n`);
      const p = progress(r.buildIds);
      const results = await run(r.deployment, r.buildIds, p);
      p.end();
      const status = await finishSync(o.db, r.syncId, results);
      const failed = [...results.values()].filter((s) => s !== 'succeeded').length;
      o.write(
        status === 'applied'
          ? o.color.green(`\nApply complete: ${results.size} build(s) succeeded.\n`)
          : o.color.red(`\nApply finished with ${failed} of ${results.size} build(s) not succeeded; see above. The next apply retries them.\n`),
      );
      return result(status === 'applied' ? 'applied' : 'failed', { sync_id: r.syncId, plan: r.plan, builds: p.reports, errors: failed ? [{ message: `${failed} build(s) did not succeed` }] : [] });
    }
  }

  function progress(buildIds: string[]): Progress {
    return new Progress({ db: o.db, buildIds, color: o.color, verbose: o.verbose, live: o.live, write: o.write });
  }
  async function buildQueued(deployment: Deployment): Promise<BuildReport[]> {
    const p = progress([]);
    await run(deployment, [], p);
    p.end();
    return p.reports;
  }
}
