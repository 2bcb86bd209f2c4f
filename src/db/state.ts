// The applied state: everything the plan compares the desired state with, in a handful of queries
// whatever the number of objects (one per table), all from one snapshot (a read-only REPEATABLE
// READ transaction), so a concurrent apply is seen entirely or not at all.
import pgPromise from 'pg-promise';
import type { Db } from './connect.ts';
import { users, type UserRow } from './repos/users.ts';
import { templates, type TemplateRow } from './repos/templates.ts';
import { workspaces, type WorkspaceRow } from './repos/workspaces.ts';
import { syncs, type SyncRow } from './repos/syncs.ts';

export interface AppliedState {
  users: Map<string, UserRow>;
  templates: Map<string, TemplateRow>;
  /** keyed "<owner>/<name>" */
  workspaces: Map<string, WorkspaceRow>;
  lastApplied: SyncRow | null;
}

const { TransactionMode, isolationLevel } = (pgPromise as unknown as { txMode: typeof import('pg-promise').txMode }).txMode;
const snapshot = new TransactionMode({ tiLevel: isolationLevel.repeatableRead, readOnly: true });

export async function loadAppliedState(db: Db): Promise<AppliedState> {
  // One connection runs one query at a time: in sequence, within the snapshot.
  const [u, t, w, last] = await db.tx({ mode: snapshot }, async (q) => [await users.load(q), await templates.load(q), await workspaces.load(q), await syncs.lastApplied(q)] as const);
  return {
    users: new Map(u.map((r) => [r.username, r])),
    templates: new Map(t.map((r) => [r.name, r])),
    workspaces: new Map(w.map((r) => [`${r.owner}/${r.name}`, r])),
    lastApplied: last,
  };
}
