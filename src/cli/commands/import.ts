import type { CommandModule } from 'yargs';
import { CoderGitError, EXIT } from '../../errors.ts';
import { importFromCoder } from '../../import/import.ts';

interface Args {
  dir: string;
  target?: string;
  'from-coder': string;
  'access-url': string;
  commit: boolean;
}

export const importCommand: CommandModule<object, Args> = {
  command: 'import [target]',
  describe: "Write a config repo from a Coder deployment's users, templates and workspaces (its REST API)",
  builder: (y) =>
    y
      .positional('target', { type: 'string', describe: 'Directory to create (default: --dir)' })
      .option('from-coder', { type: 'string', demandOption: true, describe: 'The Coder deployment, e.g. https://coder.example.com (token: CODER_SESSION_TOKEN)' })
      .option('access-url', { type: 'string', default: 'http://127.0.0.1:3000', describe: 'URL of the coder-git server, for coder-git.yaml' })
      .option('commit', { type: 'boolean', default: true, describe: 'git init (if needed) and commit the files' })
      .epilog('The token is an Owner\'s session or API token (coder tokens create), from CODER_SESSION_TOKEN as for the coder CLI, or CODER_GIT_CODER_TOKEN. Exit status: 0 imported and valid, 1 imported but invalid (see the errors) or Coder refused.') as never,
  handler: async (argv) => {
    const token = process.env.CODER_GIT_CODER_TOKEN || process.env.CODER_SESSION_TOKEN;
    if (!token) throw new CoderGitError('CG_USAGE', 'no Coder token: set CODER_SESSION_TOKEN to an Owner\'s session or API token (coder tokens create)');
    const say = (s: string) => process.stdout.write(`${s}\n`);
    const r = await importFromCoder({ from: argv['from-coder'], token, dir: argv.target ?? argv.dir, accessUrl: argv['access-url'], commit: argv.commit, log: say });
    say(`wrote ${r.dir}: ${r.counts.users} users, ${r.counts.templates} templates, ${r.counts.workspaces} workspaces${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}`);
    if (r.notes.length) {
      say(`\nNot carried over, or changed on the way (also in IMPORT-NOTES.md):`);
      for (const n of r.notes) say(`  - ${n}`);
    }
    if (!r.valid) {
      process.stderr.write(`\nThe imported repo does not validate yet:\n${r.errors.map((e) => `  ${e}`).join('\n')}\n`);
      process.exitCode = EXIT.error;
    } else say(`\nvalid: coder-git validate -C ${r.dir}`);
  },
};
