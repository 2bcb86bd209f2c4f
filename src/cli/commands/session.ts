// coder-git login / logout / list: the CLI as a client of the server.
import type { CommandModule } from 'yargs';
import { api, forgetSession, loadSession, normaliseUrl, saveSession } from '../../client/client.ts';
import { readLine, readSecret } from '../prompt.ts';
import { CoderGitError } from '../../errors.ts';
import type { WorkspaceView } from '../../workspace-view.ts';

export const loginCommand: CommandModule<object, { url: string; username?: string }> = {
  command: 'login <url>',
  describe: 'Sign in to a coder-git server; the token is kept in your config dir (mode 0600)',
  builder: (y) =>
    y
      .positional('url', { type: 'string', demandOption: true, describe: 'The server, e.g. https://coder.example.com' })
      .option('username', { type: 'string', describe: 'Your username or email (asked when not given)' })
      .epilog('The password is read from the terminal without echo, or as the first line of standard input.') as never,
  handler: async (argv) => {
    const url = normaliseUrl(argv.url);
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

export const listCommand: CommandModule<object, { json?: boolean }> = {
  command: 'list',
  describe: 'Your workspaces (every workspace for owners and auditors), from the server',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'Print JSON' }) as never,
  handler: async (argv) => {
    const s = await loadSession();
    const r = await api<{ workspaces: WorkspaceView[] }>(s.url, 'GET', '/api/v1/workspaces', { token: s.token });
    if (argv.json) {
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
