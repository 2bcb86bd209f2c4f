// coder-git publickey [--reset]: your git SSH key's public half, to add to GitHub, GitLab or any git
// server (README: Git SSH keys). The key itself stays in coder-git; workspaces use it through the agent.
import type { CommandModule } from 'yargs';
import { formatOptions, type FormatArgs } from '../output.ts';
import { api, loadSession } from '../../client/client.ts';

interface GitSshKey {
  public_key: string;
  fingerprint: string;
  created_at: string;
}

export const publickeyCommand: CommandModule<object, FormatArgs<'text' | 'json'> & { reset: boolean }> = {
  command: 'publickey',
  describe: 'Print your git SSH public key (add it to your git host; your workspaces sign with it)',
  builder: (y) =>
    formatOptions(y, ['text', 'json'] as const, 'text (the key on stdout, its fingerprint on stderr), or json')
      .option('reset', { type: 'boolean', default: false, describe: 'Make a new key: the old one stops working wherever it was added' })
      .example('$0 publickey >> ~/.ssh/authorized_keys', 'let your workspaces reach a machine of yours over SSH') as never,
  handler: async (argv) => {
    const s = await loadSession();
    const k = await api<GitSshKey>(s.url, argv.reset ? 'POST' : 'GET', '/api/v1/users/me/gitsshkey', { token: s.token });
    if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify(k, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${k.public_key}\n`);
    process.stderr.write(`${argv.reset ? 'New key' : 'Key'} ${k.fingerprint}, made ${k.created_at.slice(0, 10)}. Add it to your git host (GitHub: Settings → SSH and GPG keys); git in your workspaces uses it.\n`);
  },
};
