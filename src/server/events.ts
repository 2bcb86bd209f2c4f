// Agent events across server replicas: the replica an agent is connected to NOTIFYs
// coder_git_agents on every change of its state (and runners NOTIFY coder_git_builds when a build
// starts or ends); every replica LISTENs and hands the events to its watchers (GET /api/v1/workspaces/{owner}/{name}/watch, server-sent events). A dropped LISTEN
// connection is reopened; watchers are told to re-read (event "resync") since events may be missed.

import { EventEmitter } from 'node:events';
import type { Database } from '../db/connect.ts';
import { AGENT_CHANNEL, BUILD_CHANNEL, publish } from '../db/channels.ts';
import { listen, type Listener } from '../db/listen.ts';

export interface AgentEvent {
  workspace_id: string;
  agent_id: string;
  /** build: one of the workspace's builds started running or ended (BUILD_CHANNEL, from the runners) */
  event: 'connected' | 'disconnected' | 'lifecycle' | 'resync' | 'build';
  lifecycle?: string;
}

export class AgentEvents extends EventEmitter {
  private listener: Listener | undefined;
  private builds: Listener | undefined;

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
    this.builds = listen(this.database, BUILD_CHANNEL, (payload) => {
      try {
        const b = JSON.parse(payload) as { build_id: string; workspace_id?: string };
        if (b.workspace_id) this.emit('event', { workspace_id: b.workspace_id, agent_id: '', event: 'build' } satisfies AgentEvent);
      } catch {}
    }, resync);
    await Promise.all([this.listener.ready, this.builds.ready]);
  }

  close(): void {
    this.listener?.close();
    this.builds?.close();
    this.removeAllListeners();
  }
}
