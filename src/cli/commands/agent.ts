import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { Agent } from '../../../agent/agent.ts';
import { onRelease } from '../../lifecycle.ts';
import { VERSION } from '../../version.ts';

export const agentCommand: CommandModule<object, object> = {
  command: 'agent',
  describe: 'Run the workspace agent (started by a template with CODER_AGENT_TOKEN and CODER_AGENT_URL)',
  handler: async () => {
    const token = process.env.CODER_AGENT_TOKEN;
    const url = process.env.CODER_AGENT_URL;
    if (!token) throw new CoderGitError('CG_USAGE', 'CODER_AGENT_TOKEN is not set: the agent is started by a workspace template, which passes its build\'s token');
    if (!url || !/^https?:\/\//.test(url)) throw new CoderGitError('CG_USAGE', `CODER_AGENT_URL ${JSON.stringify(url ?? '')}: expected the server's URL, like https://coder.example.com`);
    const log = (m: string) => process.stderr.write(`${new Date().toISOString()} agent: ${m}\n`);
    // Started by this coder-git (the local template): it is as new as this install; keep running.
    const agent = new Agent({ url, token, cwd: process.cwd(), log, version: VERSION, onUpdate: () => log('restart the workspace to run the same version as the server') });
    onRelease('agent', () => agent.stop());
    agent.start();
    await new Promise(() => {}); // runs until SIGTERM releases it
  },
};
