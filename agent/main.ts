// The agent on its own: what the server delivers into workspaces (dist/agent.cjs, run by the Node
// binary install.sh downloads beside it). It needs nothing of coder-git but this file; its version
// is compiled in. Exit 75 (EX_TEMPFAIL) when the server runs another version: install.sh then
// fetches the server's and starts that.
import { Agent } from './agent.ts';

declare const __CODER_GIT_BUILD__: { version: string } | undefined;
const version = typeof __CODER_GIT_BUILD__ !== 'undefined' ? __CODER_GIT_BUILD__.version : 'dev';
export const EXIT_UPDATE = 75;

const log = (m: string) => process.stderr.write(`${new Date().toISOString()} agent: ${m}\n`);
const token = process.env.CODER_AGENT_TOKEN;
const url = process.env.CODER_AGENT_URL;
if (!token) {
  log("CODER_AGENT_TOKEN is not set: the workspace's template passes its build's token");
  process.exit(64);
}
if (!url || !/^https?:\/\//.test(url)) {
  log(`CODER_AGENT_URL ${JSON.stringify(url ?? '')}: expected the server's URL, like https://coder.example.com`);
  process.exit(64);
}
const agent = new Agent({
  url,
  token,
  cwd: process.cwd(),
  log,
  version,
  onUpdate: () => {
    log('updating: exiting so that install.sh fetches the server\'s version');
    void agent.stop().then(() => process.exit(EXIT_UPDATE));
  },
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    // a second signal, or a stop that hangs, still ends the process
    setTimeout(() => process.exit(sig === 'SIGTERM' ? 143 : 130), 5000).unref();
    void agent.stop().then(() => process.exit(0));
  });
}
agent.start();
