import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { builds } from '../../db/repos/builds.ts';
import { logs } from '../../db/repos/logs.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { formatOptions, type FormatArgs } from '../output.ts';

interface Args extends DatabaseArgs, FormatArgs<'text' | 'json'> {
  workspace: string;
  build?: number;
}

export const logsCommand: CommandModule<object, Args> = {
  command: 'logs <workspace>',
  describe: "Print a build's whole Terraform log from the database (the latest build unless --build)",
  builder: (y) =>
    formatOptions(databaseOptions(y), ['text', 'json'] as const, 'text, or json (the build and its lines)')
      .positional('workspace', { type: 'string', describe: 'owner/name' })
      .option('build', { type: 'number', describe: 'The build number (see coder-git status)' }) as never,
  handler: async (argv) => {
    const m = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(argv.workspace);
    if (!m) throw new CoderGitError('CG_USAGE', `${JSON.stringify(argv.workspace)}: name a workspace as owner/name, e.g. alice/dev`);
    if (argv.build !== undefined && !(Number.isInteger(argv.build) && argv.build > 0)) throw new CoderGitError('CG_USAGE', `--build ${argv.build}: a build number is a positive integer`);
    const { db } = await openForCommand(argv);
    const b = await builds.byNumber(db, m[1]!, m[2]!, argv.build ?? null);
    if (!b) throw new CoderGitError('CG_NOT_FOUND', `${argv.workspace} has no build${argv.build ? ` #${argv.build}` : 's'}`);
    const lines: { stream: string; line: string; at: Date }[] = [];
    for (let after = '0'; ; ) {
      const page = await logs.read(db, b.id, after, 5000);
      lines.push(...page);
      if (page.length < 5000) break;
      after = page.at(-1)!.id;
    }
    if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify({ build: b, lines }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`# ${argv.workspace} build #${b.build_number} ${b.transition} ${b.status}${b.error ? `: ${b.error}` : ''}\n`);
    for (const l of lines) process.stdout.write(`${l.line}\n`);
  },
};
