// LISTEN on a channel over a dedicated connection (pool connections cannot hold a LISTEN), kept
// open: when the connection drops, onLost is called (notifications may have been missed meanwhile)
// and it is reopened every 2 s until it works again or the listener is closed.
import type { Database } from './connect.ts';

export interface Listener {
  /** true while the LISTEN is in place */
  readonly up: boolean;
  /** settles after the first attempt (up or not) */
  readonly ready: Promise<void>;
  close(): void;
}

export function listen(database: Database, channel: string, onNotify: (payload: string) => void, onLost: () => void = () => {}): Listener {
  let current: { done(): void } | undefined;
  let closed = false;
  let up = false;
  const retry = () => {
    if (!closed) setTimeout(() => void open(), 2000).unref();
  };
  const open = async (): Promise<void> => {
    if (closed) return;
    let c: Awaited<ReturnType<Database['db']['connect']>>;
    try {
      c = await database.db.connect({ direct: true });
    } catch {
      return retry();
    }
    let dead = false;
    let released = false;
    // Released once: done() on a released connection throws (synchronously), and the connection's
    // 'error' can come after close() released it (the server terminating it, a dropped database).
    const release = () => {
      if (released) return;
      released = true;
      try {
        void Promise.resolve(c.done()).catch(() => undefined);
      } catch {
        // already lost
      }
    };
    const lost = () => {
      if (dead) return;
      dead = true;
      up = false;
      current = undefined;
      release();
      if (closed) return;
      onLost();
      retry();
    };
    current = { done: release };
    c.client.on('notification', (n) => onNotify(n.payload ?? ''));
    c.client.on('error', lost);
    try {
      await c.none('LISTEN $1:name', [channel]);
      up = !dead;
    } catch {
      lost();
    }
  };
  const ready = open();
  return {
    ready,
    get up() {
      return up;
    },
    close() {
      closed = true;
      up = false;
      current?.done();
    },
  };
}
