// A workspace as people see it — in `coder-git status`, on the pages and in the API — made from a
// listing row: its state, last build, and its agent's connection state, which is computed at read
// time from timestamps, so it is right on every server replica and after a server died:
//   connecting    the agent's build started it, it has not connected yet (within the template's
//                 agent.connection_timeout)
//   timeout       it never connected within that time
//   connected     connected, with a heartbeat within two heartbeat intervals
//   disconnected  it connected once; the connection closed or two heartbeats were missed

import type { ListingRow } from './db/repos/workspaces.ts';
import { parseDuration } from './time/duration.ts';

export type AgentStatus = 'connecting' | 'connected' | 'disconnected' | 'timeout';

/** How often agents send heartbeats (the server tells them at hello). */
export const HEARTBEAT_MS = 15_000;

export interface WorkspaceView {
  owner: string;
  name: string;
  template: string;
  /** what git says, and what the schedule set (standing until git changes `state:`) */
  desired_state: 'running' | 'stopped';
  scheduled_state: 'running' | 'stopped' | null;
  last_build: { number: number; transition: string; status: string; reason: string; created_at: Date; finished_at: Date | null; error: string | null } | null;
  agent: { status: AgentStatus; lifecycle: string; version: string | null; first_connected_at: Date | null; last_connected_at: Date | null; disconnected_at: Date | null } | null;
  drifted_since: Date | null;
  /** its agent has been gone for longer than the template's connection timeout since then (runner/agents.ts) */
  agent_lost_since: Date | null;
}

/** The template's agent.connection_timeout (2 minutes unless it says otherwise). */
export function connectionTimeoutMs(r: Pick<ListingRow, 'connection_timeout'>): number {
  return parseDuration(r.connection_timeout ?? '2m') || 120_000;
}

export function agentStatus(r: Pick<ListingRow, 'agent_created_at' | 'first_connected_at' | 'disconnected_at' | 'last_heartbeat_at' | 'connection_timeout'>, now = Date.now(), heartbeatMs = HEARTBEAT_MS): AgentStatus {
  if (!r.first_connected_at) {
    return r.agent_created_at && r.agent_created_at.getTime() + connectionTimeoutMs(r) < now ? 'timeout' : 'connecting';
  }
  if (r.disconnected_at || !r.last_heartbeat_at || r.last_heartbeat_at.getTime() < now - 2 * heartbeatMs) return 'disconnected';
  return 'connected';
}

export function workspaceView(r: ListingRow, now = Date.now()): WorkspaceView {
  // An agent belongs to a start build; once the workspace stopped there is none to speak of.
  const hasAgent = r.agent_id && r.transition === 'start';
  return {
    owner: r.owner,
    name: r.name,
    template: r.template,
    desired_state: r.desired_state,
    scheduled_state: r.scheduled_state,
    last_build:
      r.build_number === null
        ? null
        : { number: r.build_number, transition: r.transition!, status: r.build_status!, reason: r.build_reason!, created_at: r.build_created_at!, finished_at: r.build_finished_at, error: r.build_error },
    agent: hasAgent
      ? { status: agentStatus(r, now), lifecycle: r.lifecycle!, version: r.agent_version, first_connected_at: r.first_connected_at, last_connected_at: r.last_connected_at, disconnected_at: r.disconnected_at }
      : null,
    drifted_since: r.drift_detected_at,
    agent_lost_since: r.agent_lost_at,
  };
}
