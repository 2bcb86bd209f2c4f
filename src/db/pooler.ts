// A connection pooler in transaction (or statement) mode, such as PgBouncer's pool_mode=transaction,
// hands each transaction whichever server connection is free. The runner and the server rely on
// session-level PostgreSQL: the leader's advisory lock lives on one connection, LISTEN waits on one
// connection. Behind such a pooler two runners both lead and notifications go missing, silently; so
// they refuse to start there, saying why. (Session mode works: a client keeps its server connection.)
//
// The probe: a session setting made on one client is visible to another client's next transaction
// only when the two share a server connection, which a direct connection or session pooling never
// does. PgBouncer reuses the server connection released last, so the second client gets the first
// one's; three rounds make a busy pool's other free connections unlikely to hide it.
import { randomBytes } from 'node:crypto';
import { CoderGitError } from '../errors.ts';
import type { Db } from './types.ts';

export async function assertSessionLevel(db: Db, where: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const value = randomBytes(8).toString('hex');
    const a = await db.connect();
    const b = await db.connect();
    let shared = false;
    try {
      await a.any('SELECT set_config($1, $2, false)', ['coder_git.probe', value]);
      const seen = await b.tx((t) => t.one<{ v: string | null }>("SELECT current_setting('coder_git.probe', true) AS v"));
      shared = seen.v === value;
      await a.any("SELECT set_config('coder_git.probe', '', false)");
    } catch (err) {
      // statement pooling refuses transactions outright
      if (/transaction blocks not allowed|statement pool/i.test((err as Error).message)) shared = true;
      else throw err;
    } finally {
      a.done();
      b.done();
    }
    if (shared) {
      throw new CoderGitError('CG_DB', `${where} is behind a connection pooler in transaction or statement mode (PgBouncer pool_mode=transaction?): two clients shared one server connection`, {
        hint: "the runner and the server need session-level PostgreSQL (the leader's advisory lock, LISTEN/NOTIFY): give them a direct URL, or a pool in session mode (pool_mode=session); plan, apply and status work through either",
      });
    }
  }
}
