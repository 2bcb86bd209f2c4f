// Runs one build: the job a worker claimed. The build's Terraform state is restored before the run,
// copied to PostgreSQL at every new serial while Terraform runs, and after; the lease is kept alive
// meanwhile, and if it is lost (another runner took over) Terraform is interrupted.

import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../src/db/connect.ts';
import { CoderGitError } from '../src/errors.ts';
import { BUILD_CHANNEL, publish } from '../src/db/channels.ts';
import { builds, type BuildContext, type BuildRow, type BuildStatus } from '../src/db/repos/builds.ts';
import { jobs, type ClaimedJob } from '../src/db/repos/jobs.ts';
import { states } from '../src/db/repos/states.ts';
import { logs, type LogStream } from '../src/db/repos/logs.ts';
import { agents } from '../src/db/repos/agents.ts';
import { workspaces } from '../src/db/repos/workspaces.ts';
import type { Deployment } from '../src/config/types.ts';
import { parseDuration } from '../src/time/duration.ts';
import { interruptTerraform, type TerraformDriver } from '../src/terraform/driver.ts';
import { buildVariables, workDir } from '../src/terraform/contract.ts';
import { markInitialised, prepareModule, readLocalState, recordPid, waitForOrphan, writeLocalState, type StateInfo } from '../src/terraform/workdir.ts';

export interface BuildEnv {
  db: Db;
  driver: TerraformDriver;
  dataDir: string;
  runnerId: string;
  deployment: Deployment;
  leaseSeconds: number;
  /** every log line, for the console */
  onLine?: (build: BuildContext, stream: LogStream, line: string) => void;
  /** how to start coder-git's agent on this machine (coder_agent_command); empty: none yet */
  agentCommand?: string;
  /** aborted when the runner shuts down past its grace period: terraform is interrupted */
  signal?: AbortSignal;
}

/** How a build ended, with what the worker's callers report (so none of them reads the build again). */
export interface BuildOutcome {
  status: BuildStatus;
  /** the build as it was taken; null when it no longer existed */
  build: BuildContext | null;
  /** the error recorded on the build */
  error: string | null;
}

/** How often a build's lease is renewed: three times per lease. */
export const leaseRenewMs = (leaseSeconds: number) => Math.max(500, (leaseSeconds * 1000) / 3);

