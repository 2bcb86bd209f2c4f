// Agent events across server replicas: the replica an agent is connected to NOTIFYs
// coder_git_agents on every change of its state; every replica LISTENs and hands the events to its
// watchers (GET /api/v1/workspaces/{owner}/{name}/watch, server-sent events). A dropped LISTEN
// connection is reopened; watchers are told to re-read (event "resync") since events may be missed.

import { EventEmitter } from 'node:events';
import type { Database } from '../db/connect.ts';
import { AGENT_CHANNEL } from '../db/channels.ts';

export interface AgentEvent {
  workspace_id: string;
  agent_id: string;
  event: 'connected' | 'disconnected' | 'lifecycle' | 'resync';
  lifecycle?: string;
}

export class AgentEvents extends EventEmitter {
  private conn: { done(): void } | undefined;
  private closed = false;

  constructor(private readonly database: Database) {
    super();
    this.setMaxListeners(0); // one per watcher
  }

  /** Tell every replica (this one included, through its own LISTEN). */
  async publish(e: AgentEvent): Promise<void> {
    await this.database.db.one('SELECT pg_notify($1, $2)', [AGENT_CHANNEL, JSON.stringify(e)]);
  }

  async start(): Promise<void> {
    if (this.closed) return;
    const retry = () => {
      this.conn = undefined;
      this.emit('event', { workspace_id: '*', agent_id: '', event: 'resync' } satisfies AgentEvent);
      if (!this.closed) setTimeout(() => void this.start(), 2000).unref();
    };
    try {
      const conn = await this.database.db.connect({ direct: true });
      this.conn = { done: () => void conn.done() };
      conn.client.on('notification', (n) => {
        try {
          this.emit('event', JSON.parse(n.payload ?? '') as AgentEvent);
        } catch {}
      });
      conn.client.on('error', retry);
      await conn.none('LISTEN $1:name', [AGENT_CHANNEL]);
    } catch {
      retry();
    }
  }

  close(): void {
    this.closed = true;
    this.conn?.done();
    this.removeAllListeners();
  }
}
