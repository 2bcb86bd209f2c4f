// The HTTP client adapter for code hosts' pull-request APIs: GitHub (issue comments and reviews of
// a pull request) and GitLab (notes and approvals of a merge request). Where to post and the token
// come from the CI environment each host documents, or from flags.
// https://docs.github.com/rest/issues/comments  https://docs.gitlab.com/api/notes/#merge-requests
import { readFileSync } from 'node:fs';
import { CoderGitError } from '../errors.ts';

export interface HostComment {
  id: string;
  body: string;
}

export interface Forge {
  /** "GitHub pull request o/r#5", for messages */
  readonly where: string;
  /** the longest comment body the host accepts */
  readonly limit: number;
  list(): Promise<HostComment[]>;
  create(body: string): Promise<void>;
  update(id: string, body: string): Promise<void>;
  remove(id: string): Promise<void>;
  /**
   * Who wrote the pull request, and who approves it now (logins / usernames): on GitHub each
   * reviewer's latest review, if it approves the pull request's head commit (an approval of an
   * earlier push does not count); on GitLab the merge request's approvals (which GitLab removes on
   * a new push where the project says so).
   */
  approvals(): Promise<{ author: string; approvedBy: string[] }>;
}

export const FORGES = ['github', 'gitlab'] as const;
export type ForgeName = (typeof FORGES)[number];

export interface ForgeOptions {
  forge?: ForgeName;
  /** GitHub owner/name, or GitLab project id or path */
  repo?: string;
  /** pull request number, or merge request iid */
  pr?: number;
  env: NodeJS.ProcessEnv;
}

export const GITHUB_LIMIT = 65_536;
export const GITLAB_LIMIT = 1_000_000;
const PER_PAGE = 100;

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === '' || (typeof v === 'number' && !Number.isFinite(v))) throw new CoderGitError('CG_USAGE', what);
  return v;
}

/** Every row of a paginated list: pages of PER_PAGE until a shorter one. */
async function allPages<T>(page: (n: number) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let n = 1; ; n++) {
    const rows = await page(n);
    out.push(...rows);
    if (rows.length < PER_PAGE) return out;
  }
}

async function call(host: string, token: Record<string, string>, method: string, url: string, body?: unknown, hint?: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...token, 'user-agent': 'coder-git', accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CoderGitError('CG_HTTP', `${host} API unreachable (${method} ${url}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 500);
    const why = res.status === 401 || res.status === 403 || res.status === 404 ? hint : undefined;
    throw new CoderGitError('CG_HTTP', `${host} answered ${res.status} to ${method} ${new URL(url).pathname}: ${text || res.statusText}`, { hint: why });
  }
  return res.status === 204 ? undefined : res.json().catch(() => undefined);
}

function github(o: ForgeOptions): Forge {
  const env = o.env;
  const api = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const repo = need(o.repo ?? env.GITHUB_REPOSITORY, 'GitHub: which repository? Set GITHUB_REPOSITORY (GitHub Actions does) or pass --repo OWNER/NAME');
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new CoderGitError('CG_USAGE', `--repo ${JSON.stringify(repo)}: expected OWNER/NAME`);
  const pr = need(o.pr ?? githubPullNumber(env), 'GitHub: which pull request? Run on a pull_request event (GITHUB_EVENT_PATH) or pass --pr NUMBER');
  const token = need(env.CODER_GIT_GITHUB_TOKEN || env.GITHUB_TOKEN, 'GitHub: no token. Set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}) or CODER_GIT_GITHUB_TOKEN');
  const auth = { authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28' };
  const hint = 'the token needs permission to write pull requests (permissions: pull-requests: write); pull requests from forks get a read-only token';
  const req = (method: string, p: string, body?: unknown) => call('GitHub', auth, method, `${api}${p}`, body, hint);
  return {
    where: `GitHub pull request ${repo}#${pr}`,
    limit: GITHUB_LIMIT,
    async list() {
      const rows = await allPages((page) => req('GET', `/repos/${repo}/issues/${pr}/comments?per_page=${PER_PAGE}&page=${page}`) as Promise<{ id: number; body?: string }[]>);
      return rows.map((r) => ({ id: String(r.id), body: r.body ?? '' }));
    },
    create: async (body) => void (await req('POST', `/repos/${repo}/issues/${pr}/comments`, { body })),
    update: async (id, body) => void (await req('PATCH', `/repos/${repo}/issues/comments/${id}`, { body })),
    remove: async (id) => void (await req('DELETE', `/repos/${repo}/issues/comments/${id}`)),
    async approvals() {
      const readHint = 'the token needs to read pull requests (permissions: pull-requests: read)';
      const pull = (await call('GitHub', auth, 'GET', `${api}/repos/${repo}/pulls/${pr}`, undefined, readHint)) as { user?: { login?: string }; head?: { sha?: string } };
      const head = pull.head?.sha;
      // Reviews come oldest first; a reviewer's later "changes requested" or a dismissal undoes their approval.
      const reviews = await allPages((page) => call('GitHub', auth, 'GET', `${api}/repos/${repo}/pulls/${pr}/reviews?per_page=${PER_PAGE}&page=${page}`, undefined, readHint) as Promise<{ user?: { login?: string }; state?: string; commit_id?: string }[]>);
      const latest = new Map<string, { state: string; commit: string }>();
      for (const r of reviews) {
        if (r.user?.login && r.state && r.state !== 'COMMENTED' && r.state !== 'PENDING') latest.set(r.user.login, { state: r.state, commit: r.commit_id ?? '' });
      }
      return { author: pull.user?.login ?? '', approvedBy: [...latest].filter(([, r]) => r.state === 'APPROVED' && r.commit === head).map(([login]) => login).sort() };
    },
  };
}

