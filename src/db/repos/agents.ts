// The agents table. Only a hash of each agent token is stored; a token authenticates only while its
// build is its workspace's latest.
import type { Q } from '../connect.ts';
import { sql } from '../sql.ts';

export type Lifecycle = 'created' | 'starting' | 'ready' | 'start_error' | 'shutting_down' | 'off';

/** Which lifecycle state may follow which (what an agent reports; the server refuses the rest). */
export const LIFECYCLE_TRANSITIONS: Record<Lifecycle, Lifecycle[]> = {
  created: ['starting', 'shutting_down', 'off'],
  starting: ['ready', 'start_error', 'shutting_down'],
  ready: ['shutting_down'],
  start_error: ['shutting_down', 'starting'],
  shutting_down: ['off'],
  off: [],
};

export interface AgentRow {
  id: string;
  workspace_id: string;
  build_id: string;
  name: string;
  lifecycle: Lifecycle;
  first_connected_at: Date | null;
  last_connected_at: Date | null;
  disconnected_at: Date | null;
  last_heartbeat_at: Date | null;
}

export interface AgentReport {
  lifecycle?: Lifecycle;
  version?: string;
  os?: string;
  arch?: string;
  connected?: boolean;
  disconnected?: boolean;
  heartbeat?: boolean;
  /** someone used the workspace (a session): moves the autostop deadline */
  activity?: boolean;
}

/** What a startup log line costs against the cap beyond its bytes: a row of agent_logs and its index entry. */
export const LOG_ROW_COST = 64;

export const agents = {
  create: (q: Q, a: { workspace_id: string; build_id: string; name?: string; token_hash: Buffer }) =>
    q.one<AgentRow>(sql('agents/create'), { name: 'main', ...a }),
  /** Startup log lines, kept up to capBytes per agent (the rest dropped, the overflow recorded). */
  appendLogs: (q: Q, agentId: string, lines: { stream: 'stdout' | 'stderr'; line: string }[], capBytes: number) =>
    q.one<{ kept: number; log_overflowed: boolean }>(sql('agent_logs/append'), { agent_id: agentId, lines, cap: capBytes, row_cost: LOG_ROW_COST }),
  /** The TCP ports its agent last saw listening inside the workspace. */
  setListeningPorts: (q: Q, id: string, ports: { port: number; address: string }[]) => q.none(sql('agents/set-listening-ports'), { id, ports }),
  readLogs: (q: Q, agentId: string, after = 0, limit = 1000) => q.any<{ id: string; at: Date; stream: string; line: string }>(sql('agent_logs/read'), { agent_id: agentId, after, limit }),
  welcome: (q: Q, id: string) => q.oneOrNone<{
      owner: string;
      workspace: string;
      startup_script: string | null;
      env: Record<string, string>;
      shell: string | null;
      dotfiles: { repository: string; branch?: string; install_script?: string } | null;
      git_ssh_key: boolean;
    }>(sql('agents/welcome'), { id }),
  /** Which replica holds the agent's control socket (url), or that it left (null, previous url). */
  setReplica: (q: Q, id: string, connection: string, url: string | null, previous: string | null = null) => q.none(sql('agents/set-replica'), { id, connection, url, previous }),
  replicaOf: async (q: Q, id: string) => (await q.oneOrNone<{ replica_url: string | null }>(sql('agents/replica'), { id }))?.replica_url ?? null,
  /** The replicas' shared key for signing internal relay requests (made on first use). */
  relayKey: async (q: Q, candidate: Buffer) => (await q.one<{ key: Buffer }>(sql('relay/key'), { key: candidate })).key,
  byTokenHash: (q: Q, tokenHash: Buffer) => q.oneOrNone<AgentRow>(sql('agents/by-token'), { token_hash: tokenHash }),
  /** What the agent said over connection (a random id per socket); current: that socket is the agent's newest. */
  report: (q: Q, id: string, connection: string, r: AgentReport) =>
    q.one<AgentRow & { current: boolean }>(sql('agents/update'), {
      id,
      connection,
      lifecycle: r.lifecycle ?? null,
      version: r.version ?? null,
      os: r.os ?? null,
      arch: r.arch ?? null,
      connected: r.connected ?? false,
      disconnected: r.disconnected ?? false,
      heartbeat: r.heartbeat ?? false,
      activity: r.activity ?? false,
    }),
};
