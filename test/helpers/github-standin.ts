// A stand-in for GitHub's documented OAuth app flow and the REST calls sign-in makes, on a real port:
// the authorize page (a person clicks Authorize or Cancel), the code exchange (single-use codes bound
// to the redirect URI, the client secret, and the PKCE challenge when one was sent — answering 200
// with {"error": …} as GitHub does), and /user, /user/emails, /user/orgs, /user/teams with Link
// pagination. Private organization memberships show only to a token with read:org, as on GitHub.
// The API is served at /api/v3 as well (GitHub Enterprise Server's path).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GithubAccount {
  id: number;
  login: string;
  emails: { email: string; verified: boolean; primary?: boolean }[];
  orgs?: { login: string; public: boolean }[];
  teams?: { org: string; slug: string }[];
}

export interface GithubStandin {
  url: string;
  /** who is signed in to the stand-in's "GitHub" in the browser (the next authorize page approves as them) */
  signedIn: string;
  /** every request, as "METHOD path" */
  requests: string[];
  /** the authorize requests' query parameters */
  authorizations: URLSearchParams[];
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function githubStandin(o: { clientId: string; clientSecret: string; callback: string; accounts: GithubAccount[] }): Promise<GithubStandin> {
  const byLogin = new Map(o.accounts.map((a) => [a.login, a]));
  const codes = new Map<string, { login: string; redirect: string; challenge?: string; scope: string; at: number }>();
  const tokens = new Map<string, { login: string; scope: string }>();
  const requests: string[] = [];
  const authorizations: URLSearchParams[] = [];
  const self: Partial<GithubStandin> = { signedIn: o.accounts[0]!.login, requests, authorizations };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
  };
  const readBody = (req: IncomingMessage) => new Promise<string>((r) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => r(b));
  });
  const page = (res: ServerResponse, status: number, body: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>GitHub</title><body>${body}</body>`);
  /** one page of a list, with GitHub's Link header for the next */
  const paged = (res: ServerResponse, url: URL, all: unknown[]) => {
    const per = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const p = Number(url.searchParams.get('page') ?? 1);
    const next = new URL(url);
    next.searchParams.set('page', String(p + 1));
    const more = all.length > p * per;
    json(res, 200, all.slice((p - 1) * per, p * per), more ? { link: `<${self.url}${next.pathname}${next.search}>; rel="next"` } : {});
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    requests.push(`${req.method} ${url.pathname}`);
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const q = url.searchParams;
      authorizations.push(q);
      if (q.get('client_id') !== o.clientId) return page(res, 404, '<h1>404</h1>');
      const redirect = q.get('redirect_uri') ?? o.callback;
      if (!redirect.startsWith(o.callback)) return page(res, 400, '<h1>The redirect_uri is not associated with this application.</h1>');
      const approve = new URL('/login/oauth/authorize/approve', self.url);
      for (const [k, v] of q) approve.searchParams.set(k, v);
      const cancel = `${redirect}?${new URLSearchParams({ error: 'access_denied', error_description: 'The user has denied your application access.', state: q.get('state') ?? '' })}`;
      return page(res, 200, `<h1>Authorize coder-git</h1><p>Signed in as <b id="who">${esc(self.signedIn!)}</b>; scopes ${esc(q.get('scope') ?? '')}</p><a id="authorize" href="${esc(approve.href)}">Authorize</a> <a id="cancel" href="${esc(cancel)}">Cancel</a>`);
    }
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize/approve') {
      const q = url.searchParams;
      const code = randomBytes(10).toString('hex');
      const redirect = q.get('redirect_uri') ?? o.callback;
      codes.set(code, { login: self.signedIn!, redirect, challenge: q.get('code_challenge') ?? undefined, scope: q.get('scope') ?? '', at: Date.now() });
      res.writeHead(302, { location: `${redirect}?${new URLSearchParams({ code, state: q.get('state') ?? '' })}` }).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const raw = await readBody(req);
      const b = (req.headers['content-type'] ?? '').includes('json') ? (JSON.parse(raw) as Record<string, string>) : Object.fromEntries(new URLSearchParams(raw));
      const c = codes.get(b.code ?? '');
      codes.delete(b.code ?? '');
      const err = (error: string, error_description: string) => json(res, 200, { error, error_description });
      if (b.client_id !== o.clientId || b.client_secret !== o.clientSecret) return err('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
      if (!c || Date.now() - c.at > 600_000) return err('bad_verification_code', 'The code passed is incorrect or expired.');
      if (b.redirect_uri && b.redirect_uri !== c.redirect) return err('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
      if (c.challenge && createHash('sha256').update(b.code_verifier ?? '').digest('base64url') !== c.challenge) return err('invalid_grant', 'The code_verifier does not match the code_challenge.');
      const token = `gho_${randomBytes(18).toString('hex')}`;
      tokens.set(token, { login: c.login, scope: c.scope });
      if (!(req.headers.accept ?? '').includes('json')) {
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded' }).end(new URLSearchParams({ access_token: token, scope: c.scope, token_type: 'bearer' }).toString());
        return;
      }
      return json(res, 200, { access_token: token, token_type: 'bearer', scope: c.scope.replace(/ /g, ',') });
    }
    // The REST API, at / (api.github.com) and at /api/v3 (Enterprise Server).
    const route = url.pathname.replace(/^\/api\/v3/, '');
    const auth = /^(?:Bearer|token) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const t = auth ? tokens.get(auth) : undefined;
    if (!t) return json(res, 401, { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest' });
    const a = byLogin.get(t.login)!;
    const scopes = t.scope.split(/[ ,]+/);
    if (req.method === 'GET' && route === '/user') return json(res, 200, { login: a.login, id: a.id, type: 'User', email: a.emails.find((e) => e.primary)?.email ?? null });
    if (req.method === 'GET' && route === '/user/emails') {
      if (!scopes.includes('user:email')) return json(res, 404, { message: 'Not Found' });
      return paged(res, url, a.emails.map((e) => ({ email: e.email, verified: e.verified, primary: !!e.primary, visibility: null })));
    }
    if (req.method === 'GET' && route === '/user/orgs') return paged(res, url, (a.orgs ?? []).filter((x) => x.public || scopes.includes('read:org')).map((x) => ({ login: x.login, id: 1 })));
    if (req.method === 'GET' && route === '/user/teams') {
      if (!scopes.includes('read:org')) return json(res, 403, { message: 'Resource not accessible by integration' });
      return paged(res, url, (a.teams ?? []).map((x) => ({ slug: x.slug, name: x.slug, organization: { login: x.org } })));
    }
    json(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self.close = () => new Promise<void>((r) => server.close(() => r()));
  return self as GithubStandin;
}
