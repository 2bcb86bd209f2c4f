// Open channels (web terminals, SSH sessions, port forwards, watch streams) hold the right they were
// opened with only as long as the key that opened them is valid. A request is checked once; a
// channel lives on, so this server rechecks the keys of its open channels whenever coder_git_auth
// says keys or users changed (a revocation, a sign-out, an apply that suspended or removed a user,
// on any replica) and every CHECK_MS besides (expiry; a NOTIFY missed while the listener
// reconnected), and closes each channel whose key ended, saying why — or whose user no longer has
// the role it needed (an owner's terminal in another user's workspace, after a commit demoted them).
import type { Db } from '../db/connect.ts';
import { apiKeys } from '../db/repos/api-keys.ts';

const CHECK_MS = 5_000;

/** How a channel is closed: a WebSocket with 4401 and the reason, a stream with a last event. */
export type Closer = (reason: string) => void;

export class OpenChannels {
  private channels = new Map<number, { keyId: string; close: Closer; allowed?: (roles: string[]) => boolean }>();
  private next = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private again = false;

  constructor(private readonly db: Db) {}

  /**
   * Registers a channel opened with key keyId; allowed: whether the user's roles still let them keep
   * it (unset: any signed-in user may). Returns what to call when it closes on its own.
   */
  add(keyId: string, close: Closer, allowed?: (roles: string[]) => boolean): () => void {
    const id = this.next++;
    this.channels.set(id, { keyId, close, allowed });
    this.timer ??= setInterval(() => void this.check(), CHECK_MS).unref();
    return () => {
      this.channels.delete(id);
      if (!this.channels.size) this.stopTimer();
    };
  }

  get size(): number {
    return this.channels.size;
  }

  /** Checks every open channel's key now (one query); a check asked for during one runs after it. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.again = false;
        const ids = [...new Set([...this.channels.values()].map((c) => c.keyId))];
        if (!ids.length) break;
        const keys = await apiKeys.ended(this.db, ids).catch(() => null); // the database away: checked again later
        if (!keys) break;
        const now = new Map(keys.map((k) => [k.id, k]));
        for (const [id, c] of this.channels) {
          // (every id asked for has its row: ended.sql counts a key gone as its user removed)
          const k = now.get(c.keyId)!;
          const reason = k.reason ?? (c.allowed && !c.allowed(k.roles) ? 'its user no longer has the role it needs' : null);
          if (!reason) continue;
          this.channels.delete(id);
          try {
            c.close(`closed: ${reason}`);
          } catch {
            // already gone
          }
        }
      } while (this.again);
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  close(): void {
    this.stopTimer();
    this.channels.clear();
  }

  private stopTimer() {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
