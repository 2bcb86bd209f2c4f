import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { isDuration, parseDuration } from '../../time/duration.ts';
import { openSource } from '../../../runner/source.ts';
import { Runner } from '../../../runner/runner.ts';
import { buildProcessMain } from '../../../runner/build-process.ts';
import { serveMetrics } from '../../../runner/metrics.ts';
import { onRelease, setShutdownBudget } from '../../lifecycle.ts';
import { buildOptions, type BuildArgs } from '../build-options.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envBoolean, envNote, envString } from '../env.ts';
import { keyringFromEnv } from '../../auth/secret-box.ts';

interface Args extends DatabaseArgs, BuildArgs {
  repo: string;
  branch?: string;
  interval: string;
  workers: number;
  grace: string;
  'retry-after': string;
  'metrics-listen'?: string;
  'max-destroy': number;
  'allow-destroy': boolean;
  'drift-interval': string;
  'self-heal': boolean;
}

const duration = (flag: string, v: string) => {
  if (!isDuration(v)) throw new CoderGitError('CG_USAGE', `--${flag} ${JSON.stringify(v)}: expected a duration like 60s, 5m or 1h`);
  return parseDuration(v);
};

export const runnerCommand: CommandModule<object, Args> = {
  command: 'runner',
  describe: 'Keep the deployment equal to a branch: watch the config repo, apply each new commit, run builds',
  builder: (y) =>
    buildOptions(databaseOptions(y))
      .option('repo', { type: 'string', default: envString('repo'), demandOption: !envString('repo'), describe: `The config repo: a local path (watched) or a git URL (cloned, fetched every --interval)${envNote('repo')}` })
      .option('branch', { type: 'string', default: envString('branch'), describe: `The branch to follow (default: the local repo's current branch, or the remote's default)${envNote('branch')}` })
      .option('interval', { type: 'string', default: envString('interval') ?? '60s', describe: `How often to fetch a remote repo${envNote('interval')}` })
      .option('workers', { type: 'number', default: Number(envString('workers') ?? 4), describe: `Builds this runner runs at once${envNote('workers')}` })
      .option('retry-after', { type: 'string', default: envString('retry-after') ?? '60s', describe: `A failed build is tried again this long after it failed${envNote('retry-after')}` })
      .option('grace', { type: 'string', default: envString('grace') ?? '5m', describe: 'On SIGTERM, how long running builds may finish before terraform is interrupted' })
      .option('metrics-listen', { type: 'string', default: envString('metrics-listen'), describe: `Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464)${envNote('metrics-listen')}` })
      .option('drift-interval', { type: 'string', default: envString('drift-interval') ?? '1h', describe: `Check each running workspace for drift (a refresh-only terraform plan) this often; 0 turns checks off${envNote('drift-interval')}` })
      .option('self-heal', { type: 'boolean', default: envBoolean('self-heal') ?? false, describe: `Start a drifted workspace again, which applies its template over the drift${envNote('self-heal')}` })
      .option('max-destroy', { type: 'number', default: 5, describe: 'The mass-destroy guard: a commit destroying more workspaces is refused (recorded failed)' })
      .option('allow-destroy', { type: 'boolean', default: false, describe: 'Turn the mass-destroy guard off' })
      .epilog("Users' git SSH keys are made and sealed with the first key in [env: CODER_GIT_ENCRYPTION_KEYS] (a secret is never a flag).") as never,
  handler: async (argv) => {
    const intervalMs = duration('interval', argv.interval);
    const graceMs = duration('grace', argv.grace);
    if (!Number.isInteger(argv.workers) || argv.workers < 1) throw new CoderGitError('CG_USAGE', `--workers ${argv.workers}: expected a whole number of at least 1`);
    keyringFromEnv(); // (a malformed key refuses to start, rather than failing every apply)
    const database = await openForCommand(argv, { sessionLevel: true });
    const source = await openSource({ repo: argv.repo, branch: argv.branch, dataDir: argv['data-dir'], intervalMs });
    const runner = new Runner({
      database,
      source,
      dataDir: argv['data-dir'],
      workers: argv.workers,
      leaseSeconds: Number(process.env.CODER_GIT_BUILD_LEASE_SECONDS ?? 60),
      graceMs,
      retryAfterMs: duration('retry-after', argv['retry-after']),
      maxDestroy: argv['max-destroy'],
      allowDestroy: argv['allow-destroy'],
      driftIntervalMs: argv['drift-interval'] === '0' ? 0 : duration('drift-interval', argv['drift-interval']),
      // (the tests' knob, like CODER_GIT_BUILD_LEASE_SECONDS)
      agentCheckMs: Number(process.env.CODER_GIT_AGENT_CHECK_SECONDS ?? 10) * 1000,
      selfHeal: argv['self-heal'],
      agentCommand: argv['agent-command'],
      log: (m) => process.stdout.write(`${new Date().toISOString()} ${m}\n`),
    });
    // Released before the database (registered after it): stop building, then close the pool.
    onRelease('runner', () => runner.stop());
    setShutdownBudget(graceMs + 60_000);
    await runner.start();
    if (argv['metrics-listen']) {
      if (!/^([^\s:]*:)?\d{1,5}$/.test(argv['metrics-listen'])) throw new CoderGitError('CG_USAGE', `--metrics-listen ${JSON.stringify(argv['metrics-listen'])}: expected HOST:PORT or PORT`);
      const m = await serveMetrics(database.db, argv['metrics-listen'], () => runner.isLeader());
      onRelease('metrics', () => new Promise((r) => m.server.close(() => r())));
      process.stdout.write(`${new Date().toISOString()} metrics on ${m.url}\n`);
    }
    await new Promise(() => {}); // runs until a signal releases everything
  },
};

/** One build in a process of its own, started by a runner's or apply's worker (runner/build-process.ts); hidden from help. */
export const buildProcessCommand: CommandModule<object, object> = {
  command: 'build-process',
  describe: false,
  handler: async () => {
    await buildProcessMain();
  },
};
