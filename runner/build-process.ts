// Every build runs outside the runner's process (README: Builds outlive their runner). Each worker
// starts one build process — detached in its own session, so neither a terminal's Ctrl-C nor the
// runner's death reaches it — and hands it builds one at a time, as JSON lines on stdin. The process
// opens its own connection, keeps the job's lease, copies Terraform's state to PostgreSQL at every
// serial and records how each build ended, whether or not the runner that started it is still
// there. So a runner killed mid-build (its machine's other runner takes over at once) never leaves a
// build whose state only a dead runner's disk holds: the lease stays alive until the build is
// recorded, and nobody retries it. When the runner's end of stdin closes (it stopped or died) the
// process finishes the build it has and exits; it takes no further build.
//
// One process per worker rather than one per build: a Node start with the bundle costs ~0.3 s of
// CPU, which on 2 cores made an apply of 200 small workspaces 3× bare Terraform's time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jobs, type ClaimedJob } from '../src/db/repos/jobs.ts';
import type { BuildContext } from '../src/db/repos/builds.ts';
import type { LogStream } from '../src/db/repos/logs.ts';
import type { Deployment } from '../src/config/types.ts';
import { openDatabase, type Database } from '../src/db/connect.ts';
import { driverFor } from '../src/apply/session.ts';
import { pkgPath } from '../src/paths.ts';
import { leaseRenewMs, runBuild, type BuildEnv, type BuildOutcome } from './build.ts';

/** One build, as the build process is given it (a line on stdin). */
export interface BuildOrder {
  databaseUrl: string;
  dataDir: string;
  runnerId: string;
  deployment: Deployment;
  leaseSeconds: number;
  agentCommand?: string;
  job: ClaimedJob;
}

type Message = { t: 'line'; build: Omit<BuildContext, 'files'>; stream: LogStream; line: string } | { t: 'outcome'; job: string; outcome: BuildOutcome };

const lean = (b: BuildContext | null) => (b ? ({ ...b, files: {} } as BuildContext) : null);

/** An idle build process exits after this long without a build (the next build starts another). */
const IDLE_MS = 30_000;

type Current = { job: ClaimedJob; env: SuperviseEnv; resolve: (o: BuildOutcome) => void; reject: (e: Error) => void; outcome?: BuildOutcome };
type SuperviseEnv = Omit<BuildEnv, 'driver'> & { databaseUrl: string };

/** The worker's side: one build process, started when first needed, given one build at a time. */
export class BuildHost {
  private child?: ChildProcess;
  private current?: Current;
  private stderr = '';
  private idleTimer?: NodeJS.Timeout;

  /** Runs one build in the process; resolves with how it ended. */
  run(env: SuperviseEnv, job: ClaimedJob): Promise<BuildOutcome> {
    if (this.current) throw new Error('a build process runs one build at a time');
    clearTimeout(this.idleTimer);
    const child = this.child ?? this.start();
    const order: BuildOrder = { databaseUrl: env.databaseUrl, dataDir: env.dataDir, runnerId: env.runnerId, deployment: env.deployment, leaseSeconds: env.leaseSeconds, agentCommand: env.agentCommand, job };
    // Until the process has taken the build and keeps the lease itself (a Node start and a
    // connection can take a good part of a short lease), the worker keeps it too, for as long as it lives.
    const keep = () => void jobs.extend(env.db, job.id, env.runnerId, env.leaseSeconds).catch(() => undefined);
    const leaseTimer = setInterval(keep, leaseRenewMs(env.leaseSeconds));
    // The runner shutting down past its grace period: the build process interrupts terraform.
    const onAbort = () => child.kill('SIGTERM');
    env.signal?.addEventListener('abort', onAbort);
    return new Promise<BuildOutcome>((resolve, reject) => {
      this.current = { job, env, resolve, reject };
      child.stdin!.write(`${JSON.stringify(order)}\n`);
    }).finally(() => {
      clearInterval(leaseTimer);
      env.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
      if (this.child) this.idleTimer = setTimeout(() => this.close(), IDLE_MS).unref();
    });
  }

  /** No more builds: the process exits once it has none (at once when idle). */
  close(): void {
    clearTimeout(this.idleTimer);
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private start(): ChildProcess {
    const child = spawn(process.execPath, [pkgPath('bin', 'coder-git.js'), 'build-process'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.stderr = '';
    child.stdin!.on('error', () => undefined); // it died; 'close' reports it
    child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let m: Message;
      try {
        m = JSON.parse(l) as Message;
      } catch {
        return;
      }
      const cur = this.current;
      if (!cur) return;
      if (m.t === 'line') cur.env.onLine?.(m.build as BuildContext, m.stream, m.line);
      else if (m.job === cur.job.id) {
        cur.outcome = m.outcome;
        cur.resolve(m.outcome);
      }
    });
    child.on('error', (err) => this.ended(child, err));
    child.on('close', (code, signal) => this.ended(child, new Error(`the build process ended without a result (${signal ?? `exit ${code}`})${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`)));
    return child;
  }

  private ended(child: ChildProcess, err: Error) {
    if (this.child === child) this.child = undefined;
    clearTimeout(this.idleTimer);
    const cur = this.current;
    if (cur && !cur.outcome) cur.reject(err);
  }
}

/** The build process itself (`coder-git build-process`, not for people): builds from stdin, one at a time, until it closes. */
export async function buildProcessMain(): Promise<void> {
  // Once the runner is gone its end of the pipe is too: the lines then only go to the database.
  let relay = true;
  process.stdout.on('error', () => (relay = false));
  process.stderr.on('error', () => undefined);
  const send = (m: Message) => {
    if (relay) process.stdout.write(`${JSON.stringify(m)}\n`);
  };
  const abort = new AbortController();
  // The runner's shutdown past its grace period: the build in hand is interrupted, no other is taken.
  process.on('SIGTERM', () => abort.abort());
  process.on('SIGINT', () => {}); // only the runner decides (SIGTERM)
  process.on('SIGHUP', () => {}); // the runner's terminal closing is not the build's business
  let database: Database | undefined;
  let openedFor = '';
  try {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      if (abort.signal.aborted) break;
      const order = JSON.parse(line) as BuildOrder;
      const key = `${order.databaseUrl}\0${order.dataDir}`;
      if (!database || openedFor !== key) {
        await database?.close();
        database = await openDatabase({ postgresUrl: order.databaseUrl, dataDir: order.dataDir, migrate: false, max: 3 });
        openedFor = key;
      }
      const outcome = await runBuild(
        {
          db: database.db,
          driver: driverFor(order.deployment, order.dataDir),
          dataDir: order.dataDir,
          runnerId: order.runnerId,
          deployment: order.deployment,
          leaseSeconds: order.leaseSeconds,
          agentCommand: order.agentCommand,
          signal: abort.signal,
          onLine: (build, stream, l) => send({ t: 'line', build: lean(build)!, stream, line: l }),
        },
        order.job,
      );
      send({ t: 'outcome', job: order.job.id, outcome: { ...outcome, build: lean(outcome.build) } });
    }
  } finally {
    await database?.close();
  }
}
