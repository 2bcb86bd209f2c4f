// The database adapter's front door: one pg-promise database object per process, made here and
// nowhere else, never at import time. Chooses the external PostgreSQL (--postgres-url) or the
// embedded one (--data-dir), migrates on open, and knows how to close both in the right order.

import pgPromise, { type IMain } from 'pg-promise';
import { CoderGitError } from '../errors.ts';
import { APP_NAME, startEmbedded, type EmbeddedServer } from './embedded.ts';
import { migrate } from './migrate.ts';
import { sslPlan, worthAnotherTry, type SslOptions } from './ssl.ts';

export type { Db, Q } from './types.ts';
import type { Db } from './types.ts';
/** Anything that runs queries: the database, a task or a transaction. */

export interface DatabaseOptions {
  /** an external PostgreSQL; without it, the embedded one in dataDir */
  postgresUrl?: string | undefined;
  dataDir: string;
  /** apply pending migrations on open (default true) */
  migrate?: boolean;
  /** pool size (default 10) */
  max?: number;
}

export interface Database {
  db: Db;
  pgp: IMain;
  /** where it is, without the password */
  where: string;
  /** the full URL, password included (for `coder-git db url`) */
  url: string;
  /**
   * the URL for the processes this one starts (a build's own process): when a plain connection was
   * what worked here, it says sslmode=disable, so they connect at once instead of trying TLS first
   */
  childUrl: string;
  embedded: EmbeddedServer | undefined;
  close(): Promise<void>;
}

let pgp: IMain | undefined;
let queries = 0;

/** How many queries this process has sent (for tests and benchmarks: "a handful, never one per object"). */
export function queryCount(): number {
  return queries;
}

/** One pg-promise instance per process (pg-promise warns about more). */
function main(): IMain {
  pgp ??= pgPromise({
    capSQL: true,
    query() {
      queries++;
    },
    // Connections that die while idle (a restarted server) are dropped by the pool and replaced on
    // the next query; the query in flight fails with its own error, which callers report.
    error() {},
  });
  return pgp;
}

function withSslmode(url: string, mode: string): string {
  const u = new URL(url);
  u.searchParams.set('sslmode', mode);
  return u.toString();
}

/** postgres://user@host:port/db — never the password. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return '(an unparsable URL)';
  }
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let url: string;
  if (opts.postgresUrl) {
    try {
      new URL(opts.postgresUrl);
    } catch {
      throw new CoderGitError('CG_USAGE', `--postgres-url: not a URL; expected postgres://user:password@host:5432/database`);
    }
    url = opts.postgresUrl;
  } else {
    embedded = await startEmbedded({ dataDir: opts.dataDir });
    url = embedded.url;
  }
  const where = embedded ? `embedded PostgreSQL in ${embedded.dataDir} (${redact(url)})` : redact(url);
  // TLS as libpq does it (src/db/ssl.ts); the embedded server listens on 127.0.0.1 without TLS.
  const plan = sslPlan(url, embedded ? 'disable' : 'prefer');
  const pool = (ssl: false | SslOptions) =>
    main()({
      connectionString: plan.connectionString,
      ssl,
      application_name: APP_NAME,
      max: opts.max ?? 10,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      idleTimeoutMillis: 30_000,
    });
  let connected: Db | undefined;
  let childUrl = url;
  for (const [i, ssl] of plan.tries.entries()) {
    const tried = pool(ssl);
    try {
      await tried.one('SELECT 1 AS ok');
      connected = tried;
      if (ssl === false) childUrl = withSslmode(url, 'disable');
      break;
    } catch (cause) {
      await tried.$pool.end().catch(() => undefined);
      if (i < plan.tries.length - 1 && worthAnotherTry(cause)) continue;
      await embedded?.release();
      // The driver's own error is not chained: describePgError has said what it means, without
      // anything from the connection string.
      const tlsSaid = /SSL|TLS|certificate/i.test((cause as Error)?.message ?? '');
      throw new CoderGitError('CG_DB', `cannot connect to ${where}${tlsSaid ? ` (sslmode=${plan.mode})` : ''}: ${describePgError(cause)}`, {
        hint: opts.postgresUrl ? 'check host, port, user, password, database and sslmode in --postgres-url (or CODER_GIT_POSTGRES_URL)' : undefined,
      });
    }
  }
  const db = connected!;
  const close = async () => {
    // pg-pool's end() resolves before its idle connections have finished closing, and pg-promise
    // stops listening for the pool's errors then: a connection terminated meanwhile (the database
    // restarting or dropped) would otherwise be an unhandled 'error' that ends the process.
    db.$pool.on('error', () => undefined);
    await db.$pool.end().catch(() => undefined);
    await embedded?.release();
  };
  if (opts.migrate !== false) {
    try {
      await migrate(db);
    } catch (err) {
      await close();
      throw err;
    }
  }
  return { db, pgp: main(), where, url, childUrl, embedded, close };
}

/** A driver error as one line, with nothing from the connection string in it. */
export function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const byCode: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is PostgreSQL running there?)',
    ENOTFOUND: 'host not found',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    '28P01': 'password authentication failed',
    '28000': 'not allowed to connect (pg_hba.conf)',
    '3D000': 'the database does not exist',
    '57P03': 'the server is starting up or shutting down',
  };
  if (e?.code && byCode[e.code]) return byCode[e.code]!;
  const msg = (e?.message ?? String(err)).split('\n')[0]!;
  return msg.replace(/postgres(ql)?:\/\/[^\s]*/g, (m) => redact(m));
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03']);

/**
 * A lost or refused database connection met in the middle of a command, as a CG_DB error (so the
 * CLI says what happened instead of reporting a bug); anything else, undefined.
 */
export function asDatabaseError(err: unknown): CoderGitError | undefined {
  if (err instanceof CoderGitError) return undefined;
  const e = err as { code?: unknown; message?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined; // (some errors carry a number)
  const lost = /Connection terminated|connection error|terminating connection/i.test(e?.message ?? '');
  if (!(code && (CONNECTION_CODES.has(code) || code.startsWith('08'))) && !lost) return undefined;
  return new CoderGitError('CG_DB', `the database connection failed: ${describePgError(err)}`, {
    hint: 'nothing was committed by the failed operation; run the command again once PostgreSQL is reachable',
  });
}

/**
 * The database refused an operation for want of a privilege (42501): which one, and how to grant it,
 * as a CG_DB error, instead of a trace; anything else, undefined.
 */
export function asPermissionError(err: unknown): CoderGitError | undefined {
  if (err instanceof CoderGitError || (err as { code?: string })?.code !== '42501') return undefined;
  const msg = (err as Error).message.split('\n')[0]!;
  const schema = /permission denied for schema (\S+)/.exec(msg)?.[1];
  return new CoderGitError('CG_DB', `the database refused: ${msg}`, {
    hint: schema
      ? `the role in --postgres-url needs to create tables there: GRANT USAGE, CREATE ON SCHEMA ${schema} TO <role> (since PostgreSQL 15 only the database owner may by default), or make the role the database's owner (ALTER DATABASE <db> OWNER TO <role>)`
      : "coder-git's role must own the tables it made: use the role that ran `coder-git db migrate`, or make it the database's owner",
  });
}
