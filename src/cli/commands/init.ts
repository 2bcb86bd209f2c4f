import type { CommandModule } from 'yargs';
import { BUILTIN_TEMPLATES, initRepo } from '../../init.ts';

interface Args {
  target?: string;
  dir: string;
  admin: string;
  'admin-email': string;
  workspace: string;
  template: string[];
  'access-url': string;
  commit: boolean;
}

export const initCommand: CommandModule<object, Args> = {
  command: 'init [target]',
  describe: 'Create a new config repo: coder-git.yaml, the local template, an owner, a workspace, CI pipelines',
  builder: (y) =>
    y
      .positional('target', { type: 'string', describe: 'Directory to create (default: --dir)' })
      .option('admin', { type: 'string', default: 'admin', describe: 'Username of the first owner' })
      .option('admin-email', { type: 'string', default: 'admin@example.com', describe: "The owner's email" })
      .option('workspace', { type: 'string', default: 'dev', describe: "Name of the owner's first workspace" })
      .option('template', { type: 'array', string: true, default: ['local'], describe: `Built-in templates to copy (${BUILTIN_TEMPLATES.join(', ')}); local is always copied` })
      .option('access-url', { type: 'string', default: 'http://127.0.0.1:3000', describe: 'URL of the coder-git server' })
      .option('commit', { type: 'boolean', default: true, describe: 'git init (if needed) and commit the new files' }) as never,
  handler: async (argv) => {
    const r = await initRepo({
      dir: argv.target ?? argv.dir,
      admin: argv.admin,
      adminEmail: argv['admin-email'],
      workspace: argv.workspace,
      templates: argv.template,
      accessUrl: argv['access-url'],
      commit: argv.commit,
    });
    process.stdout.write(`Created config repo ${r.dir}${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}:\n`);
    for (const f of r.files) process.stdout.write(`  ${f}\n`);
    process.stdout.write(
      `\nThe first workspace uses the local template: a folder on the runner's machine whose shell runs as the runner's user (as nobody when the runner is root; run_as in coder-git.yaml). ` +
        `That is for one person on their own machine; for anyone else use the sandbox template (--template sandbox) or a container, pod or VM template.\n`,
    );
    process.stdout.write(`\nNext: cd ${r.dir} && coder-git validate\n`);
  },
};
