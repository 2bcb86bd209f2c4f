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
import { underApplyLock } from '../src/apply/apply.ts';
import { agentStatus } from '../src/workspace-view.ts';
import { parseDuration } from '../src/time/duration.ts';

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
  const timeout = parseDuration(r.connection_timeout ?? '2m') || 120_000;
  return gone.getTime() + timeout < now ? { status, since: gone } : undefined;
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
      result.heal_build = await underApplyLock(o.db, o.epoch, async (t) => {
        // only if nothing else was queued meanwhile (that build brings a new agent anyway)
        if (!b || !(await workspaces.lockIfLatest(t, r.id, r.build_id!))) return undefined;
        const nb = await builds.create(t, { workspace_id: r.id, transition: 'start', reason: 'agent-lost', template_version_id: b.template_version_id, parameters: b.parameters, sync_id: null });
        await audit.append(t, { actor: 'system', action: 'agent_lost_heal', target: key, details: { build: nb.build_number } });
        return nb.build_number;
      });
    }
    found.push(result);
  }
  return found;
}
