// Workspace schedules, decided as a pure function of what PostgreSQL knows about a workspace and
// the time (README: "Schedules"):
//  - autostart (cron, CRON_TZ=): at each time it fires, a stopped workspace is started. A time missed
//    while no runner was reconciling is caught up for an hour, then skipped.
//  - ttl (the workspace's, else the template's default_ttl): a started workspace is stopped ttl
//    after its start finished, or after the last activity its agent reported if that is later
//    (then the reason is "inactivity"); never later than the template's max_ttl after the start.
// Only settled workspaces are scheduled: the latest build succeeded (a failed one is retried by the
// plan, not by the schedule) and none is pending or running.

import { nextRun, parseCron, previousRun } from '../time/cron.ts';
import { parseDuration } from '../time/duration.ts';
import type { BuildReason, Transition } from '../db/repos/builds.ts';

export interface ScheduleSubject {
  /** the workspace's schedule as applied from git */
  autostart?: string | null;
  ttl?: string | null;
  /** the template version's schedule */
  default_ttl?: string | null;
  max_ttl?: string | null;
  build_transition: Transition | null;
  build_status: string | null;
  build_created_at: Date | null;
  build_finished_at: Date | null;
  /** the latest activity any agent of the latest build reported */
  last_activity_at: Date | null;
}

export interface ScheduledBuild {
  transition: 'start' | 'stop';
  reason: Extract<BuildReason, 'autostart' | 'autostop' | 'inactivity'>;
  why: string;
}

/** How late an autostart may still happen (a runner that was down at 09:00 starts it by 10:00). */
export const AUTOSTART_CATCH_UP_MS = 3_600_000;

export function effectiveTtl(s: Pick<ScheduleSubject, 'ttl' | 'default_ttl'>): number | undefined {
  const ttl = s.ttl || s.default_ttl;
  return ttl ? parseDuration(ttl) : undefined;
}

/** When a started workspace is due to stop, and why; undefined when it has no ttl. */
export function autostopAt(s: ScheduleSubject): { at: Date; reason: 'autostop' | 'inactivity' } | undefined {
  const ttl = effectiveTtl(s);
  if (!ttl || s.build_transition !== 'start' || s.build_status !== 'succeeded' || !s.build_finished_at) return undefined;
  const started = s.build_finished_at.getTime();
  let at = started + ttl;
  let reason: 'autostop' | 'inactivity' = 'autostop';
  if (s.last_activity_at && s.last_activity_at.getTime() + ttl > at) {
    at = s.last_activity_at.getTime() + ttl;
    reason = 'inactivity';
  }
  if (s.max_ttl) {
    const cap = started + parseDuration(s.max_ttl);
    if (cap < at) [at, reason] = [cap, 'autostop'];
  }
  return { at: new Date(at), reason };
}

export function nextAutostart(s: ScheduleSubject, now: Date): Date | undefined {
  if (!s.autostart) return undefined;
  const c = parseCron(s.autostart);
  return c.ok ? nextRun(c.schedule, now) : undefined;
}

export function dueBuild(s: ScheduleSubject, now: Date): ScheduledBuild | null {
  if (s.build_status !== 'succeeded' || !s.build_created_at) return null;
  if (s.build_transition === 'stop' && s.autostart) {
    const c = parseCron(s.autostart);
    const fired = c.ok ? previousRun(c.schedule, now, AUTOSTART_CATCH_UP_MS) : undefined;
    // Fired since the workspace was last built: whatever built it last (a commit, the ttl) came first.
    if (fired && fired > s.build_created_at) return { transition: 'start', reason: 'autostart', why: `autostart "${s.autostart}" fired at ${fired.toISOString()}` };
    return null;
  }
  const stop = autostopAt(s);
  if (stop && stop.at <= now) {
    return { transition: 'stop', reason: stop.reason, why: stop.reason === 'inactivity' ? `no activity since ${s.last_activity_at!.toISOString()}` : `ttl ran out at ${stop.at.toISOString()}` };
  }
  return null;
}
