// Terraform's own view, inside coder-git's plan: for each workspace the plan builds, a real
// `terraform plan` in a scratch folder (the desired module, the workspace's latest state from
// PostgreSQL, the same variables a build would get), summarised from `terraform show -json` as
// create / update / replace / delete per resource address. Scratch folders keep the plan away from
// the work folders that builds use. Sensitive values never appear: only addresses and actions.

import path from 'node:path';
import type { DesiredState, Scalar } from '../config/types.ts';
import { parseDuration } from '../time/duration.ts';
import type { TerraformDriver } from '../terraform/driver.ts';
import { buildVariables, type BuildSubject } from '../terraform/contract.ts';
import { diagnosticPlace, scratchPlan, type PlanJson } from '../terraform/scratch.ts';
import { effectiveParameters } from './hash.ts';
import type { Plan, ResourceAction, TerraformPlan, WorkspaceChange } from './types.ts';

export type { ResourceAction, TerraformPlan };


export interface TerraformPlanInput {
  driver: TerraformDriver;
  desired: DesiredState;
  plan: Plan;
  hashes: Map<string, string>;
  /** the latest saved state of an applied workspace ("owner/name") and the parameters it was applied with */
  stateOf: (key: string) => Promise<{ workspaceId: string; state: Buffer | undefined; parameters: Record<string, Scalar> } | undefined>;
  /** module files of an applied workspace that git no longer has (for destroy plans) */
  filesOf: (key: string) => Promise<Record<string, string> | undefined>;
  parallelism: number;
}

function action(actions: string[]): ResourceAction | undefined {
  const a = actions.join(',');
  if (a === 'create') return 'create';
  if (a === 'update') return 'update';
  if (a === 'delete') return 'delete';
  if (a === 'delete,create' || a === 'create,delete') return 'replace';
  if (a === 'read') return 'read';
  return undefined; // no-op
}

export function summarise(show: PlanJson): TerraformPlan {
  const resources = (show.resource_changes ?? [])
    .map((r) => ({ address: r.address, action: action(r.change.actions) }))
    .filter((r): r is { address: string; action: ResourceAction } => r.action !== undefined);
  return {
    resources,
    add: resources.filter((r) => r.action === 'create' || r.action === 'replace').length,
    change: resources.filter((r) => r.action === 'update').length,
    destroy: resources.filter((r) => r.action === 'delete' || r.action === 'replace').length,
  };
}

/**
 * Adds `terraform` to each workspace change with a build, or, when terraform cannot plan it, an
 * error of the plan (as `terraform plan` exits 1): a commit whose templates cannot initialise or
 * plan must not pass CI. The error points at the template file terraform names, else at the
 * workspace's file.
 */
export async function addTerraformPlans(i: TerraformPlanInput): Promise<void> {
  const todo = i.plan.workspaces.filter((w) => w.build);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const w = todo[next++]!;
      try {
        w.terraform = await planOne(i, w);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        w.terraformError = message;
        i.plan.errors.push({ key: w.key, file: errorFile(i.desired, w, message), message: `terraform could not plan ${w.key}: ${message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, i.parallelism) }, worker));
  // (workers finish in any order; the plan must read the same every time)
  i.plan.errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function errorFile(desired: DesiredState, w: WorkspaceChange, message: string): string {
  const t = desired.templates.get(w.template);
  const at = diagnosticPlace(message);
  if (t && at && t.files.has(at.file)) return `${path.posix.dirname(t.file)}/${at.file}:${at.line}`;
  return desired.workspaces.get(w.key)?.file ?? `workspaces/${w.key}.yaml`;
}

async function planOne(i: TerraformPlanInput, w: WorkspaceChange): Promise<TerraformPlan> {
  const saved = await i.stateOf(w.key);
  const ws = i.desired.workspaces.get(w.key);
  const t = i.desired.templates.get(w.template);
  let files: Record<string, string>;
  if (ws && t) files = Object.fromEntries([...t.files].map(([p, b]) => [p, b.toString('base64')]));
  else files = (await i.filesOf(w.key)) ?? {};
  const [owner, name] = w.key.split('/') as [string, string];
  const user = i.desired.users.get(owner);
  const subject: BuildSubject = {
    workspace_id: saved?.workspaceId ?? '00000000-0000-0000-0000-000000000000',
    workspace: name,
    owner,
    owner_email: user?.email ?? '',
    template: w.template,
    transition: w.build!.transition,
    // A destroy plans with the parameters the workspace was applied with, as its build will.
    parameters: ws && t ? effectiveParameters(t, ws) : (saved?.parameters ?? {}),
  };
  const show = await scratchPlan(i.driver, {
    files,
    state: saved?.state,
    env: buildVariables(subject, i.desired.deployment, 'a-token-made-at-build-time'),
    args: w.build!.transition === 'delete' ? ['-destroy'] : [],
    timeoutMs: parseDuration(i.desired.deployment.terraform.timeout),
  });
  return summarise(show);
}

