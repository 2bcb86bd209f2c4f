// The coder-git command line: parses flags and calls the library. Every command lives in
// commands/; errors reach the one handler at the bottom, which maps them to exit codes.

import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CoderGitError, describeError, EXIT, exitCodeFor } from '../errors.ts';
import { validateCommand } from './commands/validate.ts';
import { checkCommand, codeownersCommand } from './commands/check.ts';
import { initCommand } from './commands/init.ts';
import { schemaCommand } from './commands/schema.ts';
import { hashPasswordCommand } from './commands/hash-password.ts';
import { dbCommand } from './commands/db.ts';
import { planCommand } from './commands/plan.ts';
import { applyCommand } from './commands/apply.ts';
import { buildProcessCommand, runnerCommand } from './commands/runner.ts';
import { upCommand } from './commands/up.ts';
import { commentCommand } from './commands/comment.ts';
import { importCommand } from './commands/import.ts';
import { statusCommand } from './commands/status.ts';
import { serverCommand } from './commands/server.ts';
import { listCommand, loginCommand, logoutCommand } from './commands/session.ts';
import { publickeyCommand } from './commands/publickey.ts';
import { agentCommand } from './commands/agent.ts';
import { portForwardCommand } from './commands/port-forward.ts';
import { configSshCommand, sshCommand } from './commands/ssh.ts';
import { versionCommand } from './commands/version.ts';
import { logsCommand } from './commands/logs.ts';
import { installSignalHandlers, releaseAll } from '../lifecycle.ts';
import { asDatabaseError, asPermissionError } from '../db/connect.ts';
import { envBoolean, envNote, envString } from './env.ts';

import { VERSION } from '../version.ts';

export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName('coder-git')
    .usage('$0 <command> [options]\n\nGitOps for remote development workspaces: templates, users and workspaces live in a git repo.')
    .option('dir', {
      alias: 'C',
      type: 'string',
      default: envString('dir') ?? '.',
      defaultDescription: envString('dir') ? undefined : 'the current directory',
      describe: `Config repo directory${envNote('dir')}`,
      global: true,
    })
    .option('color', {
      type: 'boolean',
      default: envBoolean('color'),
      describe: `Colour output (default: when stdout is a terminal and NO_COLOR is unset)${envNote('color')}`,
      global: true,
    })
    .command(validateCommand)
    .command(checkCommand)
    .command(codeownersCommand)
    .command(initCommand)
    .command(importCommand)
    .command(schemaCommand)
    .command(hashPasswordCommand)
    .command(planCommand)
    .command(applyCommand)
    .command(commentCommand)
    .command(upCommand)
    .command(runnerCommand)
    .command(buildProcessCommand)
    .command(statusCommand)
    .command(logsCommand)
    .command(serverCommand)
    .command(loginCommand)
    .command(logoutCommand)
    .command(listCommand)
    .command(publickeyCommand)
    .command(sshCommand)
    .command(configSshCommand)
    .command(portForwardCommand)
    .command(agentCommand)
    .command(dbCommand)
    .command(versionCommand)
    .completion('completion', 'Print a shell completion script (bash, zsh): source <(coder-git completion)')
    .demandCommand(1, 'Name a command; see coder-git --help')
    .recommendCommands()
    .strict()
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .wrap(100)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new CoderGitError('CG_USAGE', msg);
    });
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  installSignalHandlers();
  try {
    await buildCli(argv).parseAsync();
    await releaseAll();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (caught) {
    await releaseAll();
    const err = asDatabaseError(caught) ?? asPermissionError(caught) ?? caught;
    const code = exitCodeFor(err);
    process.stderr.write(`coder-git: ${describeError(err)}\n`);
    if (err instanceof CoderGitError && err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (code === EXIT.usage) process.stderr.write('See coder-git --help.\n');
    if (code === EXIT.internal && err instanceof Error) process.stderr.write(`This is a bug in coder-git; please report it with this trace:\n${err.stack}\n`);
    return code;
  }
}
