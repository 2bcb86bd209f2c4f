// The quota check before a start that no commit asked for (README: Quotas): a schedule's autostart
// and a start on connect. Validation checks what git declares; this checks what runs, since
// schedules and people start workspaces between commits.

import type { QuotaRow } from '../db/repos/workspaces.ts';
import { roundCost } from '../config/resolve.ts';
import { plural } from '../plural.ts';

/** Why starting the workspace would exceed its owner's quota, or undefined when it would not. */
export function quotaRefusal(r: QuotaRow): string | undefined {
  const running = r.running.length;
  if (r.running_limit !== null && running + 1 > r.running_limit) {
    const list = running ? ` (${r.running.join(', ')})` : '';
    return `${r.username} already runs ${plural(running, 'workspace')}${list} and may run ${r.running_limit} at once (quota.running); stop one first`;
  }
  const total = roundCost(r.spent + r.cost);
  if (r.budget !== null && total > r.budget) {
    return `starting it would bring ${r.username}'s running workspaces to a cost of ${total} (this one ${r.cost}, the others ${r.spent}); quota.budget allows ${r.budget}: stop one first`;
  }
  return undefined;
}
