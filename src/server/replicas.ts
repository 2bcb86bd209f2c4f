// Relays across server replicas. A person's socket and the agent's dial-back may each reach any
// replica behind a load balancer, while only one replica holds the agent's control socket. Each
// replica with an internal URL (--replica-url) records on the agent's row that it holds its control
// socket, and forwards what arrives at the wrong replica to the right one over an internal WebSocket,
// signed with a key all replicas share through PostgreSQL:
//   person → replica B → (internal /relay) → replica A, which asks the agent to open a stream
//   agent's dial-back → replica C → (internal /arrive) → replica A, named in the session id
// A holds both halves and pipes them, as it does when everything arrives at A.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import WebSocket from 'ws';
import type { Db } from '../db/connect.ts';
import { agents } from '../db/repos/agents.ts';

const MAX_SKEW_MS = 60_000;
const DIAL_TIMEOUT_MS = 10_000;
const SIG = 'sig';

/** Holds what a socket receives until its other half is there; then sends it on, in order. */
export function held(ws: WebSocket): (to: WebSocket) => void {
  const early: [Buffer, boolean][] = [];
  const hold = (data: Buffer, binary: boolean) => early.push([data, binary]);
  ws.on('message', hold);
  return (to) => {
    ws.off('message', hold);
    for (const [data, binary] of early) to.send(data, { binary });
  };
}

/** A socket to another replica, and what it received before it was piped (the first frame can come with the upgrade). */
export interface Dialed {
  ws: WebSocket;
  flush: (to: WebSocket) => void;
}

export class Replicas {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly db: Db,
    /** how other replicas reach this one (http://10.0.0.5:3000); unset: relays stay on this replica */
    readonly url: string | undefined,
  ) {}

  private relayKey(): Promise<Buffer> {
    this.key ??= agents.relayKey(this.db, randomBytes(32)).catch((err) => {
      this.key = undefined;
      throw err;
    });
    return this.key;
  }

  private static message(path: string, params: URLSearchParams): string {
    const sorted = [...params].filter(([k]) => k !== SIG).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `${path}\n${new URLSearchParams(sorted).toString()}`;
  }

  /** The session id an agent's dial-back carries: which replica waits for it rides along. */
  sessionId(): string {
    const id = randomBytes(18).toString('base64url');
    return this.url ? `${id}~${Buffer.from(this.url).toString('base64url')}` : id;
  }

  /** The replica a session id names, when it is another one. */
  elsewhere(session: string): string | undefined {
    const m = /^[\w-]+~([\w-]+)$/.exec(session);
    if (!m || !this.url) return undefined;
    const url = Buffer.from(m[1]!, 'base64url').toString();
    return url !== this.url && /^https?:\/\/[^\s/]+$/.test(url) ? url : undefined;
  }

  /** Whether a request to an internal route was signed by a replica, recently. */
  async verify(path: string, query: Record<string, string | undefined>): Promise<boolean> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const ts = Number(params.get('ts'));
    const sig = Buffer.from(params.get(SIG) ?? '', 'base64url');
    if (!Number.isFinite(ts) || Math.abs(Date.now() - ts) > MAX_SKEW_MS) return false;
    const want = createHmac('sha256', await this.relayKey()).update(Replicas.message(path, params)).digest();
    return sig.length === want.length && timingSafeEqual(sig, want);
  }

  /** Opens a signed internal WebSocket to another replica; undefined when it cannot be reached or refuses. */
  async dial(base: string, path: string, query: Record<string, string>): Promise<Dialed | undefined> {
    const params = new URLSearchParams({ ...query, ts: String(Date.now()) });
    params.set(SIG, createHmac('sha256', await this.relayKey()).update(Replicas.message(path, params)).digest('base64url'));
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}?${params}`);
    const flush = held(ws);
    return new Promise((resolve) => {
      const fail = () => {
        clearTimeout(timer);
        ws.terminate();
        resolve(undefined);
      };
      const timer = setTimeout(fail, DIAL_TIMEOUT_MS);
      ws.once('open', () => {
        clearTimeout(timer);
        ws.off('error', fail);
        ws.on('error', () => {}); // a later error closes it; the pipe hears the close
        resolve({ ws, flush });
      });
      ws.once('error', fail);
      ws.once('unexpected-response', fail);
    });
  }
}
