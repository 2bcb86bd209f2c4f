// coder-git port-forward <workspace> --tcp LOCAL:REMOTE: a local port that reaches a port inside a
// workspace through the server and its agent (src/server/relay.ts). Nothing in the workspace is
// exposed to the network.
import net from 'node:net';
import type { CommandModule } from 'yargs';
import WebSocket, { createWebSocketStream } from 'ws';
import { loadSession, refusal } from '../../client/client.ts';
import { CoderGitError } from '../../errors.ts';

interface Args {
  workspace: string;
  tcp: string[];
}

export const portForwardCommand: CommandModule<object, Args> = {
  command: 'port-forward <workspace>',
  describe: 'Forward local TCP ports to ports inside a workspace, through the server',
  builder: (y) =>
    y
      .positional('workspace', { type: 'string', demandOption: true, describe: 'NAME (yours) or OWNER/NAME' })
      .option('tcp', { type: 'string', array: true, demandOption: true, describe: 'LOCAL:REMOTE, e.g. 8080:3000 (repeatable)' }) as never,
  handler: async (argv) => {
    const s = await loadSession();
    const [owner, name] = argv.workspace.includes('/') ? argv.workspace.split('/', 2) : [s.username, argv.workspace];
    if (!owner || !name) throw new CoderGitError('CG_USAGE', `${JSON.stringify(argv.workspace)}: expected NAME or OWNER/NAME`);
    const pairs = argv.tcp.map((t) => {
      const m = /^(?:(\d{1,5}):)?(\d{1,5})$/.exec(t);
      const [local, remote] = [Number(m?.[1] ?? m?.[2]), Number(m?.[2])];
      if (!m || local < 1 || local > 65535 || remote < 1 || remote > 65535) throw new CoderGitError('CG_USAGE', `--tcp ${JSON.stringify(t)}: expected LOCAL:REMOTE ports, like 8080:3000`);
      return { local, remote };
    });
    const base = s.url.replace(/^http/, 'ws');
    for (const { local, remote } of pairs) {
      const server = net.createServer((socket) => {
        const ws = new WebSocket(`${base}/api/v1/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/tcp/${remote}`, { headers: { authorization: `Bearer ${s.token}` }, perMessageDeflate: false });
        ws.on('unexpected-response', (_req, res) =>
          void refusal(res).then((msg) => {
            process.stderr.write(`port ${local} → ${remote}: ${msg}\n`);
            socket.destroy();
          }),
        );
        ws.on('close', (code, reason) => {
          if (code === 4004 || code === 4401) process.stderr.write(`port ${local} → ${remote}: ${reason.toString() || 'the agent could not open the port'}\n`);
        });
        const stream = createWebSocketStream(ws);
        stream.on('error', () => socket.destroy());
        socket.on('error', () => stream.destroy());
        socket.pipe(stream).pipe(socket);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) => reject(new CoderGitError('CG_IO', `cannot listen on 127.0.0.1:${local}: ${err.message}`)));
        server.listen(local, '127.0.0.1', () => resolve());
      });
      process.stdout.write(`Forwarding 127.0.0.1:${local} → ${owner}/${name}:${remote}\n`);
    }
    await new Promise(() => {}); // until Ctrl-C (the listening sockets keep the process alive)
  },
};
