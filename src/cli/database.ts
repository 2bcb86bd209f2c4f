// The options every command that needs the database takes, and opening it for a command: the pool
// and the embedded server are released when the command ends, or on Ctrl-C.
import type { Argv } from 'yargs';
import { assertSessionLevel } from '../db/pooler.ts';
import { openDatabase, type Database } from '../db/connect.ts';
import { defaultDataDir } from '../db/embedded.ts';
import { onRelease } from '../lifecycle.ts';
import { envNote, envString } from './env.ts';

export interface DatabaseArgs {
  'data-dir': string;
  'postgres-url'?: string;
}

export function databaseOptions<T>(y: Argv<T>): Argv<T & DatabaseArgs> {
  return y
    .option('data-dir', {
      type: 'string',
      default: envString('data-dir') ?? defaultDataDir(),
      defaultDescription: envString('data-dir') ? undefined : '~/.local/share/coder-git; root: /var/lib/coder-git',
      describe: `Where coder-git keeps its embedded PostgreSQL and other state${envNote('data-dir')}`,
    })
    .option('postgres-url', {
      type: 'string',
      default: envString('postgres-url'),
      describe: `An external PostgreSQL instead of the embedded one: postgres://user:password@host:5432/db${envNote('postgres-url')}`,
    }) as unknown as Argv<T & DatabaseArgs>;
}

export async function openForCommand(argv: DatabaseArgs, opts: { migrate?: boolean; sessionLevel?: boolean } = {}): Promise<Database> {
  const database = await openDatabase({ postgresUrl: argv['postgres-url'], dataDir: argv['data-dir'], migrate: opts.migrate });
  onRelease('database', database.close);
  // (the embedded server is always direct)
  if (opts.sessionLevel && !database.embedded) await assertSessionLevel(database.db, database.where);
  return database;
}
