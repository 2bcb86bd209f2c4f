// Start on connect (README: Start on connect): a person reaching a stopped workspace (ssh, the web
// terminal) asks for it to be started. Written like a schedule's start: under the apply lock, on the
// locked row, a `start` build with reason `manual`, the workspace's scheduled_state set to running (so
// the plan leaves it running until a commit changes `state:`, and its ttl stops it later), audited.
// The runners' workers pick the build up like any other. `coder-git up` stops (and later starts
// again) the workspaces whose agents run on its own machine the same way.

import type { Db, Q } from '../db/connect.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { builds } from '../db/repos/builds.ts';
import { audit } from '../db/repos/audit.ts';
import { CoderGitError } from '../errors.ts';
import { underApplyLock } from './apply.ts';
import { quotaRefusal } from './quota.ts';

export interface StartRequest {
  /** the build that brings (or brought) the workspace up */
  build_number: number;
  /** false: it was running or already starting; nothing was queued */
  queued: boolean;
}

type Locked = NonNullable<Awaited<ReturnType<typeof workspaces.forStart>>>;

/** A manual start or stop build on the locked workspace, its scheduled state to match, audited. */
async function queue(t: Q, w: Locked, transition: 'start' | 'stop', target: string, by: { username: string; ip?: string }): Promise<StartRequest> {
  const build = await builds.create(t, { workspace_id: w.id, transition, reason: 'manual', template_version_id: w.template_version_id, parameters: w.parameters, sync_id: null });
  await workspaces.setScheduled(t, w.id, transition === 'start' ? 'running' : 'stopped');
  await audit.append(t, { actor: by.username, action: `workspace_${transition}_requested`, target, details: { build: build.build_number }, ip: by.ip });
  return { build_number: build.build_number, queued: true };
}

export async function requestStart(db: Db, owner: string, name: string, by: { username: string; ip?: string }): Promise<StartRequest> {
  return underApplyLock(db, undefined, async (t) => {
    const w = await workspaces.forStart(t, owner, name);
    if (!w) throw new CoderGitError('CG_NOT_FOUND', `no workspace ${owner}/${name}`);
    const busy = w.build_status === 'pending' || w.build_status === 'running';
    if (w.build_transition === 'start' && (busy || w.build_status === 'succeeded')) return { build_number: w.build_number!, queued: false };
    if (busy) {
      throw new CoderGitError('CG_CONFLICT', `${owner}/${name} is being ${w.build_transition === 'stop' ? 'stopped' : 'destroyed'} (build #${w.build_number}); start it when that build has finished`);
    }
    if (w.build_transition === 'delete' && w.build_status === 'succeeded') throw new CoderGitError('CG_CONFLICT', `${owner}/${name} was destroyed`);
    const refused = quotaRefusal(await workspaces.quota(t, w.id));
    if (refused) throw new CoderGitError('CG_QUOTA', `${owner}/${name} was not started: ${refused}`);
    return queue(t, w, 'start', `${owner}/${name}`, by);
  });
}

/** The other way round: a started workspace is stopped (nothing happens to one that is not started). */
export async function requestStop(db: Db, owner: string, name: string, by: { username: string }): Promise<StartRequest | undefined> {
  return underApplyLock(db, undefined, async (t) => {
    const w = await workspaces.forStart(t, owner, name);
    if (!w || w.build_transition !== 'start' || w.build_status !== 'succeeded') return undefined;
    return queue(t, w, 'stop', `${owner}/${name}`, by);
  });
}
