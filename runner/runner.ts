// The runner: keeps the deployment equal to the tracked branch.
//
//  - Leadership: one runner reconciles at a time. It holds a session advisory lock on a dedicated
//    connection and a fencing epoch (migration 0002); losing the connection loses leadership, and a
//    stale leader's applies are refused by the epoch check.
//  - Reconcile: on every change of the branch (watched) and every few seconds, the newest commit is
//    synced through the one sync path (src/apply/sync.ts, as `coder-git apply` does). Invalid:
//    recorded `invalid` with its errors, nothing applied. Valid: planned and, if anything changes,
//    applied (metadata + queued builds) under the commit's one sync record.
//    Commits skipped in between are recorded `superseded`. A force-push or a revert is just a new tip.
//  - Workers (workers.ts, shared with apply): every runner (leader or not) runs N workers on the
//    shared build queue, and reaps builds whose runner died (their lease ran out), which the next
//    reconcile builds again.
//  - Schedules (leader): every few seconds, workspaces whose autostart fired or whose ttl ran out get
//    a build (schedule.ts).
//  - Drift (leader): running workspaces are checked with a refresh-only terraform plan every drift
//    interval (drift.ts); with self-heal a drifted one is started again.
//  - Stop (SIGTERM/SIGINT): stop taking work, let running builds finish within the grace period, then
//    interrupt Terraform (which saves its state), release the lock, exit.

import os from 'node:os';
import type { Database } from '../src/db/connect.ts';
import type { Deployment } from '../src/config/types.ts';
import { deployment as deploymentRepo } from '../src/db/repos/deployment.ts';
import { syncs } from '../src/db/repos/syncs.ts';
import { sendNotification, type Notification } from './notifications.ts';
import { reconciler } from '../src/db/repos/reconciler.ts';
import { locks, RECONCILE_LOCK } from '../src/db/repos/locks.ts';
import { loadCommitCached, syncCommit, type SyncOutcome } from '../src/apply/sync.ts';
import { workerLoop } from './workers.ts';
import { driverFor } from '../src/apply/session.ts';
import { scheduleBuilds } from './schedule.ts';
import { checkDrift } from './drift.ts';
import { checkAgents } from './agents.ts';
import { GitRepo } from '../src/git/git.ts';
import { CoderGitError } from '../src/errors.ts';
import type { Source } from './source.ts';
import { BUILD_CHANNEL, REFRESH_CHANNEL } from '../src/db/channels.ts';
import { listen, type Listener } from '../src/db/listen.ts';


export interface RunnerOptions {
  database: Database;
  source: Source;
  dataDir: string;
  workers: number;
  leaseSeconds: number;
  graceMs: number;
  /** how often to reconcile even without a change (to build what finished builds unblocked) */
  reconcileMs?: number;
  /** a failed build is tried again this long after it finished (never in a hot loop) */
  retryAfterMs: number;
  /** the mass-destroy guard, as for apply */
  maxDestroy: number;
  allowDestroy: boolean;
  /** how often the schedule is looked at (default 15 s: an autostart happens within that of its minute) */
  scheduleMs?: number;
  /** each running workspace is checked for drift this often; 0: never */
  driftIntervalMs: number;
  /** how often the leader looks for lost agents (default 10 s) */
  agentCheckMs?: number;
  /** a drifted workspace is started again (a build with reason "drift") */
  selfHeal: boolean;
  /** how workspaces start the agent (coder_agent_command) */
  agentCommand?: string;
  /** the clock the schedule reads (tests move it) */
  now?: () => Date;
  log: (msg: string) => void;
}

export class Runner {
  readonly id = `${os.hostname()}:${process.pid}`;
  private leader: { epoch: number; release: () => Promise<void> } | undefined;
  private deployment: Deployment | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private reconciling: Promise<void> | undefined;
  private again = false;
  private lastHead: string | undefined;
  private timers: NodeJS.Timeout[] = [];
  private workersDone: Promise<void[]> | undefined;
  private running = 0;
  /** idle workers wait on this; queuing builds wakes them at once rather than at their next poll */
  private wakeUp: () => void = () => {};
  private idle = new Promise<void>((r) => (this.wakeUp = r));

  private wake(): void {
    const r = this.wakeUp;
    this.idle = new Promise<void>((res) => (this.wakeUp = res));
    r();
  }

  constructor(private readonly o: RunnerOptions) {}

