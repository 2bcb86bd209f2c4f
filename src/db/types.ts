// The two database handle types every repository takes: a Db (the pool) and a Q (the pool, a task
// or a transaction). Kept apart from connect.ts so that migrate.ts, which connect.ts runs, needs
// nothing from it.
import type { IBaseProtocol, IDatabase } from 'pg-promise';

export type Db = IDatabase<unknown>;
export type Q = IBaseProtocol<unknown>;
