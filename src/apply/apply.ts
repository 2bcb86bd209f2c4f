// Apply: the one way changes happen, for the CLI, CI and the runner alike.
//  1. Under a transaction-scoped advisory lock (so two applies never interleave), the plan is made
//     again from the applied state as it is now; a saved plan whose applied state or commit moved is
//     refused as stale, and so is a plan with errors or one destroying more than the guard allows.
//  2. In that same transaction: the sync row, users, templates and versions, workspaces, and one
//     build (with its queued job) per workspace that needs one. All of it or none of it.
//  3. Workers take the builds from the queue (FOR UPDATE SKIP LOCKED) and run Terraform.

import { createHash } from 'node:crypto';
import type { Db, Q } from '../db/connect.ts';
import type { DesiredState } from '../config/types.ts';
import type { CommitInfo } from '../git/git.ts';
import { CoderGitError } from '../errors.ts';
import { diff, templateVersions, userDefaults, type DiffOptions } from '../plan/diff.ts';
import { effectiveRoles, workspaceCost } from '../config/resolve.ts';
import { groups } from '../db/repos/groups.ts';
import { effectiveParameters } from '../plan/hash.ts';
import type { Plan } from '../plan/types.ts';
import { loadAppliedState, readAppliedState, type AppliedState } from '../db/state.ts';
import { users } from '../db/repos/users.ts';
import { templates } from '../db/repos/templates.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import { builds, type BuildStatus } from '../db/repos/builds.ts';
import { jobs } from '../db/repos/jobs.ts';
import { syncs } from '../db/repos/syncs.ts';
import { audit } from '../db/repos/audit.ts';
import { deployment as deploymentRepo } from '../db/repos/deployment.ts';
import { reconciler } from '../db/repos/reconciler.ts';
import { locks } from '../db/repos/locks.ts';
import { states } from '../db/repos/states.ts';
import { addTerraformPlans } from '../plan/terraform.ts';
import type { TerraformDriver } from '../terraform/driver.ts';
import { keyringFromEnv } from '../auth/secret-box.ts';
import { ensureGitSshKeys } from '../auth/git-ssh.ts';

/** A digest of the applied state: a saved plan is stale when it no longer matches. */
export function fingerprint(a: AppliedState): string {
  const plain = {
    users: [...a.users.values()],
    templates: [...a.templates.values()],
    workspaces: [...a.workspaces.values()],
    deployment: a.deployment,
  };
  return createHash('sha256').update(JSON.stringify(plain)).digest('hex');
}

/** A plan made (or saved) against applied state `expected` is refused once the state is `actual`. */
export function assertFresh(expected: string | undefined, actual: string): void {
  if (expected && expected !== actual) {
    throw new CoderGitError('CG_PLAN_STALE', 'the saved plan is stale: the applied state changed since it was made', { hint: 'make a new plan (coder-git plan --out FILE) and apply that' });
  }
}

/**
 * Runs fn in a transaction holding the apply lock (no two coder-git writers interleave), after
 * checking the runner's fencing epoch when one is given. Every change to what is applied goes here.
 */
export function underApplyLock<T>(db: Db, epoch: number | undefined, fn: (t: Q) => Promise<T>): Promise<T> {
  return db.tx('apply', async (t) => {
    await locks.apply(t);
    if (epoch !== undefined && !(await reconciler.check(t, epoch))) {
      throw new CoderGitError('CG_FENCED', 'another runner reconciles now; this one no longer writes');
    }
    return fn(t);
  });
}

export interface Planned {
  plan: Plan;
  fingerprint: string;
}

export interface TerraformInPlan {
  driver: TerraformDriver;
  parallelism: number;
}

