// The workspace_builds table. Creating a build also queues its job (sql/workspace_builds/create.sql).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import { CoderGitError } from '../../errors.ts';
import type { Scalar } from '../../config/types.ts';

export type Transition = 'start' | 'stop' | 'delete';
export type BuildStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'interrupted';
export type BuildReason = 'sync' | 'autostart' | 'autostop' | 'inactivity' | 'drift' | 'agent-lost' | 'retry' | 'manual';

/** Which status may follow which: a build only moves forward. */
export const BUILD_TRANSITIONS: Record<BuildStatus, BuildStatus[]> = {
  pending: ['running', 'canceled'],
  running: ['succeeded', 'failed', 'canceled', 'interrupted'],
  succeeded: [],
  failed: [],
  canceled: [],
  interrupted: [],
};

/** For each status, the statuses a build may come from. */
const PREDECESSORS = Object.fromEntries(
  (Object.keys(BUILD_TRANSITIONS) as BuildStatus[]).map((to) => [to, (Object.keys(BUILD_TRANSITIONS) as BuildStatus[]).filter((from) => BUILD_TRANSITIONS[from].includes(to))]),
) as Record<BuildStatus, BuildStatus[]>;

export interface BuildRow {
  id: string;
  workspace_id: string;
  build_number: number;
  transition: Transition;
  status: BuildStatus;
  reason: BuildReason;
  template_version_id: string;
  parameters: Record<string, Scalar>;
  sync_id: string | null;
  runner_id: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface BuildInput {
  workspace_id: string;
  transition: Transition;
  reason: BuildReason;
  template_version_id: string;
  parameters: Record<string, Scalar>;
  sync_id: string | null;
}

export interface BuildContext {
  id: string;
  workspace_id: string;
  build_number: number;
  transition: Transition;
  status: BuildStatus;
  parameters: Record<string, Scalar>;
  template_version_id: string;
  workspace: string;
  owner: string;
  owner_email: string;
  template: string;
  content_hash: string;
  /** path → base64 */
  files: Record<string, string>;
  manifest: { agent?: { startup_script?: string } };
}

export const builds = {
  context: (q: Q, id: string) => q.oneOrNone<BuildContext>(sql('workspace_builds/context'), { id }),
  /** A pending build, numbered after the workspace's last, made its latest build, with its job queued. */
  create: (q: Q, b: BuildInput) => q.one<BuildRow>(sql('workspace_builds/create'), b),
  /** Workspace owner/name's builds, newest first, with the commit that asked for each. */
  ofWorkspace: (q: Q, owner: string, name: string, limit = 50) =>
    q.any<{ build_number: number; transition: Transition; status: BuildStatus; reason: BuildReason; error: string | null; created_at: Date; started_at: Date | null; finished_at: Date | null; sync_id: string | null; commit_sha: string | null; commit_message: string | null }>(sql('workspace_builds/of-workspace'), { owner, name, limit }),
  /** The builds a sync asked for. */
  ofSync: (q: Q, syncId: string) =>
    q.any<{ owner: string; workspace: string; deleted: boolean; build_number: number; transition: Transition; status: BuildStatus; reason: BuildReason; error: string | null; created_at: Date; finished_at: Date | null }>(sql('workspace_builds/of-sync'), { sync_id: syncId }),
  failedLatest: (q: Q) =>
    q.any<{ workspace: string; build_number: number; transition: Transition; status: BuildStatus; error: string | null; finished_at: Date | null }>(sql('workspace_builds/failed')),
  /** Build `number` (null: the latest) of workspace owner/name, with its newest agent's id. */
  byNumber: (q: Q, owner: string, name: string, number: number | null) =>
    q.oneOrNone<Pick<BuildRow, 'id' | 'build_number' | 'transition' | 'status' | 'reason' | 'error' | 'created_at' | 'started_at' | 'finished_at'> & { agent_id: string | null }>(sql('workspace_builds/by-number'), { owner, name, number }),
  get: (q: Q, id: string) => q.oneOrNone<BuildRow>(sql('workspace_builds/get'), { id }),
  unfinishedCount: async (q: Q, ids: string[]) => (await q.one<{ n: number }>(sql('workspace_builds/unfinished-count'), { ids })).n,
  statuses: (q: Q, ids: string[]) => q.any<{ id: string; status: BuildStatus }>(sql('workspace_builds/statuses'), { ids }),
  inProgress: async (q: Q) => (await q.any<{ id: string }>(sql('workspace_builds/in-progress'))).map((r) => r.id),
  /** Moves a build on, as BUILD_TRANSITIONS allows (CG_CONFLICT otherwise: a build never goes back). */
  setStatus: async (q: Q, id: string, status: BuildStatus, extra: { error?: string; runner_id?: string } = {}) => {
    const from = PREDECESSORS[status];
    const row = await q.oneOrNone<BuildRow>(sql('workspace_builds/set-status'), { id, status, from, error: extra.error ?? null, runner_id: extra.runner_id ?? null });
    if (!row) throw new CoderGitError('CG_CONFLICT', `build ${id} cannot become ${status}: it is not ${from.join(' or ') || 'in any status that leads there'}`);
    return row;
  },
};
