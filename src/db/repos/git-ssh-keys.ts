// The user_git_ssh_keys table: each user's git SSH key, the private half sealed (src/auth/secret-box.ts).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export interface GitSshKeyRow {
  user_id: string;
  username: string;
  public_key: string;
  /** sealed: open it with the keyring, bound to `git-ssh-key:<user_id>` */
  private_key: Buffer;
  key_id: string;
  created_at: Date;
}

export const gitSshKeys = {
  missing: (q: Q) => q.any<{ id: string; username: string }>(sql('git_ssh_keys/missing')),
  insert: (q: Q, rows: { user_id: string; public_key: string; private_key: Buffer; key_id: string }[]) =>
    rows.length ? q.none(sql('git_ssh_keys/insert'), { rows: rows.map((r) => ({ ...r, private_key: r.private_key.toString('base64') })) }) : Promise.resolve(),
  replace: (q: Q, r: { user_id: string; public_key: string; private_key: Buffer; key_id: string; reset: boolean }) =>
    q.one<{ public_key: string; created_at: Date }>(sql('git_ssh_keys/replace'), r),
  byUser: (q: Q, userId: string) => q.oneOrNone<GitSshKeyRow>(sql('git_ssh_keys/by-user'), { user_id: userId }),
  /** The key of the owner of the agent's workspace. */
  byAgent: (q: Q, agentId: string) => q.oneOrNone<GitSshKeyRow>(sql('git_ssh_keys/by-agent'), { agent_id: agentId }),
  sealedWithOther: (q: Q, keyId: string) => q.any<GitSshKeyRow>(sql('git_ssh_keys/all'), { key_id: keyId }),
};
