// The desired state: what a valid config repo declares, typed and with every default filled in.
// The plan is computed from this and the applied state.

export type Role = 'owner' | 'template-admin' | 'user-admin' | 'auditor' | 'member';
export type ParameterType = 'string' | 'number' | 'integer' | 'boolean';
export type Scalar = string | number | boolean;

export interface Deployment {
  access_url: string;
  /** the config repo's web page, for links to commits */
  repository_url?: string;
  /** http(s)://*.<domain>: where subdomain apps and ports are served */
  wildcard_access_url?: string;
  auth: {
    password: { enabled: boolean };
    oidc?: {
      issuer_url: string;
      client_id: string;
      client_secret_env: string;
      allowed_domains?: string[];
      scopes: string[];
      button_text: string;
      /** the claim that lists the user's IdP groups (groups/*.yaml oidc_group) */
      groups_claim?: string;
    };
    github?: {
      client_id: string;
      client_secret_env: string;
      /** https://github.com, or a GitHub Enterprise Server */
      base_url: string;
      api_url?: string;
      allowed_organizations?: string[];
      /** organization/team-slug */
      allowed_teams?: string[];
      button_text: string;
    };
  };
  terraform: {
    binary: 'terraform' | 'tofu';
    path?: string;
    parallelism: number;
    timeout: string;
    env: string[];
    variables: Record<string, Scalar>;
  };
  notifications?: { webhook_url: string; events: ('sync_invalid' | 'sync_failed' | 'build_failed' | 'workspace_drifted' | 'workspace_agent_lost')[] };
  /** README: Signed commits */
  signatures?: { required: boolean; allowed_signers?: string; allowed_signers_env?: string; gpg_keys?: string[] };
}

/** Limits of one user; a limit left out is not limited. */
export interface Quota {
  workspaces?: number;
  running?: number;
  budget?: number;
}

export interface User {
  name: string;
  file: string;
  email: string;
  full_name?: string;
  roles: Role[];
  login: 'password' | 'oidc' | 'github' | 'none';
  status: 'active' | 'suspended';
  password_hash?: string;
  github?: string;
  /** the user's own limits, as written (effectiveQuota merges in the groups') */
  quota?: Quota;
  /** defaults for the user's workspaces (already merged into each Workspace.schedule) */
  schedule?: { autostart?: string; ttl?: string };
  shell?: string;
  dotfiles?: { repository: string; branch?: string; install_script?: string };
  /** the declared groups the user is a member of (filled in from groups/*.yaml), sorted */
  groups: string[];
}

export interface Group {
  name: string;
  file: string;
  display_name?: string;
  members: string[];
  roles: Role[];
  oidc_group?: string;
  /** each member's limits */
  quota?: Quota;
}

export interface ParameterSpec {
  type: ParameterType;
  display_name?: string;
  description?: string;
  default?: Scalar;
  enum?: Scalar[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  mutable: boolean;
}

export interface Template {
  name: string;
  /** templates/<name>/template.yaml */
  file: string;
  display_name?: string;
  description?: string;
  icon?: string;
  parameters: Record<string, ParameterSpec>;
  agent: { startup_script?: string; shutdown_script?: string; connection_timeout: string; env?: Record<string, string> };
  schedule: { default_ttl?: string; max_ttl?: string };
  /** web apps inside the workspace, by name (README: Apps) */
  apps: Record<string, TemplateApp>;
  /** what a running workspace spends from its owner's budget (README: Quotas) */
  cost: { base: number; parameters: Record<string, number | Record<string, number>> };
  /** the widest a workspace may share a port */
  max_port_share: PortShare;
  /** every file of the module, path relative to the template folder → bytes (template.yaml included) */
  files: Map<string, Buffer>;
}

export type PortShare = 'owner' | 'authenticated' | 'public';
/** owner < authenticated < public */
export const PORT_SHARES: readonly PortShare[] = ['owner', 'authenticated', 'public'];

export interface TemplateApp {
  display_name?: string;
  port: number;
  path: string;
  keep_prefix: boolean;
  /** served on its own origin under wildcard_access_url */
  subdomain?: boolean;
  healthcheck?: { path: string };
  icon?: string;
}

export interface Workspace {
  owner: string;
  name: string;
  file: string;
  template: string;
  /** as written in the file; the template's defaults are not merged in */
  parameters: Record<string, Scalar>;
  state: 'running' | 'stopped';
  schedule: { autostart?: string; ttl?: string };
  /** ports shared beyond the owner */
  ports: { port: number; share: PortShare }[];
}

export interface DesiredState {
  deployment: Deployment;
  users: Map<string, User>;
  groups: Map<string, Group>;
  templates: Map<string, Template>;
  /** keyed "<owner>/<name>" */
  workspaces: Map<string, Workspace>;
}

/** Built-in variables coder-git passes to every template that declares them (README: Terraform contract). */
export const BUILTIN_VARIABLES = [
  'coder_workspace_id',
  'coder_workspace_name',
  'coder_workspace_owner',
  'coder_workspace_owner_email',
  'coder_workspace_transition',
  'coder_access_url',
  'coder_agent_token',
  'coder_agent_command',
  'coder_agent_init_script',
] as const;
