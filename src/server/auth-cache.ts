// Authenticated keys, cached for a few seconds per server process so an API request does not cost a
// query. Never trusted blindly: an entry lives at most TTL_MS, never past its key's expiry, and
// only while this process is LISTENing on coder_git_auth — a revocation (any replica) or an apply
// that changed users NOTIFYs there, and the entries go at once. Without the listener (its
// connection dropped) nothing is cached.

import type { Database } from '../db/connect.ts';
import type { Authenticated } from '../db/repos/api-keys.ts';
import { AUTH_CHANNEL } from '../db/channels.ts';

const TTL_MS = 10_000;
const MAX = 50_000;

export class AuthCache {
  private entries = new Map<string, { actor: Authenticated; until: number }>();
  private listening = false;
  private conn: { done(): void } | undefined;
  private closed = false;

  constructor(private readonly database: Database) {}

  get(hash: string): Authenticated | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (!this.listening || e.until < Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.actor;
  }

  set(hash: string, actor: Authenticated): void {
    if (!this.listening) return;
    if (this.entries.size >= MAX) this.entries.clear();
    this.entries.set(hash, { actor, until: Math.min(Date.now() + TTL_MS, new Date(actor.expires_at).getTime()) });
  }

  forget(keyId?: string): void {
    if (!keyId) return this.entries.clear();
    for (const [h, e] of this.entries) if (e.actor.id === keyId) this.entries.delete(h);
  }

  async start(): Promise<void> {
    if (this.closed) return;
    const retry = () => {
      this.listening = false;
      this.entries.clear();
      this.conn = undefined;
      if (!this.closed) setTimeout(() => void this.start(), 2000).unref();
    };
    try {
      const conn = await this.database.db.connect({ direct: true });
      this.conn = { done: () => void conn.done() };
      conn.client.on('notification', (n) => this.forget(n.payload === 'users' ? undefined : n.payload));
      conn.client.on('error', retry);
      await conn.none('LISTEN $1:name', [AUTH_CHANNEL]);
      this.listening = true;
    } catch {
      retry();
    }
  }

  close(): void {
    this.closed = true;
    this.listening = false;
    this.conn?.done();
  }
}
