// Options every command that runs builds takes (apply, runner).
import type { Argv } from 'yargs';
import { defaultAgentCommand } from '../terraform/contract.ts';
import { envNote, envString } from './env.ts';

export interface BuildArgs {
  'agent-command': string;
}

export function buildOptions<T>(y: Argv<T>): Argv<T & BuildArgs> {
  return y.option('agent-command', {
    type: 'string',
    default: envString('agent-command') ?? defaultAgentCommand(),
    defaultDescription: 'this coder-git\'s "agent" command',
    describe: `How workspaces start the agent (coder_agent_command); "" for none${envNote('agent-command')}`,
  }) as unknown as Argv<T & BuildArgs>;
}
