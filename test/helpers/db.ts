// A fresh database per test file, cloned from a migrated template database (CREATE DATABASE …
// TEMPLATE), on a real embedded PostgreSQL. `npm test` starts one server for the whole run and
// passes its admin URL in CODER_GIT_TEST_PG; a test file run on its own starts its own.

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/connect.ts';
import { startEmbedded, stopEmbedded, type EmbeddedServer } from '../../src/db/embedded.ts';

export const TEMPLATE_DB = 'coder_git_template';

/** A data dir the postgres user can reach when the tests run as root (mkdtemp makes 0700 folders). */
export function pgDataDir(prefix = 'coder-git-pg-'): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(d, 0o711);
  return d;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function admin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl, application_name: 'coder-git-test' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates and migrates the template database on a server (once per run). */
export async function prepareTemplate(adminUrl: string): Promise<void> {
  await admin(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  const d = await openDatabase({ postgresUrl: withDatabase(adminUrl, TEMPLATE_DB), dataDir: '/nonexistent' });
  await d.close();
}

/** A server for the whole run (test/run.ts) or for one file. */
export async function startTestServer(): Promise<{ adminUrl: string; server: EmbeddedServer; stop(): Promise<void> }> {
  const dir = pgDataDir();
  const server = await startEmbedded({ dataDir: dir });
  const adminUrl = withDatabase(server.url, 'postgres');
  await prepareTemplate(adminUrl);
  return {
    adminUrl,
    server,
    async stop() {
      await server.release();
      await stopEmbedded(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let own: Awaited<ReturnType<typeof startTestServer>> | undefined;

async function adminUrl(): Promise<string> {
  if (process.env.CODER_GIT_TEST_PG) return process.env.CODER_GIT_TEST_PG;
  own ??= await startTestServer();
  return own.adminUrl;
}

export interface TestDb extends Database {
  name: string;
  /** drops the database; stops this file's own server if it started one */
  drop(): Promise<void>;
}

let counter = 0;

/** A new database cloned from the migrated template. */
export async function testDatabase(): Promise<TestDb> {
  const url = await adminUrl();
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  await admin(url, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`));
  const d = await openDatabase({ postgresUrl: withDatabase(url, name), dataDir: '/nonexistent' });
  return {
    ...d,
    name,
    async drop() {
      await d.close();
      await admin(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** An admin URL for tests that need to create databases of their own. */
export async function serverAdminUrl(): Promise<string> {
  return adminUrl();
}

export { withDatabase };

/** Call at the end of a test file. */
export async function stopOwnServer(): Promise<void> {
  await own?.stop();
  own = undefined;
}
