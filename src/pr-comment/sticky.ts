// One sticky comment per pull request (Atlantis, tfcmt): the first run creates it, later runs edit
// it in place, so the plan under review is always the newest and the thread does not fill with
// stale plans. A plan longer than the host allows takes several comments; when it shrinks again the
// surplus ones are deleted.
import { commentParts, isOurs, partNumber } from './split.ts';
import type { Forge } from './forges.ts';

export interface StickyResult {
  parts: number;
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}

export async function postSticky(forge: Forge, body: string, marker: string): Promise<StickyResult> {
  const parts = commentParts(body, forge.limit, marker);
  const ours = (await forge.list()).filter((c) => isOurs(c.body, marker));
  // Part k of the last run is updated to part k of this one; comments are listed oldest first.
  ours.sort((a, b) => partNumber(a.body) - partNumber(b.body));
  const r: StickyResult = { parts: parts.length, created: 0, updated: 0, unchanged: 0, deleted: 0 };
  for (const [i, p] of parts.entries()) {
    const old = ours[i];
    if (!old) {
      await forge.create(p);
      r.created++;
    } else if (old.body.trimEnd() === p.trimEnd()) r.unchanged++;
    else {
      await forge.update(old.id, p);
      r.updated++;
    }
  }
  for (const extra of ours.slice(parts.length)) {
    await forge.remove(extra.id);
    r.deleted++;
  }
  return r;
}
