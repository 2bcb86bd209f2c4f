// Authenticated keys, cached for a few seconds per server process so an API request does not cost a
// query. Never trusted blindly: an entry lives at most TTL_MS, never past its key's expiry, and
// only while this process is LISTENing on coder_git_auth — a revocation (any replica) or an apply
// that changed users NOTIFYs there, and the entries go at once. Without the listener (its
// connection dropped) nothing is cached.

import type { Database } from '../db/connect.ts';
import type { Authenticated } from '../db/repos/api-keys.ts';
import { AUTH_CHANNEL } from '../db/channels.ts';
import { listen, type Listener } from '../db/listen.ts';

const TTL_MS = 10_000;
const MAX = 50_000;

export class AuthCache {
  private entries = new Map<string, { actor: Authenticated; until: number }>();
  private listener: Listener | undefined;

  /** onChange: keys or users changed somewhere, or the listener reconnected (open channels recheck) */
  constructor(
    private readonly database: Database,
    private readonly onChange: () => void = () => undefined,
  ) {}

  get(hash: string): Authenticated | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (!this.listener?.up || e.until < Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.actor;
  }

  set(hash: string, actor: Authenticated): void {
    if (!this.listener?.up) return;
    if (this.entries.size >= MAX) this.entries.clear();
    this.entries.set(hash, { actor, until: Math.min(Date.now() + TTL_MS, new Date(actor.expires_at).getTime()) });
  }

  forget(keyId?: string): void {
    if (!keyId) return this.entries.clear();
    for (const [h, e] of this.entries) if (e.actor.id === keyId) this.entries.delete(h);
  }

  async start(): Promise<void> {
    const l = listen(
      this.database,
      AUTH_CHANNEL,
      (p) => {
        this.forget(p === 'users' ? undefined : p);
        this.onChange();
      },
      () => {
        this.forget();
        this.onChange();
      },
    );
    this.listener = l;
    await l.ready;
  }

  close(): void {
    this.listener?.close();
  }
}