export async function makePlan(db: Db, desired: DesiredState, terraform?: TerraformInPlan, opts: DiffOptions = {}): Promise<Planned> {
  const applied = await loadAppliedState(db);
  const hashes = templateVersions(desired);
  const plan = diff(desired, applied, hashes, opts);
  if (terraform) {
    await addTerraformPlans({
      driver: terraform.driver,
      parallelism: terraform.parallelism,
      desired,
      plan,
      hashes,
      stateOf: async (key) => {
        const w = applied.workspaces.get(key);
        if (!w) return undefined;
        return { workspaceId: w.id, state: (await states.latest(db, w.id))?.state, parameters: w.parameters };
      },
      filesOf: async (key) => {
        const v = applied.workspaces.get(key)?.template_version_id;
        return v ? templates.versionFiles(db, v) : undefined;
      },
    });
  }
  return { plan, fingerprint: fingerprint(applied) };
}

export interface ApplyOptions {
  commit: CommitInfo;
  ref: string | null;
  /** the runner's fencing token: the apply is refused if another runner has reconciled since */
  epoch?: number;
  /** record the changes under this existing sync (the runner re-applying the commit it already saw) */
  syncId?: string;
  /** the runner's retry backoff (see DiffOptions) */
  retryAfterMs?: number;
  /** a saved plan's fingerprint: refuse if the applied state moved since */
  expectFingerprint?: string;
  allowDestroy: boolean;
  maxDestroy: number;
}

export interface Written {
  syncId: string;
  plan: Plan;
  buildIds: string[];
}

