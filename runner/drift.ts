// Drift checks (README: Drift). For each running workspace due a check: its build lease is taken (so
// no build runs meanwhile and the state cannot move), and a refresh-only `terraform plan` of its
// latest build (same module, state and variables) says whether anything changed outside Terraform:
// resources (`resource_drift`) or outputs. The result is recorded on the workspace; a succeeded
// build clears it. With self-heal, a drifted workspace gets a start build with reason "drift" — once:
// if the check after that build still finds drift, the build did not repair it and is not repeated.

import { randomBytes } from 'node:crypto';
import type { Db } from '../src/db/connect.ts';
import type { Deployment } from '../src/config/types.ts';
import { parseDuration } from '../src/time/duration.ts';
import { workspaces, type DriftDue } from '../src/db/repos/workspaces.ts';
import { builds } from '../src/db/repos/builds.ts';
import { states } from '../src/db/repos/states.ts';
import { audit } from '../src/db/repos/audit.ts';
import type { TerraformDriver } from '../src/terraform/driver.ts';
import { scratchPlan, type PlanJson } from '../src/terraform/scratch.ts';
import { buildVariables } from '../src/terraform/contract.ts';
import { queueHeal } from './heal.ts';

export interface Drift {
  /** resources Terraform found changed outside it, with what it saw happen */
  resources: { address: string; actions: string[] }[];
  /** outputs whose value is no longer what the last build left */
  outputs: string[];
}

export interface DriftResult {
  workspace: string;
  workspace_id: string;
  drift: Drift | null;
  /** this check found the drift (the ones before did not): it is reported once */
  newly?: boolean;
  error?: string;
  /** the build queued to repair it (self-heal) */
  heal_build?: number;
  /** still drifted right after a self-heal build: not healed again */
  heal_failed?: boolean;
}

export function driftOf(show: PlanJson): Drift | null {
  const resources = (show.resource_drift ?? []).filter((r) => !r.change.actions.every((a) => a === 'no-op' || a === 'read')).map((r) => ({ address: r.address, actions: r.change.actions }));
  const outputs = Object.entries(show.output_changes ?? {}).filter(([, c]) => c.actions.some((a) => a !== 'no-op')).map(([name]) => name);
  return resources.length || outputs.length ? { resources, outputs } : null;
}

export interface DriftOptions {
  db: Db;
  driver: TerraformDriver;
  deployment: Deployment;
  runnerId: string;
  leaseSeconds: number;
  /** a workspace is checked when its last check (or build) is older than this */
  intervalMs: number;
  parallelism: number;
  selfHeal: boolean;
  epoch?: number;
  /** at most this many workspaces per call */
  limit?: number;
  signal?: AbortSignal;
}

export async function checkDrift(o: DriftOptions): Promise<DriftResult[]> {
  const due = await workspaces.driftDue(o.db, o.intervalMs, o.limit ?? 1000);
  const results: DriftResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < due.length && !o.signal?.aborted) {
      const w = due[next++]!;
      const r = await checkOne(o, w).catch((err): DriftResult => ({ workspace: w.id, workspace_id: w.id, drift: null, error: err instanceof Error ? err.message : String(err) }));
      if (r) results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.parallelism) }, worker));
  return results;
}

async function checkOne(o: DriftOptions, w: DriftDue): Promise<DriftResult | undefined> {
  const { db } = o;
  if (!(await workspaces.lease(db, w.id, w.build_id, o.runnerId, o.leaseSeconds))) return undefined; // a build came first
  try {
    const b = await builds.context(db, w.build_id);
    if (!b) return undefined;
    const key = `${b.owner}/${b.workspace}`;
    let drift: Drift | null = null;
    try {
      const show = await scratchPlan(o.driver, {
        files: b.files,
        state: (await states.latest(db, b.workspace_id))?.state,
        // The agent token is only known to the build that made it; a refresh-only plan does not
        // compare the configuration, so a fresh one changes nothing.
        env: buildVariables(b, o.deployment, randomBytes(32).toString('base64url')),
        args: ['-refresh-only'],
        timeoutMs: parseDuration(o.deployment.terraform.timeout),
      });
      drift = driftOf(show);
    } catch (err) {
      // A check that cannot run says nothing about drift: recorded as checked, nothing else.
      await workspaces.setDrift(db, w.id, null);
      return { workspace: key, workspace_id: w.id, drift: null, error: err instanceof Error ? err.message : String(err) };
    }
    const newly = await workspaces.setDrift(db, w.id, drift);
    const result: DriftResult = { workspace: key, workspace_id: w.id, drift, newly };
    if (newly) {
      await audit.append(db, { actor: 'system', action: 'drift_detected', target: key, details: drift as unknown as Record<string, unknown> });
    }
    // A repair that did not repair (the first check after a self-heal build still finds drift) is
    // not repeated every interval: it is left to people, and said so.
    const healFailed = w.build_reason === 'drift' && (!w.drift_checked_at || w.drift_checked_at < w.build_finished_at);
    if (drift && o.selfHeal && healFailed) result.heal_failed = true;
    else if (drift && o.selfHeal) {
      await workspaces.releaseLease(db, w.id, o.runnerId);
      const heal = await queueHeal(db, o.epoch, b, 'drift');
      if (heal) result.heal_build = heal;
    }
    return result;
  } finally {
    await workspaces.releaseLease(db, w.id, o.runnerId).catch(() => undefined);
  }
}
