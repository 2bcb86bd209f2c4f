import type { CommandModule } from 'yargs';
import { CoderGitError, EXIT } from '../../errors.ts';
import { ANSI, PLAIN } from '../../config/format.ts';
import { applyCommit } from '../../../runner/apply.ts';
import { buildOptions, type BuildArgs } from '../build-options.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envNote, envString } from '../env.ts';
import { formatOptions, useColor, type FormatArgs } from '../output.ts';
import { readLine } from '../prompt.ts';
import { keyringFromEnv } from '../../auth/secret-box.ts';

interface Args extends DatabaseArgs, BuildArgs, FormatArgs<'text' | 'json'> {
  dir: string;
  planfile?: string;
  ref: string;
  'auto-approve': boolean;
  parallelism?: number;
  'allow-destroy': boolean;
  'max-destroy': number;
  'allow-older': boolean;
  verbose: boolean;
  color?: boolean;
}

export const applyCommand: CommandModule<object, Args> = {
  command: 'apply [planfile]',
  describe: 'Apply a commit (or a saved plan): metadata in one transaction, then the workspace builds',
  builder: (y) =>
    formatOptions(buildOptions(databaseOptions(y)), ['text', 'json'] as const, 'text, or json: the outcome, the plan and every build as one JSON document on stdout (the text goes to stderr)')
      .positional('planfile', { type: 'string', describe: 'A plan saved with coder-git plan --out; refused if stale' })
      .option('ref', { type: 'string', default: envString('ref') ?? 'HEAD', describe: `The commit to apply, without a plan file${envNote('ref')}` })
      .option('auto-approve', { type: 'boolean', default: false, describe: 'Do not ask for confirmation (needed when not on a terminal)' })
      .option('parallelism', { type: 'number', describe: 'Builds at once (default: terraform.parallelism in coder-git.yaml, 4)' })
      .option('allow-destroy', { type: 'boolean', default: false, describe: 'Allow a plan that destroys more workspaces than --max-destroy' })
      .option('max-destroy', { type: 'number', default: 5, describe: 'The mass-destroy guard: more destroys than this need --allow-destroy' })
      .option('allow-older', { type: 'boolean', default: false, describe: 'Apply a commit even when a newer one that contains it is applied already (going back)' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: "Print Terraform's output as it runs (it is always in the build log: coder-git logs)" })
      .epilog('Exit status: 0 applied (or nothing to do), 1 invalid commit, refused plan or a failed build, 64 usage error.') as never,
  handler: async (argv) => {
    const json = argv.format === 'json';
    const out = json ? process.stderr : process.stdout;
    keyringFromEnv(); // (a malformed key is a usage error before anything is read or written)
    const d = await openForCommand(argv);
    const r = await applyCommit({
      db: d.db,
      databaseUrl: d.childUrl,
      dir: argv.dir,
      dataDir: argv['data-dir'],
      ref: argv.ref,
      planfile: argv.planfile,
      allowDestroy: argv['allow-destroy'],
      maxDestroy: argv['max-destroy'],
      allowOlder: argv['allow-older'],
      parallelism: argv.parallelism,
      agentCommand: argv['agent-command'],
      leaseSeconds: Number(process.env.CODER_GIT_BUILD_LEASE_SECONDS ?? 60),
      verbose: argv.verbose,
      color: useColor(argv.color, out) ? ANSI : PLAIN,
      write: (s) => out.write(s),
      live: Boolean(out.isTTY),
      confirm: argv['auto-approve']
        ? undefined
        : async () => {
            if (!process.stdin.isTTY) throw new CoderGitError('CG_USAGE', 'apply asks for confirmation on a terminal; elsewhere (CI) pass --auto-approve');
            return (await readLine("\nApply these changes? Only 'yes' is accepted: ")).trim() === 'yes';
          },
    });
    if (json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    if (r.status === 'invalid' || r.status === 'failed' || r.status === 'cancelled') process.exitCode = EXIT.error;
  },
};