  /** The deployment as last applied (coder-git.yaml's settings), unless this runner has its own from a sync. */
  private async refreshDeployment(): Promise<void> {
    const applied = await deploymentRepo.load(this.o.database.db).catch(() => null);
    if (applied && (!this.leader || !this.deployment)) this.deployment = applied;
  }

  async start(): Promise<void> {
    const { source } = this.o;
    this.o.log(`runner ${this.id}: watching ${source.describe}, ${this.o.workers} worker(s)`);
    // What was last applied, from PostgreSQL: the workers build with it until this runner syncs a
    // commit itself — a runner that does not lead never does, and a leader whose tip is invalid
    // neither (without it, their workers took no build at all: a schedule's or a start's build
    // stayed pending).
    await this.refreshDeployment();
    this.timers.push(setInterval(() => void (this.leader ? undefined : this.refreshDeployment()), 5000));
    await this.tryLead();
    source.watch(() => this.kick());
    this.listenForRefresh();
    this.listenForBuilds();
    this.timers.push(setInterval(() => void this.tryLead(), 2000));
    this.timers.push(setInterval(() => this.kick(), this.o.reconcileMs ?? 5000));
    this.timers.push(setInterval(() => void this.leading('schedule', () => this.schedule()), this.o.scheduleMs ?? 15_000));
    this.timers.push(setInterval(() => void this.leading('agent check', () => this.agents()), this.o.agentCheckMs ?? 10_000));
    if (this.o.driftIntervalMs > 0) {
      const tick = Math.min(60_000, Math.max(1000, this.o.driftIntervalMs / 4));
      this.timers.push(setInterval(() => void this.leading('drift check', () => this.drift()), tick));
    }
    this.kick();
    this.workersDone = Promise.all(Array.from({ length: this.o.workers }, (_, i) => this.worker(i)));
  }

