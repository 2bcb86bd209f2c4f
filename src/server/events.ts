// Agent events across server replicas: the replica an agent is connected to NOTIFYs
// coder_git_agents on every change of its state; every replica LISTENs and hands the events to its
// watchers (GET /api/v1/workspaces/{owner}/{name}/watch, server-sent events). A dropped LISTEN
// connection is reopened; watchers are told to re-read (event "resync") since events may be missed.

import { EventEmitter } from 'node:events';
import type { Database } from '../db/connect.ts';
import { AGENT_CHANNEL, publish } from '../db/channels.ts';
import { listen, type Listener } from '../db/listen.ts';

export interface AgentEvent {
  workspace_id: string;
  agent_id: string;
  event: 'connected' | 'disconnected' | 'lifecycle' | 'resync';
  lifecycle?: string;
}

export class AgentEvents extends EventEmitter {
  private listener: Listener | undefined;

  constructor(private readonly database: Database) {
    super();
    this.setMaxListeners(0); // one per watcher
  }

  /** Tell every replica (this one included, through its own LISTEN). */
  async publish(e: AgentEvent): Promise<void> {
    await publish(this.database.db, AGENT_CHANNEL, e);
  }

  async start(): Promise<void> {
    const onEvent = (payload: string) => {
      try {
        this.emit('event', JSON.parse(payload) as AgentEvent);
      } catch {}
    };
    const resync = () => this.emit('event', { workspace_id: '*', agent_id: '', event: 'resync' } satisfies AgentEvent);
    this.listener = listen(this.database, AGENT_CHANNEL, onEvent, resync);
    await this.listener.ready;
  }

  close(): void {
    this.listener?.close();
    this.removeAllListeners();
  }
}
