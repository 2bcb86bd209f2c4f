// PostgreSQL NOTIFY channels coder-git processes talk through (so any server replica reaches every runner).
import type { Q } from './connect.ts';
import { sql } from './sql.ts';

/** NOTIFY channel with a JSON payload (listen.ts receives it). */
export async function publish(q: Q, channel: string, payload: unknown): Promise<void> {
  await q.one(sql('channels/notify'), { channel, payload });
}

/** Fetch the config repo now: sent by the git webhook and POST /api/v1/runner/refresh; runners LISTEN. */
export const REFRESH_CHANNEL = 'coder_git_refresh';

/**
 * Who may sign in changed: a key was revoked (payload: its id) or users were applied from git
 * (payload: "users"). Servers drop what they cached about sessions and tokens.
 */
export const AUTH_CHANNEL = 'coder_git_auth';

/**
 * An agent's state changed (connected, disconnected, lifecycle): payload {workspace_id, agent_id,
 * event}. Every server replica hears it, so a watcher on one sees an agent connected to another.
 */
export const AGENT_CHANNEL = 'coder_git_agents';

/**
 * A build started running or ended (payload {build_id, workspace_id, status}): on an end the leader
 * reconciles now, also when the build's own process outlived the runner that started it
 * (runner/build-process.ts); servers pass both on to the workspace's watchers (its page).
 */
export const BUILD_CHANNEL = 'coder_git_builds';
