// coder-git login / logout / list: the CLI as a client of the server.
import type { CommandModule } from 'yargs';
import { formatOptions, type FormatArgs } from '../output.ts';
import { api, forgetSession, loadSession, normaliseUrl, saveSession } from '../../client/client.ts';
import { readLine, readSecret } from '../prompt.ts';
import { CoderGitError } from '../../errors.ts';
import type { WorkspaceView } from '../../workspace-view.ts';

/**
 * SSO from the terminal: wait on a loopback port, send the person's browser to the server's approval
 * page, receive the token there. The state ties the answer to this attempt.
 */
async function ssoLogin(url: string, openBrowser: boolean): Promise<string> {
  const { createServer } = await import('node:http');
  const { randomBytes } = await import('node:crypto');
  const state = randomBytes(24).toString('base64url');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const approve = `${url}/login/cli?${new URLSearchParams({ callback: `http://127.0.0.1:${port}/callback`, state })}`;
  process.stderr.write(`Open this page to sign in (it waits 5 minutes):\n  ${approve}\n`);
  if (openBrowser) {
    const { spawn } = await import('node:child_process');
    const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
    spawn(opener, [approve], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
  }
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CoderGitError('CG_AUTH', 'no answer from the browser within 5 minutes')), 300_000);
      timer.unref();
      server.on('request', (req, res) => {
        const q = new URL(req.url ?? '/', `http://127.0.0.1:${port}`).searchParams;
        if (q.get('state') !== state || !q.get('token')) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('This answer is not for this coder-git login.\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this tab and go back to the terminal.\n');
        clearTimeout(timer);
        resolve(q.get('token')!);
      });
    });
  } finally {
    server.close();
  }
}

export const loginCommand: CommandModule<object, { url: string; username?: string; sso?: boolean; browser: boolean }> = {
  command: 'login <url>',
  describe: 'Sign in to a coder-git server; the token is kept in your config dir (mode 0600)',
  builder: (y) =>
    y
      .positional('url', { type: 'string', demandOption: true, describe: 'The server, e.g. https://coder.example.com' })
      .option('username', { type: 'string', describe: 'Your username or email (asked when not given)' })
      .option('sso', { type: 'boolean', describe: 'Sign in in the browser (SSO or password there); the token comes back to this command' })
      .option('browser', { type: 'boolean', default: true, describe: 'With --sso: open the browser (--no-browser: only print the link)' })
      .epilog('The password is read from the terminal without echo, or as the first line of standard input.') as never,
  handler: async (argv) => {
    const url = normaliseUrl(argv.url);
    if (argv.sso) {
      const token = await ssoLogin(url, argv.browser);
      const me = await api<{ username: string }>(url, 'GET', '/api/v1/me', { token });
      const file = await saveSession({ url, token, username: me.username });
      process.stdout.write(`Signed in to ${url} as ${me.username} (token in ${file}).\n`);
      return;
    }
    const username = argv.username ?? (await readLine('Username or email: '));
    if (!username) throw new CoderGitError('CG_USAGE', 'a username is needed (--username or at the prompt)');
    const password = await readSecret('Password: ');
    const r = await api<{ token: string; username: string; expires_at: string }>(url, 'POST', '/api/v1/login', { body: { username, password, token_name: `cli on ${(await import('node:os')).hostname()}`.slice(0, 64).replace(/[^A-Za-z0-9 ._-]/g, '-') } });
    const file = await saveSession({ url, token: r.token, username: r.username });
    process.stdout.write(`Signed in to ${url} as ${r.username} (token in ${file}, expires ${r.expires_at.slice(0, 10)}).\n`);
  },
};

export const logoutCommand: CommandModule<object, object> = {
  command: 'logout',
  describe: 'Revoke the CLI token and forget it',
  handler: async () => {
    const s = await loadSession().catch(() => undefined);
    if (s) await api(s.url, 'POST', '/api/v1/logout', { token: s.token }).catch(() => undefined); // an expired token is gone anyway
    const had = await forgetSession();
    process.stdout.write(had || s ? 'Signed out.\n' : 'Not signed in.\n');
  },
};

export const listCommand: CommandModule<object, FormatArgs<'text' | 'json'>> = {
  command: 'list',
  describe: 'Your workspaces (every workspace for owners and auditors), from the server',
  builder: (y) => formatOptions(y, ['text', 'json'] as const, 'text, or json') as never,
  handler: async (argv) => {
    const s = await loadSession();
    const r = await api<{ workspaces: WorkspaceView[] }>(s.url, 'GET', '/api/v1/workspaces', { token: s.token });
    if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify(r.workspaces, null, 2)}\n`);
      return;
    }
    if (!r.workspaces.length) {
      process.stdout.write('No workspaces.\n');
      return;
    }
    const rows = r.workspaces.map((w) => [`${w.owner}/${w.name}`, w.template, w.scheduled_state ? `${w.scheduled_state}*` : w.desired_state, w.last_build ? `#${w.last_build.number} ${w.last_build.transition} ${w.last_build.status}` : 'never built', w.agent ? w.agent.status : '-']);
    const head = ['WORKSPACE', 'TEMPLATE', 'STATE', 'LAST BUILD', 'AGENT'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
  },
};
