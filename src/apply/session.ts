// What plan and apply share: a commit loaded and validated (nothing happens for one that does not
// validate), the deployment's Terraform settings, and saved plan files.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import type { ConfigSource, ValidationResult } from '../config/index.ts';
import type { DesiredState, Deployment } from '../config/types.ts';
import { CoderGitError } from '../errors.ts';
import { TerraformDriver } from '../terraform/driver.ts';
import type { Plan } from '../plan/types.ts';
import { GitRepo } from '../git/git.ts';

export interface LoadedCommit {
  source: ConfigSource;
  result: ValidationResult;
  desired: DesiredState | undefined;
}

export async function loadCommit(dir: string, ref: string): Promise<LoadedCommit> {
  const { source, result } = await loadConfig({ dir, ref });
  return { source, result, desired: result.state };
}

export function driverFor(d: Deployment, dataDir: string): TerraformDriver {
  return new TerraformDriver({ binary: d.terraform.path ?? d.terraform.binary, passEnv: d.terraform.env, pluginCacheDir: path.join(dataDir, 'plugin-cache') });
}

export interface SavedPlan {
  format: 'coder-git-plan';
  version: 1;
  commit: string;
  ref: string | null;
  fingerprint: string;
  plan: Plan;
}

export async function savePlan(file: string, p: Omit<SavedPlan, 'format' | 'version'>): Promise<void> {
  await fsp.writeFile(file, `${JSON.stringify({ format: 'coder-git-plan', version: 1, ...p }, null, 2)}\n`, { mode: 0o600 });
}

export async function readPlan(file: string): Promise<SavedPlan> {
  let j: SavedPlan;
  try {
    j = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (cause) {
    throw new CoderGitError('CG_USAGE', `${file}: not a readable plan file`, { cause });
  }
  if (j?.format !== 'coder-git-plan' || j.version !== 1) throw new CoderGitError('CG_USAGE', `${file}: not a coder-git plan (make one with coder-git plan --out ${file})`);
  return j;
}

/** A saved plan's ref must still point at its commit ("the commit moved" makes it stale). */
export async function checkRefUnmoved(dir: string, saved: SavedPlan): Promise<void> {
  if (!saved.ref) return;
  const now = await new GitRepo(path.resolve(dir)).resolveCommit(saved.ref).catch(() => undefined);
  if (now && now !== saved.commit) {
    throw new CoderGitError('CG_PLAN_STALE', `the saved plan is stale: ${saved.ref} moved from ${saved.commit.slice(0, 12)} to ${now.slice(0, 12)} since it was made`, { hint: 'make a new plan and apply that' });
  }
}

/**
 * The applied commit that already contains `sha`, if any: applying `sha` then would take the
 * deployment back (an older CI job running after a newer one). Unknown ancestry (a shallow clone
 * without that commit) is not a reason to refuse.
 */
export async function newerApplied(dir: string, sha: string, lastApplied: string | undefined): Promise<string | undefined> {
  if (!lastApplied || lastApplied === sha) return undefined;
  return (await new GitRepo(dir).isAncestor(sha, lastApplied)) ? lastApplied : undefined;
}
