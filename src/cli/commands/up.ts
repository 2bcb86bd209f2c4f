import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { onRelease, setShutdownBudget } from '../../lifecycle.ts';
import { up } from '../../up.ts';
import { buildOptions, type BuildArgs } from '../build-options.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envNote, envString } from '../env.ts';
import { parseListen } from '../listen.ts';

interface Args extends DatabaseArgs, BuildArgs {
  repo?: string;
  listen: string;
}

export const upCommand: CommandModule<object, Args> = {
  command: 'up',
  describe: 'Run everything on this machine: database, server and a runner (a demo config repo unless --repo)',
  builder: (y) =>
    buildOptions(databaseOptions(y))
      .option('repo', { type: 'string', default: envString('repo'), describe: `A local config repo to follow (default: a demo repo made in the data dir)${envNote('repo')}` })
      .option('listen', { type: 'string', default: envString('listen') ?? '127.0.0.1:3000', describe: `HOST:PORT for the server${envNote('listen')}` }) as never,
  handler: async (argv) => {
    const { host, port } = parseListen(argv.listen);
    if (argv.repo && /^[a-z][a-z0-9+.-]*:\/\/|^git@/i.test(argv.repo)) throw new CoderGitError('CG_USAGE', `--repo ${JSON.stringify(argv.repo)}: up follows a local repository (for a remote one, run coder-git server and coder-git runner)`);
    const database = await openForCommand(argv);
    const say = (s: string) => process.stdout.write(`${s}\n`);
    // Registered before anything starts (released before the database): a Ctrl-C during start-up
    // stops local workspaces, the runner and the server as far as they got.
    let stop: (() => Promise<void>) | undefined;
    onRelease('up', async () => stop?.());
    setShutdownBudget(180_000);
    let u;
    try {
      u = await up({ database, dataDir: argv['data-dir'], repo: argv.repo, host, port, agentCommand: argv['agent-command'], log: (s) => say(`${new Date().toISOString()} ${s}`), onStoppable: (s) => (stop = s) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CoderGitError('CG_IO', `cannot listen on ${argv.listen}: something else uses it (choose another with --listen)`);
      throw err;
    }
    say('');
    say(`coder-git is up at ${u.url}`);
    if (u.admin) {
      say(`  Sign in:  ${u.url}/login   username ${u.admin.username}   password ${u.admin.password}`);
      say(`            (the generated password is also in ${u.admin.file}; set your own in users/admin.yaml)`);
    } else say(`  Sign in:  ${u.url}/login with a user of your config repo`);
    say(`  Config:   ${u.repo} — commit there; the runner applies each commit`);
    say('  Ctrl-C stops everything.');
    say('');
    await new Promise(() => {}); // until Ctrl-C releases everything
  },
};
