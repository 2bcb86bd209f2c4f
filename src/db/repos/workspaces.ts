// The workspaces table.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { PortShare, Scalar, TemplateApp } from '../../config/types.ts';
import type { BuildStatus, Transition } from './builds.ts';

export interface WorkspaceRow {
  id: string;
  owner: string;
  name: string;
  template: string;
  template_version_id: string | null;
  content_hash: string | null;
  parameters: Record<string, Scalar>;
  desired_state: 'running' | 'stopped';
  /** the state the schedule put it in, standing until a commit changes `state:` */
  scheduled_state?: 'running' | 'stopped' | null;
  schedule: { autostart?: string; ttl?: string };
  /** shared ports as applied (older rows and test fixtures: absent) */
  ports?: { port: number; share: string }[];
  cost?: number;
  build_id: string | null;
  build_number: number | null;
  build_transition: 'start' | 'stop' | 'delete' | null;
  build_status: string | null;
  build_finished_at?: Date | null;
  /** the template version and parameters the latest build was made with */
  build_hash?: string | null;
  build_parameters?: Record<string, Scalar> | null;
}

/** A workspace's apps and ports as built: its agent, the template version's apps, its shares. */
export interface AppTarget {
  agent_id: string | null;
  transition: string | null;
  apps: Record<string, TemplateApp> | null;
  max_share: PortShare | null;
  ports: { port: number; share: PortShare }[];
  /** the TCP ports its agent last saw listening */
  listening: { port: number; address: string }[] | null;
}

export interface WorkspaceInput {
  owner: string;
  name: string;
  template: string;
  parameters: Record<string, Scalar>;
  desired_state: 'running' | 'stopped';
  schedule: { autostart?: string; ttl?: string };
  /** (none: nothing shared) */
  ports?: { port: number; share: string }[];
  /** what it costs while it runs (none: 0) */
  cost?: number;
}

export interface QuotaRow {
  username: string;
  running_limit: number | null;
  budget: number | null;
  cost: number;
  /** the owner's other workspaces that run or are starting */
  running: string[];
  spent: number;
}

/** What the schedule decides on (sql/workspaces/schedule.sql). */
export interface ScheduleRow {
  id: string;
  owner: string;
  name: string;
  template_version_id: string;
  parameters: Record<string, Scalar>;
  autostart: string | null;
  ttl: string | null;
  default_ttl: string | null;
  max_ttl: string | null;
  build_transition: 'start' | 'stop';
  build_status: string;
  build_created_at: Date;
  build_finished_at: Date | null;
  last_activity_at: Date | null;
}

/** A workspace as people see it (sql/workspaces/listing.sql); see src/workspace-view.ts. */
export interface ListingRow {
  id: string;
  owner: string;
  name: string;
  template: string;
  desired_state: 'running' | 'stopped';
  scheduled_state: 'running' | 'stopped' | null;
  build_number: number | null;
  transition: 'start' | 'stop' | 'delete' | null;
  build_status: string | null;
  build_reason: string | null;
  build_created_at: Date | null;
  build_finished_at: Date | null;
  build_error: string | null;
  agent_id: string | null;
  lifecycle: string | null;
  agent_created_at: Date | null;
  first_connected_at: Date | null;
  last_connected_at: Date | null;
  disconnected_at: Date | null;
  last_heartbeat_at: Date | null;
  agent_version: string | null;
  connection_timeout: string | null;
  drift_detected_at: Date | null;
  agent_lost_at: Date | null;
  build_id: string | null;
}

export interface DriftDue {
  id: string;
  build_id: string;
  build_reason: string;
  build_finished_at: Date;
  drift_checked_at: Date | null;
}

export interface DriftRow {
  owner: string;
  name: string;
  drift_detected_at: Date;
  drift_checked_at: Date;
  drift: unknown;
}

export const workspaces = {
  load: (q: Q) => q.any<WorkspaceRow>(sql('workspaces/load')),
  /** For people: every workspace, or only owner's. */
  listing: (q: Q, owner: string | null = null) => q.any<ListingRow>(sql('workspaces/listing'), { owner }),
  upsert: (q: Q, rows: WorkspaceInput[]) => (rows.length ? q.none(sql('workspaces/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, rows: { owner: string; name: string }[]) => (rows.length ? q.none(sql('workspaces/delete'), { rows }) : Promise.resolve()),
  markDestroyed: (q: Q, id: string) => q.none(sql('workspaces/mark-destroyed'), { id }),
  /** Settled workspaces with a schedule; `lock` inside a transaction that acts on them. */
  scheduled: (q: Q, ids: string[] | null = null, lock = false) => q.any<ScheduleRow>(sql('workspaces/schedule'), { ids, lock: lock ? 'FOR UPDATE OF w' : '' }),
  setScheduled: (q: Q, id: string, state: 'running' | 'stopped') => q.none(sql('workspaces/set-scheduled'), { id, state }),
  /** Started workspaces whose agent runs on this machine (templates using coder_agent_command). */
  /** Where workspace owner/name's apps and ports are (sql/workspaces/app-target.sql). */
  appTarget: (q: Q, owner: string, name: string) => q.oneOrNone<AppTarget>(sql('workspaces/app-target'), { owner, name }),
  localAgents: (q: Q) => q.any<{ owner: string; name: string; build_status: BuildStatus }>(sql('workspaces/local-agents')),
  /** owner/name with its latest build, locked (a person asks to start it). */
  /** What starting workspace id would do to its owner's quota (sql/workspaces/quota.sql). */
  quota: (q: Q, id: string) => q.one<QuotaRow>(sql('workspaces/quota'), { id }),
  forStart: (q: Q, owner: string, name: string) =>
    q.oneOrNone<{ id: string; template_version_id: string; parameters: Record<string, Scalar>; scheduled_state: string | null; build_transition: Transition | null; build_status: BuildStatus | null; build_number: number | null }>(sql('workspaces/for-start'), { owner, name }),
  driftDue: (q: Q, intervalMs: number, limit: number) => q.any<DriftDue>(sql('workspaces/drift-due'), { interval_ms: intervalMs, limit }),
  /** The workspace's build lease, while build_id is its latest and no job is queued for it. */
  lease: async (q: Q, id: string, buildId: string, runnerId: string, leaseSeconds: number) =>
    (await q.oneOrNone(sql('workspaces/lease'), { id, build_id: buildId, runner_id: runnerId, lease_seconds: leaseSeconds })) !== null,
  /** Locks the workspace if build buildId is still its latest; null otherwise. */
  lockIfLatest: (q: Q, id: string, buildId: string) => q.oneOrNone<{ id: string }>(sql('workspaces/lock-if-latest'), { id, build_id: buildId }),
  releaseLease: (q: Q, id: string, runnerId: string) => q.none(sql('workspaces/release-lease'), { id, runner_id: runnerId }),
  /** Records a drift check; true when this check is the one that found the drift. */
  /** true: the agent is gone (newly: this call found it); false: it is back */
  setAgentLost: async (q: Q, id: string, lost: boolean) => (await q.one<{ newly: boolean }>(sql('workspaces/set-agent-lost'), { id, lost })).newly,
  setDrift: async (q: Q, id: string, drift: unknown) => (await q.one<{ newly: boolean }>(sql('workspaces/set-drift'), { id, drift: drift ?? null })).newly,
  drifted: (q: Q) => q.any<DriftRow>(sql('workspaces/drifted')),
  ids: (q: Q, keys: string[]) => q.any<{ key: string; id: string; template_version_id: string }>(sql('workspaces/ids'), { keys }),
};
