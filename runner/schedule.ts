// The schedule's builds (README: Schedules). The decision is src/schedule/schedule.ts; here it is made
// on the rows as they are and written like any apply: under the apply lock and the runner's fencing
// epoch, re-decided on the locked rows, with each build recorded with its reason and the state the
// schedule put the workspace in.

import type { Db } from '../src/db/connect.ts';
import { workspaces, type ScheduleRow } from '../src/db/repos/workspaces.ts';
import { builds } from '../src/db/repos/builds.ts';
import { audit } from '../src/db/repos/audit.ts';
import { dueBuild, type ScheduledBuild } from '../src/schedule/schedule.ts';
import { underApplyLock } from '../src/apply/apply.ts';
import { quotaRefusal } from '../src/apply/quota.ts';

export interface Scheduled extends ScheduledBuild {
  workspace: string;
  build_id: string;
  build_number: number;
}

function due(rows: ScheduleRow[], now: Date): [ScheduleRow, ScheduledBuild][] {
  const out: [ScheduleRow, ScheduledBuild][] = [];
  for (const r of rows) {
    const b = dueBuild(r, now);
    if (b) out.push([r, b]);
  }
  return out;
}

export async function scheduleBuilds(db: Db, o: { epoch?: number; now?: () => Date } = {}): Promise<Scheduled[]> {
  const now = o.now ?? (() => new Date());
  // Decided first without locks (the usual answer is "nothing"), then again on the locked rows.
  const candidates = due(await workspaces.scheduled(db), now());
  if (!candidates.length) return [];
  return underApplyLock(db, o.epoch, async (t) => {
    const rows = await workspaces.scheduled(t, candidates.map(([r]) => r.id), true);
    const out: Scheduled[] = [];
    for (const [r, b] of due(rows, now())) {
      const target = `${r.owner}/${r.name}`;
      const refused = b.transition === 'start' ? quotaRefusal(await workspaces.quota(t, r.id)) : undefined;
      if (refused) {
        // Asked again every tick until the autostart's catch-up hour ends: said once per reason.
        const last = await audit.latestFor(t, 'workspace_autostart_refused', target);
        if (last?.details.why !== refused || last.details.fired !== b.why) await audit.append(t, { actor: 'schedule', action: 'workspace_autostart_refused', target, details: { why: refused, fired: b.why } });
        continue;
      }
      const build = await builds.create(t, { workspace_id: r.id, transition: b.transition, reason: b.reason, template_version_id: r.template_version_id, parameters: r.parameters, sync_id: null });
      await workspaces.setScheduled(t, r.id, b.transition === 'start' ? 'running' : 'stopped');
      await audit.append(t, { actor: 'schedule', action: `workspace_${b.reason}`, target, details: { build: build.build_number, why: b.why } });
      out.push({ ...b, workspace: target, build_id: build.id, build_number: build.build_number });
    }
    return out;
  });
}
