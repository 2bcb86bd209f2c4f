// The build workers: one loop per worker takes a build from the shared queue (FOR UPDATE SKIP
// LOCKED), runs it, and takes the next; idle, it reaps builds whose runner died (their lease ran
// out) so that a later sync builds them again. The runner runs its workers for as long as it runs;
// `coder-git apply` runs the same loops until the builds of its sync are finished (runBuilds).
import os from 'node:os';
import type { Db } from '../src/db/connect.ts';
import { builds, type BuildStatus } from '../src/db/repos/builds.ts';
import { jobs, type ClaimedJob } from '../src/db/repos/jobs.ts';
import type { BuildEnv, BuildOutcome } from './build.ts';
import { BuildHost } from './build-process.ts';

/** What the workers build with: a build's environment, and the database's URL for its own process. */
export type WorkerEnv = Omit<BuildEnv, 'runnerId'> & { databaseUrl: string };

export interface Finished extends BuildOutcome {
  job: ClaimedJob;
  seconds: number;
}

export interface WorkerOptions {
  db: Db;
  /** this worker's id, recorded on the builds it takes (host:pid:n) */
  id: string;
  leaseSeconds: number;
  /** what a build runs with; undefined: not ready to build yet (the runner before its first commit) */
  env: () => WorkerEnv | undefined;
  /** true ends the loop: checked before every claim */
  stop: () => boolean;
  /** checked when the queue has nothing for this worker: true ends the loop */
  done?: () => boolean | Promise<boolean>;
  /** how an idle worker waits before looking again */
  idle: () => Promise<void>;
  /** a build was taken and is about to run */
  onStart?: (job: ClaimedJob) => void;
  onFinished?: (f: Finished) => void | Promise<void>;
  onError?: (job: ClaimedJob, err: unknown) => void | Promise<void>;
}

export async function workerLoop(o: WorkerOptions): Promise<void> {
  const host = new BuildHost();
  try {
    await loop(o, host);
  } finally {
    host.close();
  }
}

async function loop(o: WorkerOptions, host: BuildHost): Promise<void> {
  while (!o.stop()) {
    const base = o.env();
    const job = base ? await jobs.claim(o.db, o.id, o.leaseSeconds).catch(() => null) : null;
    if (!job || !base) {
      if (o.done && (await o.done())) return;
      await jobs.reapExpired(o.db).catch(() => undefined);
      await o.idle();
      continue;
    }
    const started = Date.now();
    o.onStart?.(job);
    try {
      const outcome = await host.run({ ...base, runnerId: o.id }, job);
      await o.onFinished?.({ ...outcome, job, seconds: (Date.now() - started) / 1000 });
    } catch (err) {
      await o.onError?.(job, err);
    }
  }
}

export interface RunOptions {
  parallelism: number;
  env: WorkerEnv;
  /** stop once these builds are finished (others in the queue are left to whoever takes them) */
  buildIds: string[];
  pollMs?: number;
  onStart?: (job: ClaimedJob) => void;
  onFinished?: (f: Finished) => void | Promise<void>;
}

/**
 * `coder-git apply`'s workers: take builds from the queue until the given builds are finished and
 * nothing else is ready (builds a dead apply left pending are built too).
 */
export async function runBuilds(o: RunOptions): Promise<Map<string, BuildStatus>> {
  const { db } = o.env;
  const base = `${os.hostname()}:${process.pid}`;
  const unfinished = async () => (await builds.unfinishedCount(db, o.buildIds)) > 0;
  await Promise.all(
    Array.from({ length: Math.max(1, o.parallelism) }, (_, i) =>
      workerLoop({
        db,
        id: `${base}:${i}`,
        leaseSeconds: o.env.leaseSeconds,
        env: () => o.env,
        stop: () => false,
        done: async () => !(await unfinished()),
        idle: () => new Promise((r) => setTimeout(r, o.pollMs ?? 200)),
        onStart: o.onStart,
        onFinished: o.onFinished,
        onError: (_job, err) => {
          throw err;
        },
      }),
    ),
  );
  return new Map((await builds.statuses(db, o.buildIds)).map((r) => [r.id, r.status]));
}