  /** Reconcile soon; coalesces bursts (two quick commits: the newest is reconciled). */
  kick(): void {
    if (this.stopping || !this.leader) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = this.reconcile()
      .catch((err) => this.o.log(`reconcile: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.reconciling = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async tryLead(): Promise<void> {
    if (this.leader || this.stopping) return;
    const { db } = this.o.database;
    let conn: Awaited<ReturnType<typeof db.connect>> | undefined;
    try {
      conn = await db.connect();
      const ok = await locks.trySession(conn, RECONCILE_LOCK);
      if (!ok) {
        conn.done();
        return;
      }
      const epoch = await reconciler.take(db, this.id);
      const held = conn;
      // The lock lives as long as this connection: if it dies, leadership ends with it.
      held.client.on('error', () => {
        if (this.leader?.epoch === epoch) this.leader = undefined;
      });
      this.leader = {
        epoch,
        release: async () => {
          await locks.unlockSession(held, RECONCILE_LOCK).catch(() => undefined);
          held.done(true);
        },
      };
      this.o.log(`runner ${this.id}: reconciling (epoch ${epoch})`);
      this.kick();
    } catch {
      conn?.done(true);
    }
  }

  private async reconcile(): Promise<void> {
    const { db } = this.o.database;
    const { source } = this.o;
    const leader = this.leader;
    if (!leader) return;
    await this.settle();
    const head = await source.head();
    if (head !== this.lastHead) {
      await syncs.supersede(db, head);
      if (this.lastHead) await this.recordSkipped(this.lastHead, head);
      this.lastHead = head;
      if (!(await syncs.byCommit(db, head))) this.o.log(`commit ${head.slice(0, 12)} "${(await loadCommitCached(source.dir, head)).source.commit?.subject ?? ''}"`);
    }
    let r: SyncOutcome;
    try {
      r = await syncCommit({ db, dir: source.dir, sha: head, ref: source.branch, epoch: leader.epoch, allowDestroy: this.o.allowDestroy, maxDestroy: this.o.maxDestroy, retryAfterMs: this.o.retryAfterMs });
    } catch (err) {
      if (err instanceof CoderGitError && err.code === 'CG_FENCED') {
        this.o.log('another runner reconciles now; this one only builds');
        await leader.release();
        this.leader = undefined;
        return;
      }
      throw err;
    }
    if ('deployment' in r) this.deployment = r.deployment;
    const c = r.loaded.source.commit;
    const commit = { sha: head, ref: source.branch, author: c?.author ?? null, message: c?.subject ?? null };
    switch (r.kind) {
      case 'invalid':
        if (r.newly) {
          if (!r.plan) this.o.log(`commit ${head.slice(0, 12)} is invalid (${r.errors.length} error(s)); nothing applied`);
          void this.notify({ event: 'sync_invalid', commit, errors: r.errors });
        }
        return;
      case 'refused':
        if (r.newly) {
          this.o.log(`commit ${head.slice(0, 12)} refused: ${r.error.message}`);
          void this.notify({ event: 'sync_failed', commit, errors: [{ message: r.error.message, hint: r.error.hint }] });
        }
        return;
      case 'queued':
        this.o.log(`commit ${head.slice(0, 12)}: ${r.buildIds.length} build(s) queued`);
        this.wake();
        return;
      default:
        return; // unchanged (recorded applied), or busy: the next reconcile after the builds finish
    }
  }

  private busy = new Set<string>();

  private listener: Listener | undefined;
  private buildListener: Listener | undefined;

  /**
   * The git webhook (any server replica) and POST /api/v1/runner/refresh NOTIFY coder_git_refresh:
   * fetch now instead of at the next --interval.
   */
  private listenForBuilds(): void {
    // a build ended, maybe in the process of a runner that is gone: its sync may be complete now
    this.buildListener = listen(this.o.database, BUILD_CHANNEL, (payload) => {
      if (this.leader && !payload.includes('"status":"running"')) this.kick();
    });
  }

  private listenForRefresh(): void {
    this.listener = listen(this.o.database, REFRESH_CHANNEL, (payload) => {
      let ref: unknown;
      try {
        ref = JSON.parse(payload || '{}').ref;
      } catch {}
      if (typeof ref === 'string' && ref !== `refs/heads/${this.o.source.branch}`) return; // another branch
      this.o.log(`refresh asked for${typeof ref === 'string' ? ` (push to ${ref})` : ''}`);
      void this.o.source.refresh().then(() => this.kick(), (err) => this.o.log(`fetch: ${err instanceof Error ? err.message : String(err)}`));
    });
  }

  /** Runs a leader's chore, one at a time per kind; a fenced runner steps down. */
  private async leading(what: string, fn: (epoch: number) => Promise<void>): Promise<void> {
    const leader = this.leader;
    if (!leader || this.stopping || this.busy.has(what)) return;
    this.busy.add(what);
    try {
      await fn(leader.epoch);
    } catch (err) {
      if (err instanceof CoderGitError && err.code === 'CG_FENCED') {
        this.o.log('another runner reconciles now; this one only builds');
        await leader.release();
        if (this.leader === leader) this.leader = undefined;
      } else this.o.log(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.busy.delete(what);
    }
  }

  private async schedule(): Promise<void> {
    const made = await scheduleBuilds(this.o.database.db, { epoch: this.leader?.epoch, now: this.o.now });
    for (const b of made) this.o.log(`${b.workspace}: build #${b.build_number} ${b.transition} (${b.reason}: ${b.why})`);
    if (made.length) this.wake();
  }

  private async drift(): Promise<void> {
    const deployment = this.deployment;
    if (!deployment) return;
    const results = await checkDrift({
      db: this.o.database.db,
      driver: driverFor(deployment, this.o.dataDir),
      deployment,
      runnerId: `${this.id}:drift`,
      leaseSeconds: this.o.leaseSeconds,
      intervalMs: this.o.driftIntervalMs,
      parallelism: Math.max(1, Math.min(this.o.workers, deployment.terraform.parallelism)),
      selfHeal: this.o.selfHeal,
      epoch: this.leader?.epoch,
      signal: this.abort.signal,
    });
    for (const r of results) {
      if (r.error) this.o.log(`${r.workspace}: drift check failed: ${r.error}`);
      // (a succeeded build clears recorded drift, so drift found after a self-heal build is "newly" found)
      if (!r.drift || !r.newly) continue;
      const what = [...r.drift.resources.map((x) => `${x.address} (${x.actions.join(',')})`), ...r.drift.outputs.map((o) => `output ${o}`)].join(', ');
      const then = r.heal_build ? `; build #${r.heal_build} repairs it` : r.heal_failed ? '; the self-heal build did not repair it, so it is not repeated: look at the workspace' : '';
      this.o.log(`${r.workspace}: drifted: ${what}${then}`);
      void this.notify({ event: 'workspace_drifted', workspace: r.workspace, drift: r.drift });
    }
    if (results.some((r) => r.heal_build)) this.wake();
  }

  /** Running workspaces whose agent is gone: recorded, reported once, and with self-heal started again. */
  private async agents(): Promise<void> {
    const lost = await checkAgents({ db: this.o.database.db, selfHeal: this.o.selfHeal, epoch: this.leader?.epoch });
    for (const a of lost) {
      const what = a.status === 'timeout' ? `its agent never connected (since ${a.since.toISOString()})` : `its agent has been gone since ${a.since.toISOString()}`;
      const then = a.heal_build ? `; build #${a.heal_build} starts it again` : a.heal_failed ? '; the self-heal build did not bring it back, so it is not repeated: look at the workspace' : '';
      this.o.log(`${a.workspace}: ${what}${then}`);
      void this.notify({ event: 'workspace_agent_lost', workspace: a.workspace, agent: { status: a.status, since: a.since.toISOString() } });
    }
    if (lost.some((a) => a.heal_build)) this.wake();
  }

  /** Failed syncs (builds done, not all succeeded) are marked, and reported. */
  private async settle(): Promise<void> {
    for (const s of await syncs.settle(this.o.database.db)) {
      void this.notify({ event: 'sync_failed', commit: { sha: s.commit_sha, ref: s.ref, author: s.author, message: s.message }, errors: [{ message: 'some builds did not succeed' }] });
    }
  }

  private notify(n: Notification): Promise<void> {
    return sendNotification(this.deployment, n, this.o.log);
  }

  /** Commits between the last tip seen and the new one are recorded as superseded. */
  private async recordSkipped(from: string, to: string): Promise<void> {
    const { db } = this.o.database;
    const between = await new GitRepo(this.o.source.dir).between(from, to).catch(() => [] as string[]);
    for (const sha of between.slice(1)) {
      if (await syncs.byCommit(db, sha)) continue;
      await syncs.insert(db, { commit_sha: sha, ref: this.o.source.branch, author: null, message: null, status: 'superseded', errors: [], plan_summary: null });
    }
  }

  /** After each build, however it ended: failed syncs are marked, and the tip reconciled again. */
  private async afterBuild(): Promise<void> {
    this.running--;
    await this.settle().catch(() => undefined);
    this.kick();
  }

  private worker(i: number): Promise<void> {
    const { db } = this.o.database;
    const id = `${this.id}:${i}`;
    return workerLoop({
      db,
      id,
      leaseSeconds: this.o.leaseSeconds,
      env: () => {
        const deployment = this.deployment;
        if (!deployment) return undefined;
        return { db, databaseUrl: this.o.database.childUrl, driver: driverFor(deployment, this.o.dataDir), dataDir: this.o.dataDir, deployment, leaseSeconds: this.o.leaseSeconds, agentCommand: this.o.agentCommand, signal: this.abort.signal };
      },
      stop: () => this.stopping,
      idle: () => Promise.race([this.idle, new Promise<void>((r) => setTimeout(r, 250))]),
      onStart: () => void this.running++,
      onFinished: async ({ job, build, status, error }) => {
        this.o.log(`build ${job.build_id.slice(0, 8)} ${status}`);
        if (status === 'failed' && build) void this.notify({ event: 'build_failed', workspace: `${build.owner}/${build.workspace}`, build: { number: build.build_number, transition: build.transition, error } });
        await this.afterBuild();
      },
      onError: async (job, err) => {
        this.o.log(`build ${job.build_id.slice(0, 8)}: ${err instanceof Error ? err.message : String(err)}`);
        await this.afterBuild();
      },
    });
  }

  /** Stop taking work; give running builds the grace period; then interrupt them; let go of leadership. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.wake();
    for (const t of this.timers) clearInterval(t);
    this.listener?.close();
    this.buildListener?.close();
    await this.o.source.close();
    if (this.running) this.o.log(`stopping: waiting up to ${Math.round(this.o.graceMs / 1000)}s for ${this.running} running build(s)`);
    const grace = setTimeout(() => this.abort.abort(), this.o.graceMs);
    await this.workersDone;
    clearTimeout(grace);
    await this.reconciling;
    await this.leader?.release();
    this.leader = undefined;
    this.o.log('runner stopped');
  }

  isLeader(): boolean {
    return this.leader !== undefined;
  }
}
