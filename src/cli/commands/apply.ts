import type { CommandModule } from 'yargs';
import { ANSI, PLAIN, formatValidation } from '../../config/format.ts';
import { CoderGitError, EXIT } from '../../errors.ts';
import { buildsInProgress, finishSync, makePlan, runBuilds, writeChanges } from '../../apply/apply.ts';
import { checkRefUnmoved, driverFor, loadCommit, newerApplied, readPlan } from '../../apply/session.ts';
import { syncs } from '../../db/repos/syncs.ts';
import { hasChanges } from '../../plan/diff.ts';
import { renderPlan, summaryLine } from '../../plan/render.ts';
import { buildOptions, type BuildArgs } from '../build-options.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envNote, envString } from '../env.ts';
import { useColor } from '../main.ts';
import { readLine } from '../prompt.ts';
import { jobs } from '../../db/repos/jobs.ts';
import type { Db } from '../../db/connect.ts';
import type { Deployment } from '../../config/types.ts';
import type { BuildContext } from '../../db/repos/builds.ts';
import type { LogStream } from '../../db/repos/logs.ts';

interface Args extends DatabaseArgs, BuildArgs {
  dir: string;
  planfile?: string;
  ref: string;
  'auto-approve': boolean;
  parallelism?: number;
  'allow-destroy': boolean;
  'max-destroy': number;
  'allow-older': boolean;
  color?: boolean;
}

export const applyCommand: CommandModule<object, Args> = {
  command: 'apply [planfile]',
  describe: 'Apply a commit (or a saved plan): metadata in one transaction, then the workspace builds',
  builder: (y) =>
    buildOptions(databaseOptions(y))
      .positional('planfile', { type: 'string', describe: 'A plan saved with coder-git plan --out; refused if stale' })
      .option('ref', { type: 'string', default: envString('ref') ?? 'HEAD', describe: `The commit to apply, without a plan file${envNote('ref')}` })
      .option('auto-approve', { type: 'boolean', default: false, describe: 'Do not ask for confirmation (needed when not on a terminal)' })
      .option('parallelism', { type: 'number', describe: 'Builds at once (default: terraform.parallelism in coder-git.yaml, 4)' })
      .option('allow-destroy', { type: 'boolean', default: false, describe: 'Allow a plan that destroys more workspaces than --max-destroy' })
      .option('max-destroy', { type: 'number', default: 5, describe: 'The mass-destroy guard: more destroys than this need --allow-destroy' })
      .option('allow-older', { type: 'boolean', default: false, describe: 'Apply a commit even when a newer one that contains it is applied already (going back)' })
      .epilog('Exit status: 0 applied (or nothing to do), 1 invalid commit, refused plan or a failed build, 64 usage error.') as never,
  handler: async (argv) => {
    const color = useColor(argv.color) ? ANSI : PLAIN;
    const buildEnv = (db: Db, deployment: Deployment) => ({
      db,
      driver: driverFor(deployment, argv['data-dir']),
      dataDir: argv['data-dir'],
      deployment,
      leaseSeconds: Number(process.env.CODER_GIT_BUILD_LEASE_SECONDS ?? 60),
      agentCommand: argv['agent-command'],
      onLine: (b: BuildContext, stream: LogStream, line: string) =>
        process.stdout.write(`${color.dim(`${b.owner}/${b.workspace} #${b.build_number}:`)} ${stream === 'stderr' ? color.red(line) : line}\n`),
    });
    const saved = argv.planfile ? await readPlan(argv.planfile) : undefined;
    if (saved) await checkRefUnmoved(argv.dir, saved);
    const c = await loadCommit(argv.dir, saved ? saved.commit : argv.ref);
    if (!c.desired) {
      process.stdout.write(formatValidation('text', c.source, c.result, color));
      process.exitCode = EXIT.error;
      return;
    }
    const d = await openForCommand(argv);
    // An older CI job that runs after a newer one must not take the deployment back.
    const sha = c.source.commit?.sha;
    const newer = sha && !argv['allow-older'] ? await newerApplied(argv.dir, sha, (await syncs.lastWritten(d.db))?.commit_sha) : undefined;
    if (newer) {
      process.stdout.write(`Nothing applied: ${sha!.slice(0, 12)} is older than ${newer.slice(0, 12)}, which is applied already and contains it. To go back to it anyway: --allow-older (or revert in git).\n`);
      return;
    }
    // The builds given (and whatever else is queued), with --parallelism or the deployment's.
    const run = (deployment: Deployment, buildIds: string[]) =>
      runBuilds({ parallelism: argv.parallelism ?? deployment.terraform.parallelism, buildIds, env: buildEnv(d.db, deployment) });
    let expect = saved?.fingerprint;
    if (!saved) {
      let { plan, fingerprint } = await makePlan(d.db, c.desired);
      const busy = plan.workspaces.filter((w) => w.inProgress).length;
      if (busy) {
        // Wait for them, building what is queued meanwhile; a dead runner's build is reaped when its
        // lease runs out (and then retried by the plan made after).
        process.stdout.write(`Waiting for ${busy} build(s) in progress…\n`);
        await run(c.desired.deployment, await buildsInProgress(d.db));
        ({ plan, fingerprint } = await makePlan(d.db, c.desired));
      }
      process.stdout.write(renderPlan('text', plan, color));
      if (plan.errors.length) {
        process.exitCode = EXIT.error;
        return;
      }
      if (!hasChanges(plan)) {
        // Nothing to change; builds a dead apply left queued are still built.
        if ((await jobs.depth(d.db)).waiting) await run(c.desired.deployment, []);
        return;
      }
      if (!argv['auto-approve']) {
        if (!process.stdin.isTTY) throw new CoderGitError('CG_USAGE', 'apply asks for confirmation on a terminal; elsewhere (CI) pass --auto-approve');
        const answer = await readLine("\nApply these changes? Only 'yes' is accepted: ");
        if (answer.trim() !== 'yes') {
          process.stdout.write('Apply cancelled.\n');
          process.exitCode = EXIT.error;
          return;
        }
      }
      // What was shown is what is applied: refused if the applied state moved meanwhile.
      expect = fingerprint;
    }
    const deployment = c.desired.deployment;
    const w = await writeChanges(d.db, c.desired, {
      commit: c.source.commit!,
      ref: saved ? saved.ref : argv.ref,
      expectFingerprint: expect,
      allowDestroy: argv['allow-destroy'],
      maxDestroy: argv['max-destroy'],
    });
    process.stdout.write(`\nApplying ${c.source.commit!.sha.slice(0, 12)} (sync ${w.syncId}): ${summaryLine(w.plan)}\n`);
    const results = await run(deployment, w.buildIds);
    const status = await finishSync(d.db, w.syncId, results);
    const failed = [...results.values()].filter((s) => s !== 'succeeded').length;
    process.stdout.write(status === 'applied' ? color.green(`\nApply complete: ${results.size} build(s) succeeded.\n`) : color.red(`\nApply finished with ${failed} of ${results.size} build(s) not succeeded; see the log above. The next apply retries them.\n`));
    if (status !== 'applied') process.exitCode = EXIT.error;
  },
};
