// The HTTP client adapter for a Coder deployment's REST API (/api/v2), read-only: what an import
// needs of users, templates (with their files, parameters and variables) and workspaces (with their
// latest build's parameters). Shapes follow Coder's API reference (coder.com/docs/reference/api);
// only the fields coder-git maps are typed.
import { CoderGitError } from '../errors.ts';

export interface CoderUser {
  id: string;
  username: string;
  email: string;
  name?: string;
  status: 'active' | 'suspended' | 'dormant';
  login_type: 'password' | 'github' | 'oidc' | 'token' | 'none' | '';
  roles: { name: string; display_name?: string }[];
}

export interface CoderTemplate {
  id: string;
  name: string;
  display_name?: string;
  description?: string;
  icon?: string;
  organization_id?: string;
  organization_name?: string;
  active_version_id: string;
  default_ttl_ms?: number;
  max_ttl_ms?: number;
  activity_bump_ms?: number;
  autostop_requirement?: { days_of_week: string[]; weeks: number };
  allow_user_autostart?: boolean;
  allow_user_autostop?: boolean;
  deprecated?: boolean;
}

export interface CoderTemplateVersion {
  id: string;
  name: string;
  job: { file_id: string };
}

export interface CoderRichParameter {
  name: string;
  display_name?: string;
  description?: string;
  type: 'string' | 'number' | 'bool' | 'list(string)';
  form_type?: string;
  mutable: boolean;
  default_value: string;
  required: boolean;
  ephemeral?: boolean;
  options?: { name: string; value: string; description?: string }[];
  validation_regex?: string;
  validation_min?: number | null;
  validation_max?: number | null;
  validation_monotonic?: string;
}

export interface CoderTemplateVariable {
  name: string;
  type: string;
  value: string;
  default_value: string;
  required: boolean;
  sensitive: boolean;
}

export interface CoderWorkspace {
  id: string;
  name: string;
  owner_name: string;
  template_name: string;
  template_id: string;
  outdated?: boolean;
  autostart_schedule?: string | null;
  ttl_ms?: number | null;
  dormant_at?: string | null;
  deleting_at?: string | null;
  automatic_updates?: string;
  latest_build: { id: string; transition: 'start' | 'stop' | 'delete'; status: string; template_version_id: string };
}

export interface CoderClient {
  users(): Promise<CoderUser[]>;
  templates(): Promise<CoderTemplate[]>;
  templateVersion(id: string): Promise<CoderTemplateVersion>;
  file(id: string): Promise<Buffer>;
  richParameters(versionId: string): Promise<CoderRichParameter[]>;
  variables(versionId: string): Promise<CoderTemplateVariable[]>;
  workspaces(): Promise<CoderWorkspace[]>;
  buildParameters(buildId: string): Promise<{ name: string; value: string }[]>;
}

const PAGE = 100;

export function coderClient(baseUrl: string, token: string): CoderClient {
  const base = baseUrl.replace(/\/+$/, '');
  const get = async (p: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(`${base}/api/v2${p}`, { headers: { 'coder-session-token': token, accept: 'application/json', 'user-agent': 'coder-git' }, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new CoderGitError('CG_HTTP', `cannot reach Coder at ${base}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 300);
      const hint = res.status === 401 ? 'set CODER_SESSION_TOKEN to a session or API token of an Owner (coder tokens create)' : res.status === 403 ? 'the token\'s user must be an Owner (or have the Auditor role) to read every user and workspace' : undefined;
      throw new CoderGitError('CG_HTTP', `Coder answered ${res.status} to GET /api/v2${p.split('?')[0]}: ${body || res.statusText}`, { hint });
    }
    return res;
  };
  const json = async <T>(p: string) => (await (await get(p)).json()) as T;
  const paged = async <T>(p: string, key: string): Promise<T[]> => {
    const out: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await json<Record<string, T[]>>(`${p}${p.includes('?') ? '&' : '?'}limit=${PAGE}&offset=${offset}`);
      const rows = page[key] ?? [];
      out.push(...rows);
      if (rows.length < PAGE) return out;
    }
  };
  return {
    users: () => paged<CoderUser>('/users', 'users'),
    templates: () => json<CoderTemplate[]>('/templates'),
    templateVersion: (id) => json<CoderTemplateVersion>(`/templateversions/${id}`),
    file: async (id) => Buffer.from(await (await get(`/files/${id}`)).arrayBuffer()),
    richParameters: (id) => json<CoderRichParameter[]>(`/templateversions/${id}/rich-parameters`),
    variables: (id) => json<CoderTemplateVariable[]>(`/templateversions/${id}/variables`),
    workspaces: () => paged<CoderWorkspace>('/workspaces', 'workspaces'),
    buildParameters: (id) => json<{ name: string; value: string }[]>(`/workspacebuilds/${id}/parameters`),
  };
}
