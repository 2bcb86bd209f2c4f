// Start on connect, the client's half (README: Start on connect): before `coder-git ssh` reaches a
// workspace, a stopped one is started (POST …/start) and waited for until its agent is ready, with
// the progress on stderr (stdout may be an SSH connection).

import { api, type Session } from './client.ts';
import { CoderGitError } from '../errors.ts';
import type { WorkspaceView } from '../workspace-view.ts';

const POLL_MS = 500;

const up = (w: WorkspaceView) => w.last_build?.transition === 'start' && w.last_build.status === 'succeeded' && w.agent?.status === 'connected' && (w.agent.lifecycle === 'ready' || w.agent.lifecycle === 'start_error');

export async function ensureRunning(s: Session, owner: string, name: string, o: { say: (m: string) => void; timeoutMs: number }): Promise<void> {
  const route = `/api/v1/workspaces/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  const get = () => api<WorkspaceView>(s.url, 'GET', route, { token: s.token });
  let w = await get();
  if (up(w)) return;
  const running = w.last_build?.transition === 'start' && w.last_build.status !== 'failed' && w.last_build.status !== 'canceled';
  let build = w.last_build?.number ?? 0;
  if (!running) {
    const r = await api<{ build_number: number; queued: boolean }>(s.url, 'POST', `${route}/start`, { token: s.token });
    build = r.build_number;
    o.say(`Starting ${owner}/${name} (build #${build})…`);
  } else o.say(`Waiting for ${owner}/${name}'s agent…`);
  const deadline = Date.now() + o.timeoutMs;
  let said = '';
  for (;;) {
    w = await get();
    const b = w.last_build;
    if (b && b.number >= build && b.transition === 'start' && (b.status === 'failed' || b.status === 'canceled')) {
      throw new CoderGitError('CG_CONFLICT', `${owner}/${name}: start build #${b.number} ${b.status}${b.error ? `: ${b.error}` : ''}`);
    }
    if (b && b.number >= build && up(w)) {
      if (w.agent?.lifecycle === 'start_error') o.say(`${owner}/${name}: its startup script failed; connecting anyway`);
      else o.say(`${owner}/${name} is ready.`);
      return;
    }
    const now = b?.status === 'succeeded' ? `agent ${w.agent?.status ?? 'starting'}${w.agent ? `, ${w.agent.lifecycle}` : ''}` : `build #${b?.number} ${b?.status}`;
    if (now !== said) o.say(`  ${now}`);
    said = now;
    if (Date.now() > deadline) {
      throw new CoderGitError('CG_CONFLICT', `${owner}/${name} did not become ready within ${Math.round(o.timeoutMs / 1000)} s (${now})`, b?.status === 'pending' ? { hint: 'is a coder-git runner running? It builds what the server queues' } : {});
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
