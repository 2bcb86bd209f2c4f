// Self-heal (drift.ts, agents.ts): a start build of a workspace's last build again (same template
// version and parameters), with the reason that asked for it, under the apply lock, and only if
// nothing else was queued meanwhile (then that build repairs it anyway). Its number, or undefined.
import type { Db } from '../src/db/connect.ts';
import { builds, type BuildContext, type BuildReason } from '../src/db/repos/builds.ts';
import { workspaces } from '../src/db/repos/workspaces.ts';
import { audit } from '../src/db/repos/audit.ts';
import { underApplyLock } from '../src/apply/apply.ts';

export function queueHeal(db: Db, epoch: number | undefined, last: Pick<BuildContext, 'id' | 'workspace_id' | 'owner' | 'workspace' | 'template_version_id' | 'parameters'>, reason: Extract<BuildReason, 'drift' | 'agent-lost'>): Promise<number | undefined> {
  return underApplyLock(db, epoch, async (t) => {
    if (!(await workspaces.lockIfLatest(t, last.workspace_id, last.id))) return undefined;
    const nb = await builds.create(t, { workspace_id: last.workspace_id, transition: 'start', reason, template_version_id: last.template_version_id, parameters: last.parameters, sync_id: null });
    await audit.append(t, { actor: 'system', action: `${reason.replace('-', '_')}_heal`, target: `${last.owner}/${last.workspace}`, details: { build: nb.build_number } });
    return nb.build_number;
  });
}
