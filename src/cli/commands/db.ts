import type { CommandModule } from 'yargs';
import { migrate, schemaStatus } from '../../db/migrate.ts';
import { stopEmbedded } from '../../db/embedded.ts';
import { server as pgServer } from '../../db/repos/server.ts';
import { databaseOptions, openForCommand, type DatabaseArgs } from '../database.ts';
import { formatOptions, type FormatArgs } from '../output.ts';
import { ENCRYPTION_KEYS_ENV, keyringFromEnv } from '../../auth/secret-box.ts';
import { rotateGitSshKeys } from '../../auth/git-ssh.ts';
import { CoderGitError } from '../../errors.ts';
import { plural } from '../../plural.ts';

type Args = DatabaseArgs & Partial<FormatArgs<'text' | 'json'>>;

const migrateCommand: CommandModule<object, Args> = {
  command: 'migrate',
  describe: 'Apply pending schema migrations (every command does this when needed)',
  builder: (y) => databaseOptions(y) as never,
  handler: async (argv) => {
    const d = await openForCommand(argv, { migrate: false });
    const applied = await migrate(d.db);
    const s = await schemaStatus(d.db);
    process.stdout.write(applied.length ? `applied ${applied.length} migration(s); schema version ${s.current}\n` : `up to date; schema version ${s.current}\n`);
  },
};

const statusCommand: CommandModule<object, Args> = {
  command: 'status',
  describe: 'Show where the database is, its schema version and pending migrations',
  builder: (y) => formatOptions(databaseOptions(y), ['text', 'json'] as const, 'text, or json') as never,
  handler: async (argv) => {
    const d = await openForCommand(argv, { migrate: false });
    const s = await schemaStatus(d.db);
    const version = await pgServer.version(d.db);
    const out = { database: d.where, embedded: d.embedded !== undefined, server_version: version, schema_version: s.current, latest_version: s.latest, pending: s.pending };
    if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `database:       ${out.database}\nserver:         PostgreSQL ${version}\nschema version: ${s.current} (this coder-git: ${s.latest})\n` +
        `pending:        ${s.pending.length ? s.pending.map((p) => `${p.version}-${p.name}`).join(', ') : 'none'}\n`,
    );
  },
};

const urlCommand: CommandModule<object, Args> = {
  command: 'url',
  describe: 'Print the database URL (for psql); starts the embedded PostgreSQL and leaves it running',
  builder: (y) => databaseOptions(y) as never,
  handler: async (argv) => {
    const d = await openForCommand(argv);
    if (d.embedded) {
      // Keep it running for psql: detach this process's use without stopping the server.
      d.embedded.release = async () => {};
      process.stderr.write(`the embedded PostgreSQL keeps running; stop it with: coder-git db stop --data-dir ${d.embedded.dataDir}\n`);
    }
    process.stdout.write(`${d.url}\n`);
  },
};

const stopCommand: CommandModule<object, Args> = {
  command: 'stop',
  describe: 'Stop the embedded PostgreSQL (a fast shutdown), even while others use it',
  builder: (y) => databaseOptions(y) as never,
  handler: async (argv) => {
    const stopped = await stopEmbedded(argv['data-dir']);
    process.stdout.write(stopped ? 'stopped\n' : 'not running\n');
  },
};

const rotateKeysCommand: CommandModule<object, Args> = {
  command: 'rotate-keys',
  describe: `Re-encrypt every secret kept in the database (users' git SSH keys) with the first key of ${ENCRYPTION_KEYS_ENV}`,
  builder: (y) => databaseOptions(y).epilog(`Put the new key first in ${ENCRYPTION_KEYS_ENV} and keep the old ones after it; once this is done, the old ones can go.`) as never,
  handler: async (argv) => {
    const ring = keyringFromEnv();
    if (!ring) throw new CoderGitError('CG_USAGE', `${ENCRYPTION_KEYS_ENV} is not set: give the new key first, then the old ones, comma-separated`);
    const d = await openForCommand(argv);
    // (one transaction: either every secret is under the new key or none moved)
    const n = await d.db.tx((t) => rotateGitSshKeys(t, ring));
    process.stdout.write(`re-encrypted ${plural(n, 'git SSH key')} with key ${ring.current}\n`);
  },
};

export const dbCommand: CommandModule = {
  command: 'db <command>',
  describe: 'The state database: migrate, status, url, stop, rotate-keys',
  builder: (y) => y.command(migrateCommand).command(statusCommand).command(urlCommand).command(stopCommand).command(rotateKeysCommand).demandCommand(1, 'Name a db command: migrate, status, url, stop or rotate-keys'),
  handler: () => {},
};
