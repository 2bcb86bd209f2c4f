// Notifications: the HTTP client adapter for coder-git.yaml's notifications.webhook_url. One JSON POST
// per event, with a 5 s timeout; a receiver that is down or slow is logged and never holds up the
// runner, and never makes it retry an apply.
import type { Deployment } from '../src/config/types.ts';

export type NotificationEvent = 'sync_invalid' | 'sync_failed' | 'build_failed' | 'workspace_drifted' | 'workspace_agent_lost';

export interface Notification {
  event: NotificationEvent;
  commit?: { sha: string; ref: string | null; author: string | null; message: string | null };
  workspace?: string;
  build?: { number: number; transition: string; error: string | null };
  errors?: unknown[];
  drift?: unknown;
  agent?: { status: string; since: string };
}

export async function sendNotification(d: Deployment | undefined, n: Notification, log: (m: string) => void): Promise<void> {
  const cfg = d?.notifications;
  if (!cfg || !cfg.events.includes(n.event)) return;
  try {
    const res = await fetch(cfg.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'coder-git' },
      body: JSON.stringify({ ...n, at: new Date().toISOString() }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log(`notification ${n.event}: the webhook answered ${res.status}`);
  } catch (err) {
    log(`notification ${n.event}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
