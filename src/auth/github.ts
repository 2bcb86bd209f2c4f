// GitHub as an identity provider (README: Signing in with GitHub): the OAuth app web flow of
// github.com and GitHub Enterprise Server, and the few REST calls that say who signed in. Every
// request to GitHub is here; the routes (src/server/github-login.ts) only decide.
//
// GitHub's documented endpoints: GET <base>/login/oauth/authorize, POST <base>/login/oauth/access_token
// (which answers 200 with {"error": …} for a bad code), and on the API (https://api.github.com, or
// <base>/api/v3 on Enterprise Server): /user, /user/emails, /user/orgs, /user/teams, paginated by
// Link headers. PKCE (S256) is sent always: a host that does not support it ignores both halves,
// and the state still binds the answer to the browser that asked.

import type { Deployment } from '../config/types.ts';
import { CoderGitError } from '../errors.ts';
import { isLoopbackUrl } from './loopback.ts';

export type GithubSettings = NonNullable<Deployment['auth']['github']>;

export interface GithubIdentity {
  login: string;
  id: number;
  /** verified addresses only, lower-case */
  emails: string[];
  /** organization logins (asked only when the settings restrict them) */
  orgs: string[];
  /** organization/team-slug (asked only when the settings restrict them) */
  teams: string[];
}

const TIMEOUT_MS = 10_000;
const MAX_PAGES = 10;

const trim = (u: string) => u.replace(/\/+$/, '');

/** Where the flow goes. Plain http only to this machine (a stand-in, a laptop), as for OIDC. */
export function githubUrls(o: Pick<GithubSettings, 'base_url' | 'api_url'>): { authorize: string; token: string; api: string } {
  const base = trim(o.base_url);
  const api = trim(o.api_url ?? (new URL(base).hostname === 'github.com' ? 'https://api.github.com' : `${base}/api/v3`));
  for (const u of [base, api]) {
    if (u.startsWith('http:') && !isLoopbackUrl(u)) throw new CoderGitError('CG_USAGE', `auth.github: ${u} is plain http; GitHub sign-in needs https (http only on this machine)`);
  }
  return { authorize: `${base}/login/oauth/authorize`, token: `${base}/login/oauth/access_token`, api };
}

/** What the app asks for: the profile and its emails; organizations and teams only when they are checked. */
export function githubScopes(o: Pick<GithubSettings, 'allowed_organizations' | 'allowed_teams'>): string[] {
  return ['read:user', 'user:email', ...(o.allowed_organizations?.length || o.allowed_teams?.length ? ['read:org'] : [])];
}

export function authorizeUrl(o: GithubSettings, p: { redirectUri: string; state: string; challenge: string }): string {
  const q = new URLSearchParams({ client_id: o.client_id, redirect_uri: p.redirectUri, scope: githubScopes(o).join(' '), state: p.state, code_challenge: p.challenge, code_challenge_method: 'S256', allow_signup: 'false' });
  return `${githubUrls(o).authorize}?${q}`;
}

/** The code GitHub sent back, exchanged for an access token. */
export async function exchangeCode(o: GithubSettings, secret: string, p: { code: string; redirectUri: string; verifier: string }): Promise<string> {
  const res = await fetch(githubUrls(o).token, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'coder-git' },
    body: new URLSearchParams({ client_id: o.client_id, client_secret: secret, code: p.code, redirect_uri: p.redirectUri, code_verifier: p.verifier }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new Error(`GitHub refused the code: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
  return body.access_token;
}

/** GET on the API, following Link rel="next" for lists. */
async function api<T>(o: GithubSettings, token: string, route: string): Promise<T> {
  const headers = { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28', 'user-agent': 'coder-git' };
  let url: string | undefined = `${githubUrls(o).api}${route}`;
  const pages: unknown[] = [];
  for (let i = 0; url && i < MAX_PAGES; i++) {
    const res: Response = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`GitHub ${route}: HTTP ${res.status}`);
    const body: unknown = await res.json();
    if (!Array.isArray(body)) return body as T;
    pages.push(...body);
    url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return pages as T;
}

/** Who the token belongs to. */
export async function githubIdentity(o: GithubSettings, token: string): Promise<GithubIdentity> {
  const restricted = { orgs: !!o.allowed_organizations?.length, teams: !!o.allowed_teams?.length };
  const [user, emails, orgs, teams] = await Promise.all([
    api<{ login: string; id: number }>(o, token, '/user'),
    api<{ email: string; verified: boolean }[]>(o, token, '/user/emails?per_page=100'),
    restricted.orgs ? api<{ login: string }[]>(o, token, '/user/orgs?per_page=100') : [],
    restricted.teams ? api<{ slug: string; organization: { login: string } }[]>(o, token, '/user/teams?per_page=100') : [],
  ]);
  return {
    login: user.login,
    id: user.id,
    emails: emails.filter((e) => e.verified === true && typeof e.email === 'string').map((e) => e.email.toLowerCase()),
    orgs: orgs.map((x) => x.login),
    teams: teams.map((t) => `${t.organization.login}/${t.slug}`),
  };
}

/** Why this identity may not sign in here, or undefined. Pure: organizations and teams compare case-insensitively, as GitHub does. */
export function githubRefusal(o: Pick<GithubSettings, 'allowed_organizations' | 'allowed_teams'>, id: Pick<GithubIdentity, 'login' | 'orgs' | 'teams'>): string | undefined {
  const has = (mine: string[], allowed: string[]) => allowed.some((a) => mine.some((m) => m.toLowerCase() === a.toLowerCase()));
  if (o.allowed_organizations?.length && !has(id.orgs, o.allowed_organizations)) {
    return `${id.login} is not a member of ${o.allowed_organizations.join(' or ')} on GitHub (coder-git.yaml auth.github.allowed_organizations). If you are, grant this app access to the organization and try again.`;
  }
  if (o.allowed_teams?.length && !has(id.teams, o.allowed_teams)) {
    return `${id.login} is not in the team ${o.allowed_teams.join(' or ')} on GitHub (coder-git.yaml auth.github.allowed_teams).`;
  }
  return undefined;
}
