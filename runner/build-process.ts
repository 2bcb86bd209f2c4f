// Every build runs in a process of its own (README: Builds outlive their runner). The runner's
// worker starts it detached — its own session, so neither a terminal's Ctrl-C nor the runner's
// death reaches it — and hands it the job on stdin. The process opens its own connection, keeps the
// job's lease, copies Terraform's state to PostgreSQL at every serial and records how the build
// ended, whether or not the runner that started it is still there. So a runner killed mid-build
// (its machine's other runner takes over at once) never leaves a build whose state only a dead
// runner's disk holds: the lease stays alive until the build is recorded, and nobody retries it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { jobs, type ClaimedJob } from '../src/db/repos/jobs.ts';
import type { BuildContext } from '../src/db/repos/builds.ts';
import type { LogStream } from '../src/db/repos/logs.ts';
import type { Deployment } from '../src/config/types.ts';
import { openDatabase } from '../src/db/connect.ts';
import { driverFor } from '../src/apply/session.ts';
import { pkgPath } from '../src/paths.ts';
import { leaseRenewMs, runBuild, type BuildEnv, type BuildOutcome } from './build.ts';

/** What the build process is given on stdin. */
export interface BuildOrder {
  databaseUrl: string;
  dataDir: string;
  runnerId: string;
  deployment: Deployment;
  leaseSeconds: number;
  agentCommand?: string;
  job: ClaimedJob;
}

type Message = { t: 'line'; build: Omit<BuildContext, 'files'>; stream: LogStream; line: string } | { t: 'outcome'; outcome: BuildOutcome };

const lean = (b: BuildContext | null) => (b ? ({ ...b, files: {} } as BuildContext) : null);

/** The runner's side: start the build's process, relay its lines, return how the build ended. */
export function superviseBuild(env: Omit<BuildEnv, 'driver'> & { databaseUrl: string }, job: ClaimedJob): Promise<BuildOutcome> {
  const order: BuildOrder = { databaseUrl: env.databaseUrl, dataDir: env.dataDir, runnerId: env.runnerId, deployment: env.deployment, leaseSeconds: env.leaseSeconds, agentCommand: env.agentCommand, job };
  const child = spawn(process.execPath, [pkgPath('bin', 'coder-git.js'), 'build-process'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(JSON.stringify(order));
  // Until the process has started and keeps the lease itself (a Node start and a connection can take
  // a good part of a short lease), the runner keeps it too, for as long as it lives.
  const keep = () => void jobs.extend(env.db, job.id, env.runnerId, env.leaseSeconds).catch(() => undefined);
  const leaseTimer = setInterval(keep, leaseRenewMs(env.leaseSeconds));
  // The runner shutting down past its grace period: the build process interrupts terraform.
  const onAbort = () => child.kill('SIGTERM');
  env.signal?.addEventListener('abort', onAbort);
  let outcome: BuildOutcome | undefined;
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (l) => {
    let m: Message;
    try {
      m = JSON.parse(l) as Message;
    } catch {
      return;
    }
    if (m.t === 'line') env.onLine?.(m.build as BuildContext, m.stream, m.line);
    else outcome = m.outcome;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(leaseTimer);
      env.signal?.removeEventListener('abort', onAbort);
      if (outcome) resolve(outcome);
      else reject(new Error(`the build process ended without a result (${signal ?? `exit ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/** The build process itself (`coder-git build-process`, not for people): one build, then exit. */
export async function buildProcessMain(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const order = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BuildOrder;
  // Once the runner is gone its end of the pipe is too: the lines then only go to the database.
  let relay = true;
  process.stdout.on('error', () => (relay = false));
  process.stderr.on('error', () => undefined);
  const send = (m: Message) => {
    if (relay) process.stdout.write(`${JSON.stringify(m)}\n`);
  };
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  process.on('SIGINT', () => {}); // only the runner decides (SIGTERM)
  process.on('SIGHUP', () => {}); // the runner's terminal closing is not the build's business
  const database = await openDatabase({ postgresUrl: order.databaseUrl, dataDir: order.dataDir, migrate: false, max: 3 });
  try {
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
        onLine: (build, stream, line) => send({ t: 'line', build: lean(build)!, stream, line }),
      },
      order.job,
    );
    send({ t: 'outcome', outcome: { ...outcome, build: lean(outcome.build) } });
  } finally {
    await database.close();
  }
}