export async function runBuild(env: BuildEnv, job: ClaimedJob): Promise<BuildOutcome> {
  const { db } = env;
  const b = await builds.context(db, job.build_id);
  if (!b) {
    await jobs.finish(db, job.id, env.runnerId);
    return { status: 'canceled', build: null, error: null };
  }
  if (b.status === 'running') {
    // Its runner died (the lease ran out). Never resumed blindly: marked interrupted, and the next
    // plan builds it again from whatever state Terraform recorded.
    const row = await builds.setStatus(db, b.id, 'interrupted', { error: 'its lease ran out before it finished: the process building it stopped, or lost its database connection for longer than the lease' });
    await jobs.finish(db, job.id, env.runnerId);
    return { status: 'interrupted', build: b, error: row.error };
  }
  if (b.status !== 'pending') {
    await jobs.finish(db, job.id, env.runnerId);
    return { status: b.status, build: b, error: (await builds.get(db, b.id))?.error ?? null };
  }
  await builds.setStatus(db, b.id, 'running', { runner_id: env.runnerId });
  // (for the pages: the workspace's page shows the build running at once; runners ignore this one)
  await publish(db, BUILD_CHANNEL, { build_id: b.id, workspace_id: b.workspace_id, status: 'running' }).catch(() => undefined);

  const pending: { stream: LogStream; line: string }[] = [];
  // One flush at a time, so lines reach the database in the order Terraform printed them.
  let flushing: Promise<void> = Promise.resolve();
  const flushLogs = () => {
    flushing = flushing.then(async () => {
      const batch = pending.splice(0);
      if (batch.length) await logs.append(db, b.id, batch);
    });
    return flushing;
  };
  const log = (stream: LogStream, line: string) => {
    pending.push({ stream, line });
    env.onLine?.(b, stream, line);
  };

  const dir = workDir(env.dataDir, b.workspace_id);
  let saved: StateInfo | undefined;
  const saveIfNewer = async (s: StateInfo | undefined) => {
    if (!s || (saved && s.lineage === saved.lineage && s.serial <= saved.serial)) return;
    await states.save(db, { workspace_id: b.workspace_id, build_id: b.id, serial: s.serial, lineage: s.lineage, state: s.bytes });
    saved = s;
  };

  let status: BuildStatus = 'failed';
  let error: string | undefined;
  let lostLease = false;
  let terraformPid: number | undefined;
  // A database that cannot be reached is not a lost lease while the lease would still hold by the
  // clock (the database comes back, the next extension succeeds); past that, it is, and it says so.
  let keptUntil = Date.now() + env.leaseSeconds * 1000;
  let dbLost = false;
  const keepLease = async () => {
    let kept: boolean;
    try {
      kept = await jobs.extend(db, job.id, env.runnerId, env.leaseSeconds);
      if (kept) keptUntil = Date.now() + env.leaseSeconds * 1000;
    } catch {
      if (Date.now() < keptUntil) return;
      kept = false;
      dbLost = true;
    }
    if (!kept && !lostLease) {
      lostLease = true;
      log('system', dbLost ? 'coder-git: the database connection was lost for longer than the lease; interrupting terraform' : 'coder-git: this runner lost its lease on the build; interrupting terraform');
      if (terraformPid) interruptTerraform(terraformPid);
    }
  };
  void keepLease();
  const leaseTimer = setInterval(keepLease, leaseRenewMs(env.leaseSeconds));
  let watcher: NodeJS.Timeout | undefined;
  let shutDown = false;
  const onAbort = () => {
    shutDown = true;
    log('system', 'coder-git: the runner is shutting down; interrupting terraform (it saves its state)');
    if (terraformPid) interruptTerraform(terraformPid);
  };
  env.signal?.addEventListener('abort', onAbort);
  try {
    if (!(await waitForOrphan(dir, parseDuration(env.deployment.terraform.timeout), (m) => log('system', m)))) {
      throw new Error('a terraform from an earlier run is still running in the workspace directory');
    }
    // The newer of the runner's file and PostgreSQL's latest state.
    const local = await readLocalState(dir);
    const remote = await states.latest(db, b.workspace_id);
    const remoteInfo = remote ? { serial: Number(remote.serial), lineage: remote.lineage, bytes: remote.state } : undefined;
    if (local && (!remoteInfo || (local.lineage === remoteInfo.lineage && local.serial > remoteInfo.serial))) {
      log('system', `coder-git: this runner's state (serial ${local.serial}) is newer than the database's; recording it`);
      await saveIfNewer(local);
    } else if (remoteInfo) {
      saved = remoteInfo;
      if (!local || local.serial !== remoteInfo.serial || local.lineage !== remoteInfo.lineage) await writeLocalState(dir, remote!.state);
    }

    if (await prepareModule(dir, b.files, b.content_hash)) {
      log('system', `coder-git: terraform init (template ${b.template} version ${b.content_hash.slice(0, 12)})`);
      const init = await env.driver.run(['init', '-input=false'], { cwd: dir, env: {}, onLine: log });
      if (init.code !== 0) throw new Error(`terraform init exited with ${init.code}`);
      await markInitialised(dir, b.content_hash);
    }

    const token = randomBytes(32).toString('base64url');
    if (b.transition === 'start') {
      await agents.create(db, { workspace_id: b.workspace_id, build_id: b.id, token_hash: createHash('sha256').update(token).digest() });
    }
    watcher = setInterval(() => {
      void readLocalState(dir).then(saveIfNewer).catch(() => undefined);
      void flushLogs().catch(() => undefined);
    }, 250);
    const args = ['apply', '-auto-approve', '-input=false', ...(b.transition === 'delete' ? ['-destroy'] : [])];
    log('system', `coder-git: terraform ${args.join(' ')} (build #${b.build_number}, ${b.transition})`);
    const r = await env.driver.run(args, {
      cwd: dir,
      env: buildVariables(b, env.deployment, token, env.agentCommand),
      onLine: log,
      timeoutMs: parseDuration(env.deployment.terraform.timeout),
      onSpawn: (pid) => {
        terraformPid = pid;
        void recordPid(dir, pid);
      },
    });
    clearInterval(watcher);
    await saveIfNewer(await readLocalState(dir));
    if (lostLease || shutDown) {
      status = 'interrupted';
      error = !lostLease ? 'the runner shut down during the build' : dbLost ? 'the database connection was lost during the build (for longer than the lease)' : 'this runner lost its lease on the build';
    } else if (r.code === 0) {
      status = 'succeeded';
      if (b.transition === 'delete') await workspaces.markDestroyed(db, b.workspace_id);
    } else {
      error = r.timedOut ? `terraform timed out after ${env.deployment.terraform.timeout}` : `terraform apply exited with ${r.code}`;
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    log('system', `coder-git: ${error}`);
  } finally {
    env.signal?.removeEventListener('abort', onAbort);
    clearInterval(leaseTimer);
    clearInterval(watcher);
    // Whatever happened, what Terraform wrote is kept.
    await saveIfNewer(await readLocalState(dir)).catch(() => undefined);
    await flushLogs().catch(() => undefined);
  }
  let row: BuildRow;
  try {
    row = await builds.setStatus(db, b.id, status, error ? { error } : {});
  } catch (err) {
    // After a lost lease, whoever took the build over has marked it interrupted already: that stands.
    if (!(lostLease && err instanceof CoderGitError && err.code === 'CG_CONFLICT')) throw err;
    return { status: 'interrupted', build: b, error: (await builds.get(db, b.id))?.error ?? null };
  }
  if (!lostLease) await jobs.finish(db, job.id, env.runnerId);
  await publish(db, BUILD_CHANNEL, { build_id: b.id, workspace_id: b.workspace_id, status }).catch(() => undefined);
  return { status, build: b, error: row.error };
}