/** The pull request of a pull_request(_target) or issue_comment event, else of refs/pull/N/merge. */
function githubPullNumber(env: NodeJS.ProcessEnv): number | undefined {
  if (env.GITHUB_EVENT_PATH) {
    try {
      const e = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as { pull_request?: { number?: number }; issue?: { number?: number } };
      const n = e.pull_request?.number ?? e.issue?.number;
      if (n) return n;
    } catch {}
  }
  const m = /^refs\/pull\/(\d+)\//.exec(env.GITHUB_REF ?? '');
  return m ? Number(m[1]) : undefined;
}

function gitlab(o: ForgeOptions): Forge {
  const env = o.env;
  const api = need(env.CI_API_V4_URL, 'GitLab: which server? Set CI_API_V4_URL (GitLab CI does), e.g. https://gitlab.example.com/api/v4').replace(/\/+$/, '');
  const project = encodeURIComponent(need(o.repo ?? env.CI_PROJECT_ID, 'GitLab: which project? Set CI_PROJECT_ID (GitLab CI does) or pass --repo ID|GROUP/PROJECT'));
  const iid = need(o.pr ?? (env.CI_MERGE_REQUEST_IID ? Number(env.CI_MERGE_REQUEST_IID) : undefined), 'GitLab: which merge request? Run in a merge request pipeline (CI_MERGE_REQUEST_IID) or pass --pr IID');
  // CI_JOB_TOKEN cannot write notes: a project or group access token with the api scope can.
  const token = need(env.CODER_GIT_GITLAB_TOKEN || env.GITLAB_TOKEN, 'GitLab: no token. Set GITLAB_TOKEN (a project access token with the api scope, as a masked CI/CD variable) or CODER_GIT_GITLAB_TOKEN');
  const hint = 'the token needs the api scope and at least the Reporter role on the project';
  const req = (method: string, p: string, body?: unknown) => call('GitLab', { 'private-token': token }, method, `${api}${p}`, body, hint);
  const base = `/projects/${project}/merge_requests/${iid}/notes`;
  return {
    where: `GitLab merge request ${decodeURIComponent(project)}!${iid}`,
    limit: GITLAB_LIMIT,
    async list() {
      const rows = await allPages((page) => req('GET', `${base}?per_page=${PER_PAGE}&page=${page}&sort=asc&order_by=created_at`) as Promise<{ id: number; body?: string; system?: boolean }[]>);
      return rows.filter((r) => !r.system).map((r) => ({ id: String(r.id), body: r.body ?? '' }));
    },
    create: async (body) => void (await req('POST', base, { body })),
    update: async (id, body) => void (await req('PUT', `${base}/${id}`, { body })),
    remove: async (id) => void (await req('DELETE', `${base}/${id}`)),
    async approvals() {
      // (GitLab says who approved, not which push: the project's "remove approvals when commits are added" setting keeps them current)
      const readHint = 'the token needs the read_api scope and at least the Reporter role';
      const mr = (await call('GitLab', { 'private-token': token }, 'GET', `${api}/projects/${project}/merge_requests/${iid}`, undefined, readHint)) as { author?: { username?: string } };
      const r = (await call('GitLab', { 'private-token': token }, 'GET', `${api}/projects/${project}/merge_requests/${iid}/approvals`, undefined, readHint)) as { approved_by?: { user?: { username?: string } }[] };
      return { author: mr.author?.username ?? '', approvedBy: (r.approved_by ?? []).map((a) => a.user?.username).filter((u): u is string => !!u).sort() };
    },
  };
}

/** The host named, or the one whose CI this runs in. */
export function forgeFor(o: ForgeOptions): Forge {
  const name = o.forge ?? (o.env.GITHUB_ACTIONS === 'true' ? 'github' : o.env.GITLAB_CI ? 'gitlab' : undefined);
  if (!name) throw new CoderGitError('CG_USAGE', 'which code host? Not in GitHub Actions or GitLab CI: pass --forge github or --forge gitlab');
  return name === 'github' ? github(o) : gitlab(o);
}
