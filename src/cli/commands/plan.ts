import type { CommandModule } from 'yargs';
import { ANSI, PLAIN, formatValidation, markdownValidation } from '../../config/format.ts';
import { EXIT } from '../../errors.ts';
import { makePlan } from '../../apply/apply.ts';
import { driverFor, loadCommit, savePlan } from '../../apply/session.ts';
import { hasChanges } from '../../plan/diff.ts';
import { PLAN_FORMATS, renderPlan, type PlanFormat } from '../../plan/render.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envNote, envString } from '../env.ts';
import { jsonOption, useColor } from '../output.ts';

interface Args extends DatabaseArgs {
  dir: string;
  ref: string;
  format: PlanFormat;
  out?: string;
  'detailed-exitcode': boolean;
  terraform: boolean;
  color?: boolean;
}

export const planCommand: CommandModule<object, Args> = {
  command: 'plan',
  describe: 'Show what applying a commit would change: users, templates, workspaces and their builds',
  builder: (y) =>
    jsonOption(
      databaseOptions(y)
        .option('ref', { type: 'string', default: envString('ref') ?? 'HEAD', describe: `The commit to plan (branch, tag, SHA)${envNote('ref')}` })
        .option('format', { choices: PLAN_FORMATS, default: (envString('format') ?? 'text') as PlanFormat, describe: `text, markdown (for pull-request comments) or json${envNote('format')}` }),
    )
      .option('out', { type: 'string', describe: 'Save the plan to this file, for coder-git apply FILE' })
      .option('terraform', { type: 'boolean', default: true, describe: 'Run terraform plan for each workspace that would build (--no-terraform: metadata only, fast)' })
      .option('detailed-exitcode', { type: 'boolean', default: false, describe: 'Exit 0 without changes, 2 with changes (1 on errors), as terraform plan does' })
      .epilog('Exit status: 0 success (with --detailed-exitcode: no changes), 2 changes (--detailed-exitcode), 1 invalid commit or plan errors, 64 usage error.') as never,
  handler: async (argv) => {
    const c = await loadCommit(argv.dir, argv.ref);
    if (!c.desired) {
      // Invalid: the errors in the format asked for, so a pull-request comment shows them.
      if (argv.format === 'markdown') process.stdout.write(markdownValidation('coder-git plan', c.source, c.result));
      else process.stdout.write(formatValidation(argv.format === 'json' ? 'json' : 'text', c.source, c.result, useColor(argv.color) ? ANSI : PLAIN));
      process.exitCode = EXIT.error;
      return;
    }
    const d = await openForCommand(argv);
    const tf = argv.terraform ? { driver: driverFor(c.desired.deployment, argv['data-dir']), parallelism: c.desired.deployment.terraform.parallelism } : undefined;
    const { plan, fingerprint } = await makePlan(d.db, c.desired, tf);
    process.stdout.write(renderPlan(argv.format, plan, useColor(argv.color) && argv.format === 'text' ? ANSI : PLAIN));
    if (plan.errors.length) {
      // As terraform: a plan with errors is not saved, so nothing can apply it.
      if (argv.out) process.stderr.write(`coder-git: the plan has ${plan.errors.length} error(s); no plan saved to ${argv.out}\n`);
      process.exitCode = EXIT.error;
      return;
    }
    if (argv.out) await savePlan(argv.out, { commit: c.source.commit!.sha, ref: argv.ref, fingerprint, plan });
    if (argv['detailed-exitcode'] && hasChanges(plan)) process.exitCode = EXIT.changes;
  },
};
