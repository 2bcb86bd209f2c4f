// The agents whose control socket this process holds, and the streams asked of them that wait for
// the agent's dial-back (relay.ts pipes them once it arrives).
import type { WebSocket } from 'ws';

const OPEN_TIMEOUT_MS = 10_000;

export type RelayTarget = { kind: 'tcp'; port: number } | { kind: 'ssh' } | { kind: 'pty'; reconnect: string; cols: number; rows: number };

/** Agents connected to this process: how to ask each to open a stream. */
export class AgentLinks {
  private links = new Map<string, (m: unknown) => void>();
  private pending = new Map<string, { agentId: string; resolve: (ws: WebSocket) => void }>();

  /** sessionId: ids for the agent's dial-back (Replicas.sessionId names the replica waiting for it) */
  constructor(private readonly sessionId: () => string) {}

  add(agentId: string, send: (m: unknown) => void): () => void {
    this.links.set(agentId, send);
    return () => {
      if (this.links.get(agentId) === send) this.links.delete(agentId);
    };
  }

  /** Asks the agent to open a stream (to a port, or its SSH server); resolves with its relay socket, or undefined. */
  open(agentId: string, target: RelayTarget): Promise<WebSocket | undefined> {
    const send = this.links.get(agentId);
    if (!send) return Promise.resolve(undefined);
    const session = this.sessionId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(session);
        resolve(undefined);
      }, OPEN_TIMEOUT_MS);
      this.pending.set(session, {
        agentId,
        resolve: (ws) => {
          clearTimeout(timer);
          resolve(ws);
        },
      });
      send({ type: 'open', session, ...target });
    });
  }

  /** The agent's side arrived; false if no such session is waiting for this agent. */
  arrive(session: string, agentId: string, ws: WebSocket): boolean {
    const p = this.pending.get(session);
    if (!p || p.agentId !== agentId) return false;
    this.pending.delete(session);
    p.resolve(ws);
    return true;
  }
}
