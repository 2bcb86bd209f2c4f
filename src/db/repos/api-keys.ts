// The api_keys table: sessions and API tokens. Only a hash of each secret is stored.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export type KeyKind = 'session' | 'token';

export interface KeyRow {
  id: string;
  kind: KeyKind;
  name: string | null;
  created_at: Date;
  expires_at: Date;
  last_used_at: Date | null;
}

export interface Authenticated {
  id: string;
  kind: KeyKind;
  name: string | null;
  expires_at: Date;
  user_id: string;
  username: string;
  roles: string[];
}

export const apiKeys = {
  create: (q: Q, k: { user_id: string; kind: KeyKind; name: string | null; secret_hash: Buffer; expires_at: Date }) => q.one<KeyRow>(sql('api_keys/create'), k),
  /** The key and its user, if the key is live and the user active; marks it used (once a minute at most). */
  authenticate: async (q: Q, secretHash: Buffer) => {
    const k = await q.oneOrNone<Authenticated & { last_used_at: Date | null }>(sql('api_keys/authenticate'), { secret_hash: secretHash });
    if (k && (!k.last_used_at || Date.now() - k.last_used_at.getTime() > 60_000)) await q.none(sql('api_keys/touch'), { id: k.id });
    return k;
  },
  /** These keys' users' roles now, and for each key no longer valid, why (open channels close with that reason). */
  ended: (q: Q, ids: string[]) => q.any<{ id: string; roles: string[]; reason: string | null }>(sql('api_keys/ended'), { ids }),
  list: (q: Q, userId: string, kind: KeyKind) => q.any<KeyRow>(sql('api_keys/list'), { user_id: userId, kind }),
  revoke: async (q: Q, userId: string, id: string) => (await q.oneOrNone(sql('api_keys/revoke'), { user_id: userId, id })) !== null,
};
