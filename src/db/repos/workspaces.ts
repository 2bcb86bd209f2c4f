// The workspaces table.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { Scalar } from '../../config/types.ts';

export interface WorkspaceRow {
  id: string;
  owner: string;
  name: string;
  template: string;
  template_version_id: string | null;
  content_hash: string | null;
  parameters: Record<string, Scalar>;
  desired_state: 'running' | 'stopped';
  schedule: { autostart?: string; ttl?: string };
  build_id: string | null;
  build_number: number | null;
  build_transition: 'start' | 'stop' | 'delete' | null;
  build_status: string | null;
  build_finished_at?: Date | null;
  /** the template version and parameters the latest build was made with */
  build_hash?: string | null;
  build_parameters?: Record<string, Scalar> | null;
}

export interface WorkspaceInput {
  owner: string;
  name: string;
  template: string;
  parameters: Record<string, Scalar>;
  desired_state: 'running' | 'stopped';
  schedule: { autostart?: string; ttl?: string };
}

export const workspaces = {
  load: (q: Q) => q.any<WorkspaceRow>(sql('workspaces/load')),
  upsert: (q: Q, rows: WorkspaceInput[]) => (rows.length ? q.none(sql('workspaces/upsert'), { rows }) : Promise.resolve()),
  remove: (q: Q, rows: { owner: string; name: string }[]) => (rows.length ? q.none(sql('workspaces/delete'), { rows }) : Promise.resolve()),
  markDestroyed: (q: Q, id: string) => q.none(sql('workspaces/mark-destroyed'), { id }),
  ids: (q: Q, keys: string[]) => q.any<{ key: string; id: string; template_version_id: string }>(sql('workspaces/ids'), { keys }),
};
