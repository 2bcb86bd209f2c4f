// coder-git ssh / config-ssh: plain OpenSSH (and everything built on it: scp, rsync, VS Code
// Remote-SSH, JetBrains Gateway) reaching a workspace through the server and its agent.
// `ssh --stdio <workspace>` is the ProxyCommand: it carries ssh's bytes over a WebSocket.
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import WebSocket, { createWebSocketStream } from 'ws';
import { api, loadSession, refusal } from '../../client/client.ts';
import { ensureRunning } from '../../client/start-on-connect.ts';
import { parseDuration } from '../../time/duration.ts';
import { CoderGitError } from '../../errors.ts';
import { pkgPath } from '../../paths.ts';
import type { WorkspaceView } from '../../workspace-view.ts';
import { shellQuote as quote } from '../../shell.ts';

const HOST_PREFIX = 'coder.';
const BEGIN = '# ------------START-CODER-GIT------------';
const END = '# ------------END-CODER-GIT--------------';
const self = () => `${quote(process.execPath)} ${quote(pkgPath('bin', 'coder-git.js'))}`;

/** "name", "owner/name" or "coder.name" (as ssh passes %n) → owner and name. */
function target(spec: string, me: string): { owner: string; name: string } {
  const s = spec.startsWith(HOST_PREFIX) ? spec.slice(HOST_PREFIX.length) : spec;
  const [a, b] = s.includes('/') ? s.split('/', 2) : [me, s];
  if (!a || !b || !/^[a-z0-9][a-z0-9-]*$/i.test(b)) throw new CoderGitError('CG_USAGE', `${JSON.stringify(spec)}: expected NAME or OWNER/NAME`);
  return { owner: a, name: b };
}

/** The signed-in username (asked of the server when the session came from the environment). */
async function whoami(s: { url: string; token: string; username: string }): Promise<string> {
  return s.username || (await api<{ username: string }>(s.url, 'GET', '/api/v1/me', { token: s.token })).username;
}

function sshOptions(): string[] {
  // The server already authenticated the person (token, owner-only) and the agent (its token): the
  // workspace's host key is not what protects the connection, so it is not pinned.
  return ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
}

export const sshCommand: CommandModule<object, { workspace: string; command?: string[]; '--'?: string[]; stdio?: boolean; start: boolean; 'start-timeout': string }> = {
  command: 'ssh <workspace> [command..]',
  describe: 'Open a shell in a workspace, or run a command there (OpenSSH through the server)',
  builder: (y) =>
    y
      // `ssh dev -- sh -c '...'`: what follows -- is the command, options and all (as ssh and kubectl exec)
      .parserConfiguration({ 'populate--': true })
      .positional('workspace', { type: 'string', demandOption: true, describe: 'NAME (yours) or OWNER/NAME' })
      .positional('command', { type: 'string', array: true, describe: 'A command to run instead of a shell' })
      .option('stdio', { type: 'boolean', describe: 'Carry an SSH connection on stdin/stdout (the ProxyCommand of coder-git config-ssh)' })
      .option('start', { type: 'boolean', default: true, describe: 'Start the workspace first if it is stopped, and wait for its agent (--no-start: fail instead)' })
      .option('start-timeout', { type: 'string', default: '10m', describe: 'How long to wait for a starting workspace, like 10m or 90s' }) as never,
  handler: async (argv) => {
    const command = [...(argv.command ?? []), ...(argv['--'] ?? [])];
    const timeoutMs = parseDuration(argv['start-timeout']);
    if (!timeoutMs) throw new CoderGitError('CG_USAGE', `--start-timeout ${JSON.stringify(argv['start-timeout'])}: expected a duration like 10m or 90s`);
    const s = await loadSession();
    const t = target(argv.workspace, await whoami(s));
    // Before ssh (or its ProxyCommand) connects: a stopped workspace is started and waited for.
    if (argv.start) await ensureRunning(s, t.owner, t.name, { say: (m) => process.stderr.write(`${m}\n`), timeoutMs });
    if (argv.stdio) {
      const ws = new WebSocket(`${s.url.replace(/^http/, 'ws')}/api/v1/workspaces/${encodeURIComponent(t.owner)}/${encodeURIComponent(t.name)}/ssh`, { headers: { authorization: `Bearer ${s.token}` }, perMessageDeflate: false });
      ws.on('unexpected-response', (_req, res) =>
        void refusal(res).then((msg) => {
          process.stderr.write(`coder-git ssh: ${msg}\n`);
          process.exit(1);
        }),
      );
      // Closed by the server because the token it was opened with ended (revoked, user suspended).
      ws.on('close', (code, reason) => {
        if (code === 4401) process.stderr.write(`coder-git ssh: ${reason.toString()}\n`);
      });
      const stream = createWebSocketStream(ws);
      stream.on('error', (err) => {
        process.stderr.write(`coder-git ssh: ${err.message}\n`);
        process.exit(1);
      });
      stream.on('close', () => process.exit(0));
      process.stdin.pipe(stream).pipe(process.stdout);
      await new Promise(() => {});
    }
    const args = [...sshOptions(), '-o', `ProxyCommand=${self()} ssh --stdio ${quote(`${t.owner}/${t.name}`)}`, ...(command.length ? [] : ['-t']), `${HOST_PREFIX}${t.name}`, ...command];
    const code = await new Promise<number>((resolve) => {
      const c = spawn('ssh', args, { stdio: 'inherit' });
      c.on('error', () => resolve(127));
      c.on('close', (n) => resolve(n ?? 1));
    });
    process.exitCode = code;
  },
};

