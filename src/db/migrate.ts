// Forward-only migrations: src/db/migrations/NNNN-name.sql, each applied in its own transaction and
// recorded in coder_git_migrations. A session-level advisory lock serialises migrating processes;
// it is taken before the bookkeeping table is even created, so two first runs cannot race on it.

import { readdirSync, readFileSync } from 'node:fs';
import { CoderGitError } from '../errors.ts';
import { pkgPath } from '../paths.ts';
import type { Db, Q } from './types.ts';

const LOCK_KEY = 0x636f6465; // "code": any constant shared by every coder-git process
const DIR = pkgPath('src', 'db', 'migrations');

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrations(): Migration[] {
  return readdirSync(DIR)
    .map((f) => /^(\d{4})-([a-z0-9-]+)\.sql$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ version: Number(m[1]), name: m[2]!, sql: readFileSync(`${DIR}/${m[0]}`, 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

export interface SchemaStatus {
  current: number;
  latest: number;
  pending: { version: number; name: string }[];
}

async function appliedVersions(t: Q): Promise<number[]> {
  const exists = await t.oneOrNone<{ t: string }>(`SELECT to_regclass('coder_git_migrations')::text AS t`);
  if (!exists?.t) return [];
  return (await t.any<{ version: number }>('SELECT version FROM coder_git_migrations ORDER BY version')).map((r) => r.version);
}

function newerError(current: number, latest: number): CoderGitError {
  return new CoderGitError('CG_DB_NEWER', `the database schema is at version ${current}, newer than this coder-git knows (${latest})`, {
    hint: 'a newer coder-git has migrated this database; upgrade coder-git (migrations only go forward)',
  });
}

export async function schemaStatus(db: Db): Promise<SchemaStatus> {
  const all = migrations();
  const applied = new Set(await appliedVersions(db));
  const current = Math.max(0, ...applied);
  return {
    current,
    latest: all.at(-1)?.version ?? 0,
    pending: all.filter((m) => !applied.has(m.version)).map(({ version, name }) => ({ version, name })),
  };
}

/** Applies what is pending; returns the versions it applied. Refuses a database newer than this code. */
export async function migrate(db: Db): Promise<number[]> {
  const all = migrations();
  const latest = all.at(-1)?.version ?? 0;
  return db.task('migrate', async (t) => {
    await t.one('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await t.none(`CREATE TABLE IF NOT EXISTS coder_git_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const applied = new Set(await appliedVersions(t));
      const current = Math.max(0, ...applied);
      if (current > latest) throw newerError(current, latest);
      const done: number[] = [];
      for (const m of all) {
        if (applied.has(m.version)) continue;
        await t.tx(`migration ${m.version}`, async (tx) => {
          await tx.none(m.sql);
          await tx.none('INSERT INTO coder_git_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        });
        done.push(m.version);
      }
      return done;
    } finally {
      await t.one('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}
