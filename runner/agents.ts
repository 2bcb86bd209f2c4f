// Lost agents (README: Lost agents). A running workspace whose last start build succeeded but whose
// agent never connected within the template's agent.connection_timeout, or has been disconnected
// for longer than that, is found by the leader, recorded on the workspace (agent_lost_at: status,
// the API, metrics) and reported once. With self-heal it gets a start build with reason
// "agent-lost" — once: if the agent of that build is lost too, the build did not repair it, and it is
// left to people. An agent that comes back, or a succeeded build, clears it.
import type { Db } from '../src/db/connect.ts';
import { workspaces, type ListingRow } from '../src/db/repos/workspaces.ts';
import { builds } from '../src/db/repos/builds.ts';
import { audit } from '../src/db/repos/audit.ts';
import { queueHeal } from './heal.ts';
import { agentStatus, connectionTimeoutMs } from '../src/workspace-view.ts';

export interface AgentLost {
  workspace: string;
  /** what the agent is: never connected (timeout) or gone (disconnected) */
  status: 'timeout' | 'disconnected';
  since: Date;
  heal_build?: number;
  /** lost again after a self-heal build: not healed again */
  heal_failed?: boolean;
}

/** Whether a workspace's agent is lost now (and since when it was last seen or started). */
export function lostAgent(r: ListingRow, now = Date.now()): { status: 'timeout' | 'disconnected'; since: Date } | undefined {
  const running = (r.scheduled_state ?? r.desired_state) === 'running';
  if (!running || r.transition !== 'start' || r.build_status !== 'succeeded' || !r.agent_id) return undefined;
  const status = agentStatus(r, now);
  if (status === 'timeout') return { status, since: r.agent_created_at! };
  if (status !== 'disconnected') return undefined;
  const gone = r.disconnected_at ?? r.last_heartbeat_at ?? r.last_connected_at!;
  return gone.getTime() + connectionTimeoutMs(r) < now ? { status, since: gone } : undefined;
}

/** One pass: newly lost agents are returned (and healed when asked); agents back are cleared. */
export async function checkAgents(o: { db: Db; selfHeal: boolean; epoch?: number; now?: () => number }): Promise<AgentLost[]> {
  const found: AgentLost[] = [];
  for (const r of await workspaces.listing(o.db)) {
    const lost = lostAgent(r, o.now?.() ?? Date.now());
    if (!lost) {
      if (r.agent_lost_at) await workspaces.setAgentLost(o.db, r.id, false);
      continue;
    }
    if (!(await workspaces.setAgentLost(o.db, r.id, true))) continue;
    const key = `${r.owner}/${r.name}`;
    const result: AgentLost = { workspace: key, ...lost };
    await audit.append(o.db, { actor: 'system', action: 'agent_lost', target: key, details: { status: lost.status, since: lost.since.toISOString() } });
    if (o.selfHeal && r.build_reason === 'agent-lost') result.heal_failed = true;
    else if (o.selfHeal) {
      const b = await builds.context(o.db, r.build_id!);
      if (b) result.heal_build = await queueHeal(o.db, o.epoch, b, 'agent-lost');
    }
    found.push(result);
  }
  return found;
}