export async function writeChanges(db: Db, desired: DesiredState, o: ApplyOptions): Promise<Written> {
  const hashes = templateVersions(desired);
  // (read before anything is written: a malformed key refuses the apply, it does not half-apply it)
  const ring = keyringFromEnv();
  return underApplyLock(db, o.epoch, async (t) => {
    const applied = await readAppliedState(t);
    assertFresh(o.expectFingerprint, fingerprint(applied));
    const plan = diff(desired, applied, hashes, { retryAfterMs: o.retryAfterMs });
    if (plan.errors.length) {
      throw new CoderGitError('CG_PLAN_INVALID', `the plan has ${plan.errors.length} error(s); nothing was applied:\n${plan.errors.map((e) => `  ${e.file}: ${e.message}`).join('\n')}`);
    }
    const destroys = plan.summary.builds.delete;
    if (destroys > o.maxDestroy && !o.allowDestroy) {
      throw new CoderGitError('CG_DESTROY_GUARD', `the plan destroys ${destroys} workspaces, more than the limit of ${o.maxDestroy}; nothing was applied`, {
        hint: 'check the plan, then apply with --allow-destroy (or raise --max-destroy)',
      });
    }
    const syncId =
      o.syncId ??
      (await syncs.insert(t, {
        commit_sha: o.commit.sha,
        ref: o.ref,
        author: o.commit.author,
        message: o.commit.subject,
        status: 'applying',
        errors: [],
        plan_summary: plan.summary,
      }));
    await syncs.setStatus(t, syncId, 'applying', { plan_summary: plan.summary, plan });

    if (plan.deployment.action !== 'noop') await deploymentRepo.save(t, desired.deployment, o.commit.sha);
    // key → action, per kind: 10,000 users must not mean 10,000 scans of the plan.
    const actions = (xs: { key: string; action: string }[]) => new Map(xs.map((x) => [x.key, x.action]));
    const userActions = actions(plan.users);
    const templateActions = actions(plan.templates);
    const workspaceActions = actions(plan.workspaces);
    if (plan.users.some((u) => u.action !== 'noop')) await users.changed(t);
    await users.upsert(
      t,
      [...desired.users.values()]
        .filter((u) => userActions.get(u.name) !== 'noop')
        .map((u) => ({
          username: u.name, email: u.email, full_name: u.full_name ?? null, roles: effectiveRoles(u, desired.groups), login_type: u.login, status: u.status, password_hash: u.password_hash ?? null,
          groups: u.groups, quota: u.quota ?? {}, defaults: userDefaults(u),
        })),
    );
    // Every user gets a git SSH key on their first apply (or the first with encryption keys).
    if (ring) await ensureGitSshKeys(t, ring);
    const groupActions = actions(plan.groups);
    await groups.upsert(
      t,
      [...desired.groups.values()]
        .filter((g) => groupActions.get(g.name) !== 'noop')
        .map((g) => ({ name: g.name, display_name: g.display_name ?? null, members: [...g.members].sort(), roles: g.roles, oidc_group: g.oidc_group ?? null, quota: g.quota ?? {} })),
    );
    await groups.remove(t, plan.groups.filter((g) => g.action === 'delete').map((g) => g.key));
    // (a group's roles reach its OIDC members through effective_roles: their cached keys must go)
    if (plan.groups.some((g) => g.action !== 'noop')) await users.changed(t);
    const tpls = [...desired.templates.values()].filter((x) => templateActions.get(x.name) !== 'noop');
    await templates.upsert(t, tpls.map((x) => ({ name: x.name, display_name: x.display_name ?? null, description: x.description ?? null, icon: x.icon ?? null })));
    await templates.upsertVersions(
      t,
      tpls.map((x) => ({
        template: x.name,
        content_hash: hashes.get(x.name)!,
        commit_sha: o.commit.sha,
        manifest: { display_name: x.display_name, description: x.description, icon: x.icon, parameters: x.parameters, agent: x.agent, schedule: x.schedule, apps: x.apps, max_port_share: x.max_port_share },
        files: Object.fromEntries([...x.files].map(([p, b]) => [p, b.toString('base64')])),
      })),
    );
    await workspaces.upsert(
      t,
      [...desired.workspaces.entries()]
        .filter(([key]) => workspaceActions.get(key) !== 'noop')
        .map(([, w]) => {
          const t = desired.templates.get(w.template)!;
          const parameters = effectiveParameters(t, w);
          return { owner: w.owner, name: w.name, template: w.template, parameters, desired_state: w.state, schedule: w.schedule, ports: w.ports, cost: workspaceCost(t, parameters) };
        }),
    );
    const withBuild = plan.workspaces.filter((w) => w.build);
    const ids = new Map((await workspaces.ids(t, withBuild.map((w) => w.key))).map((r) => [r.key, r]));
    const buildIds: string[] = [];
    for (const w of withBuild) {
      const row = ids.get(w.key);
      if (!row) continue;
      const params = desired.workspaces.has(w.key) ? effectiveParameters(desired.templates.get(w.template)!, desired.workspaces.get(w.key)!) : (applied.workspaces.get(w.key)?.parameters ?? {});
      const b = await builds.create(t, { workspace_id: row.id, transition: w.build!.transition, reason: w.build!.reason, template_version_id: row.template_version_id, parameters: params, sync_id: syncId });
      buildIds.push(b.id);
    }
    // Templates and users leave after their workspaces (whose destroy builds still refer to them).
    await templates.remove(t, plan.templates.filter((x) => x.action === 'delete').map((x) => x.key));
    await users.remove(t, plan.users.filter((x) => x.action === 'delete').map((x) => x.key));
    await audit.append(t, { actor: `git:${o.commit.author || 'unknown'}`, action: 'sync_applied', target: o.commit.sha, details: { ref: o.ref, summary: plan.summary }, sync_id: syncId });
    if (!buildIds.length && !plan.workspaces.some((w) => w.inProgress)) await syncs.setStatus(t, syncId, 'applied');
    return { syncId, plan, buildIds };
  });
}

/** Marks the sync applied when every build of it succeeded, failed otherwise. */
export async function finishSync(db: Db, syncId: string, results: Map<string, BuildStatus>): Promise<'applied' | 'failed'> {
  const failed = [...results.values()].filter((s) => s !== 'succeeded').length;
  const status = failed ? 'failed' : 'applied';
  await syncs.setStatus(db, syncId, status, failed ? { errors: [{ message: `${failed} build(s) did not succeed` }] } : {});
  return status;
}
