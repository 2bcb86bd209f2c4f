// The webhook_deliveries table: git webhook deliveries already acted on (migration 0008).
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export const webhookDeliveries = {
  /** Records delivery id; true the first time it is seen (on any replica, within a day). Forgets old ones now and then. */
  first: async (q: Q, id: string) => (await q.oneOrNone(sql('webhook_deliveries/first'), { id, prune: Math.random() < 0.01 })) !== null,
};
