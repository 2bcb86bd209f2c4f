// The deployment table: coder-git.yaml as last applied (one row).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';
import type { Deployment } from '../../config/types.ts';

export const deployment = {
  load: async (q: Q) => (await q.oneOrNone<{ config: Deployment }>(sql('deployment/load')))?.config ?? null,
  save: (q: Q, config: Deployment, commitSha: string | null) => q.none(sql('deployment/save'), { config, commit_sha: commitSha }),
};
