// What a plan says. Stable: the JSON format (README: "Plan JSON") is this shape.
import type { Transition, BuildReason } from '../db/repos/builds.ts';

/** What `terraform plan` does to one resource (from `terraform show -json`). */
export type ResourceAction = 'create' | 'update' | 'replace' | 'delete' | 'read';

export interface TerraformPlan {
  resources: { address: string; action: ResourceAction }[];
  add: number;
  change: number;
  destroy: number;
}


export type Action = 'create' | 'update' | 'delete' | 'noop';

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
  /** the values are never shown (password hashes) */
  sensitive?: boolean;
}

export interface ObjectChange {
  key: string;
  action: Action;
  fields: FieldChange[];
}

export interface TemplateChange extends ObjectChange {
  /** the new version's content hash, when it changes */
  version?: string;
  /** workspaces this change rebuilds ("owner/name") */
  workspaces: string[];
}

export interface BuildPlan {
  transition: Transition;
  reason: BuildReason;
  /** why, for people: "parameters changed", "template local has a new version", … */
  why: string[];
}

export interface WorkspaceChange extends ObjectChange {
  template: string;
  build: BuildPlan | null;
  /** set when a build of this workspace is already pending or running */
  inProgress?: string;
  /** what `terraform plan` says the build will do (plan without --no-terraform) */
  terraform?: TerraformPlan;
  terraformError?: string;
}

export interface PlanError {
  key: string;
  file: string;
  message: string;
}

export interface PlanSummary {
  users: Counts;
  groups: Counts;
  templates: Counts;
  workspaces: Counts;
  builds: { start: number; stop: number; delete: number };
}

export interface Counts {
  create: number;
  update: number;
  delete: number;
}

export interface Plan {
  /** coder-git.yaml (key "coder-git.yaml"): its settings as fields */
  deployment: ObjectChange;
  users: ObjectChange[];
  /** groups/<name>.yaml, by name */
  groups: ObjectChange[];
  templates: TemplateChange[];
  workspaces: WorkspaceChange[];
  errors: PlanError[];
  summary: PlanSummary;
}
