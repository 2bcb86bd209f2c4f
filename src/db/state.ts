// The applied state: everything the plan compares the desired state with, in a handful of queries
// whatever the number of objects (one per table), all from one snapshot (a read-only REPEATABLE
// READ transaction), so a concurrent apply is seen entirely or not at all.
import pgPromise from 'pg-promise';
import type { Db, Q } from './connect.ts';
import { users, type UserRow } from './repos/users.ts';
import { groups, type GroupRow } from './repos/groups.ts';
import { templates, type TemplateRow } from './repos/templates.ts';
import { workspaces, type WorkspaceRow } from './repos/workspaces.ts';
import { syncs, type SyncRow } from './repos/syncs.ts';
import { deployment } from './repos/deployment.ts';
import type { Deployment } from '../config/types.ts';

export interface AppliedState {
  users: Map<string, UserRow>;
  groups: Map<string, GroupRow>;
  templates: Map<string, TemplateRow>;
  /** keyed "<owner>/<name>" */
  workspaces: Map<string, WorkspaceRow>;
  lastApplied: SyncRow | null;
  /** coder-git.yaml as last applied (null: never) */
  deployment: Deployment | null;
}

const { TransactionMode, isolationLevel } = (pgPromise as unknown as { txMode: typeof import('pg-promise').txMode }).txMode;
const snapshot = new TransactionMode({ tiLevel: isolationLevel.repeatableRead, readOnly: true });

/** The applied state, read on q (inside the caller's transaction). */
export async function readAppliedState(q: Q): Promise<AppliedState> {
  // One connection runs one query at a time: in sequence.
  const u = await users.load(q);
  const g = await groups.load(q);
  const t = await templates.load(q);
  const w = await workspaces.load(q);
  const last = await syncs.lastApplied(q);
  const dep = await deployment.load(q);
  return {
    users: new Map(u.map((r) => [r.username, r])),
    groups: new Map(g.map((r) => [r.name, r])),
    templates: new Map(t.map((r) => [r.name, r])),
    workspaces: new Map(w.map((r) => [`${r.owner}/${r.name}`, r])),
    lastApplied: last,
    deployment: dep,
  };
}

/** The applied state from one snapshot. */
export function loadAppliedState(db: Db): Promise<AppliedState> {
  return db.tx({ mode: snapshot }, (q) => readAppliedState(q));
}
