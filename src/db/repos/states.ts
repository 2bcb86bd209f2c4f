// The terraform_states table: every state Terraform wrote, newest last.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export interface StateRow {
  id: string;
  build_id: string | null;
  serial: string;
  lineage: string;
  state: Buffer;
  created_at: Date;
}

export const states = {
  save: async (q: Q, s: { workspace_id: string; build_id: string | null; serial: number; lineage: string; state: Buffer }) =>
    (await q.one<{ id: string }>(sql('terraform_states/save'), s)).id,
  latest: (q: Q, workspaceId: string) => q.oneOrNone<StateRow>(sql('terraform_states/latest'), { workspace_id: workspaceId }),
};
