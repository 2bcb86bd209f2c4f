import type { CommandModule } from 'yargs';
import { hashPassword } from '../../auth/password.ts';
import { CoderGitError } from '../../errors.ts';
import { readSecret } from '../prompt.ts';

export const MIN_PASSWORD_LENGTH = 8;

export const hashPasswordCommand: CommandModule = {
  command: 'hash-password',
  describe: 'Print a password hash for password_hash in users/*.yaml (asks twice; or reads a line from stdin)',
  handler: async () => {
    const password = await readSecret('Password: ');
    if (process.stdin.isTTY && (await readSecret('Again: ')) !== password) throw new CoderGitError('CG_USAGE', 'the two passwords differ');
    if (password.length < MIN_PASSWORD_LENGTH) throw new CoderGitError('CG_USAGE', `the password is shorter than ${MIN_PASSWORD_LENGTH} characters`);
    process.stdout.write(`${await hashPassword(password)}\n`);
  },
};