export function sshConfigBlock(names: string[]): string {
  const lines = [BEGIN, '# Managed by coder-git config-ssh: edits between these lines are replaced.'];
  for (const n of names) lines.push(`Host ${HOST_PREFIX}${n}`, `  ProxyCommand ${self()} ssh --stdio %n`, ...sshOptions().filter((o) => o !== '-o').map((o) => `  ${o.replace('=', ' ')}`));
  lines.push(END);
  return lines.join('\n');
}

/** config with the managed block replaced (or appended). */
export function withBlock(config: string, block: string): string {
  const a = config.indexOf(BEGIN);
  const b = config.indexOf(END);
  if (a >= 0 && b > a) return config.slice(0, a) + block + config.slice(b + END.length);
  return `${config}${config && !config.endsWith('\n') ? '\n' : ''}${config ? '\n' : ''}${block}\n`;
}

export const configSshCommand: CommandModule<object, { 'ssh-config': string; 'dry-run'?: boolean }> = {
  command: 'config-ssh',
  describe: 'Add your workspaces to ~/.ssh/config (Host coder.<name>), so ssh, scp, rsync and IDEs reach them',
  builder: (y) =>
    y
      .option('ssh-config', { type: 'string', default: path.join(os.homedir(), '.ssh', 'config'), defaultDescription: '~/.ssh/config', describe: 'The SSH config file to manage' })
      .option('dry-run', { type: 'boolean', describe: 'Show what would change, change nothing' }) as never,
  handler: async (argv) => {
    const s = await loadSession();
    const r = await api<{ workspaces: WorkspaceView[] }>(s.url, 'GET', '/api/v1/workspaces', { token: s.token });
    const me = await whoami(s);
    const mine = r.workspaces.filter((w) => w.owner === me).map((w) => w.name);
    const file = argv['ssh-config'];
    const before = await fsp.readFile(file, 'utf8').catch(() => '');
    const after = withBlock(before, sshConfigBlock(mine));
    if (after === before) {
      process.stdout.write(`${file} is up to date (${mine.length} workspace(s)).\n`);
      return;
    }
    if (argv['dry-run']) {
      const old = new Set(before.split('\n'));
      const now = new Set(after.split('\n'));
      for (const l of before.split('\n')) if (!now.has(l)) process.stdout.write(`- ${l}\n`);
      for (const l of after.split('\n')) if (!old.has(l)) process.stdout.write(`+ ${l}\n`);
      return;
    }
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fsp.writeFile(`${file}.tmp`, after, { mode: 0o600 });
    await fsp.rename(`${file}.tmp`, file);
    process.stdout.write(`Updated ${file}: ${mine.map((n) => `${HOST_PREFIX}${n}`).join(', ') || 'no workspaces'}.\n`);
  },
};
