import type { CommandModule } from 'yargs';
import { CoderGitError } from '../../errors.ts';
import { buildServer } from '../../server/app.ts';
import { onRelease } from '../../lifecycle.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { envNote, envString } from '../env.ts';
import { parseListen } from '../listen.ts';
import { parseTrustedProxies } from '../../server/client-ip.ts';
import { logStream } from '../../server/log-stream.ts';

interface Args extends DatabaseArgs {
  listen: string;
  'access-url'?: string;
  'log-level': string;
  'replica-url'?: string;
  'trusted-proxies'?: string;
}

export const serverCommand: CommandModule<object, Args> = {
  command: 'server',
  describe: 'Serve the sign-in pages, the API and the agents’ WebSocket',
  builder: (y) =>
    databaseOptions(y)
      .option('listen', { type: 'string', default: envString('listen') ?? '127.0.0.1:3000', describe: `HOST:PORT to listen on (0.0.0.0:3000 for every interface)${envNote('listen')}` })
      .option('access-url', { type: 'string', default: envString('access-url'), describe: `The URL people and agents reach this server at (default: coder-git.yaml access_url)${envNote('access-url')}` })
      .option('replica-url', { type: 'string', default: envString('replica-url'), defaultDescription: 'http://HOST:PORT of --listen, unless HOST is 0.0.0.0 or ::', describe: `How the other server replicas reach this one (e.g. http://$POD_IP:3000), so terminals, SSH and port forwards work whichever replica a person or an agent reaches${envNote('replica-url')}` })
      .option('trusted-proxies', { type: 'string', default: envString('trusted-proxies'), defaultDescription: 'none', describe: `The reverse proxies or load balancers in front of this server (comma-separated addresses or CIDRs, or loopback, linklocal, uniquelocal): only their X-Forwarded-For is believed, for sign-in limits and the audit log${envNote('trusted-proxies')}` })
      .option('log-level', { type: 'string', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: envString('log-level') ?? 'info', describe: `Log level (JSON lines on stdout)${envNote('log-level')}` })
      .epilog(
        "The git webhook (POST /api/v1/webhooks/git) is on when CODER_GIT_WEBHOOK_SECRET is set; users' git SSH keys are opened with the keys in [env: CODER_GIT_ENCRYPTION_KEYS]. A secret is never a flag, so it stays out of process lists.",
      ) as never,
  handler: async (argv) => {
    const { host, port } = parseListen(argv.listen);
    if (argv['access-url'] && !/^https?:\/\/[^\s/]+/.test(argv['access-url'])) throw new CoderGitError('CG_USAGE', `--access-url ${JSON.stringify(argv['access-url'])}: expected an http:// or https:// URL`);
    const replicaUrl = argv['replica-url'] ?? (/^(0\.0\.0\.0|::|\[::\])$/.test(host) ? undefined : `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`);
    if (replicaUrl && !/^https?:\/\/[^\s/]+$/.test(replicaUrl)) throw new CoderGitError('CG_USAGE', `--replica-url ${JSON.stringify(replicaUrl)}: expected http://HOST:PORT, with no path`);
    const trustedProxies = parseTrustedProxies(argv['trusted-proxies']);
    const database = await openForCommand(argv, { sessionLevel: true });
    const app = await buildServer({ database, replicaUrl, trustedProxies, accessUrl: argv['access-url'], webhookSecret: process.env.CODER_GIT_WEBHOOK_SECRET || undefined, logger: { level: argv['log-level'], stream: logStream() } });
    onRelease('server', () => app.close());
    try {
      // A deep accept queue: thousands of agents reconnecting at once after a restart.
      await app.listen({ host, port, backlog: 4096 });
    } catch (err) {
      throw new CoderGitError('CG_IO', `cannot listen on ${argv.listen}: ${err instanceof Error ? err.message : String(err)}`);
    }
    await new Promise(() => {}); // runs until a signal releases everything
  },
};
