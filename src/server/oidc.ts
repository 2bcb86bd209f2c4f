// Sign in with SSO (OpenID Connect, openid-client): authorization code flow with PKCE (S256), state
// and nonce checked. The identity is matched to a users/*.yaml by its *verified* email, optionally
// only from allowed domains, and the user must be declared `login: oidc` and active: an identity git
// does not declare is refused (users exist only because git says so).
//
// What the browser must bring back (state, nonce, PKCE verifier, where to go next) is kept in a
// short-lived HttpOnly cookie scoped to the callback path. Plain-http issuers are accepted only on
// loopback addresses (a provider started for tests or a laptop).

import * as client from 'openid-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import type { Deployment } from '../config/types.ts';
import { users } from '../db/repos/users.ts';
import { audit } from '../db/repos/audit.ts';
import { html, page } from './html.ts';
import { completeSignIn, refuseSignIn, startFlow, takeFlow } from './sso.ts';
import { isLoopbackUrl } from '../auth/loopback.ts';

const FLOW_COOKIE = 'coder_git_oidc';
const CALLBACK = '/login/oidc/callback';

type OidcSettings = NonNullable<Deployment['auth']['oidc']>;

const configs = new Map<string, Promise<client.Configuration>>();

/** Discovery, once per issuer/client/secret (a failed discovery is retried at the next sign-in). */
function configuration(o: OidcSettings): Promise<client.Configuration> {
  const secret = process.env[o.client_secret_env] ?? '';
  const key = `${o.issuer_url}\n${o.client_id}\n${secret}`;
  let c = configs.get(key);
  if (!c) {
    const insecure = o.issuer_url.startsWith('http:') && isLoopbackUrl(o.issuer_url);
    c = client.discovery(new URL(o.issuer_url), o.client_id, secret || undefined, undefined, insecure ? { execute: [client.allowInsecureRequests] } : undefined);
    c.catch(() => configs.delete(key));
    configs.set(key, c);
  }
  return c;
}

export interface OidcOutcome {
  ok: boolean;
  message: string;
  username?: string;
}

/** Who an ID token's claims are in this deployment, or why not. Pure: tested on its own. */
export function matchIdentity(o: Pick<OidcSettings, 'allowed_domains'>, claims: Record<string, unknown>): { email: string } | { refused: string } {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email) return { refused: 'The identity provider sent no email address (add the "email" scope).' };
  if (claims.email_verified !== true) return { refused: `The email address ${email} is not verified by the identity provider.` };
  const domain = email.split('@')[1] ?? '';
  if (o.allowed_domains?.length && !o.allowed_domains.some((d) => d.toLowerCase() === domain)) {
    return { refused: `Sign-in from ${domain} is not allowed here (coder-git.yaml auth.oidc.allowed_domains).` };
  }
  return { email };
}

/**
 * The IdP groups a sign-in's claims name (auth.oidc.groups_claim): a list of strings, or one string;
 * anything else counts as none. Pure: tested on its own.
 */
export function claimGroups(claims: Record<string, unknown>, claim: string | undefined): string[] {
  if (!claim) return [];
  const v = claims[claim];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 256))].sort();
}

export async function oidcRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;
  const refuse = async (_req: FastifyRequest, reply: FastifyReply, message: string, code = 403) => refuseSignIn(ctx, reply, message, code);

  app.get('/login/oidc', async (req, reply) => {
    const o = (await ctx.deployment())?.auth.oidc;
    if (!o) return reply.code(404).type('text/html; charset=utf-8').send(page('Not found', html`<h1>SSO is not set up</h1><p>coder-git.yaml has no auth.oidc.</p>`));
    let config: client.Configuration;
    try {
      config = await configuration(o);
    } catch (err) {
      req.log.error({ err: err instanceof Error ? err.message : String(err) }, 'OIDC discovery failed');
      return refuse(req, reply, `The identity provider at ${o.issuer_url} cannot be reached. Try again later.`, 502);
    }
    const verifier = client.randomPKCECodeVerifier();
    const flow = { state: client.randomState(), nonce: client.randomNonce(), verifier, next: String((req.query as { next?: string }).next ?? '/workspaces') };
    const redirect = new URL(CALLBACK, await ctx.accessUrl());
    await startFlow(ctx, reply, FLOW_COOKIE, CALLBACK, flow);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect.href,
      scope: o.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return reply.redirect(url.href);
  });

  app.get(CALLBACK, async (req, reply) => {
    const o = (await ctx.deployment())?.auth.oidc;
    if (!o) return refuse(req, reply, 'SSO is not set up.', 404);
    const flow = takeFlow(req, reply, FLOW_COOKIE, CALLBACK, ['state', 'nonce', 'verifier']);
    if (!flow) return refuse(req, reply, 'This sign-in did not start here, or took too long. Start again.', 400);
    let claims: Record<string, unknown>;
    try {
      const config = await configuration(o);
      const current = new URL(req.url, await ctx.accessUrl());
      const tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
      // Providers that keep the ID token small put the email (or the groups) in userinfo instead.
      const missing = typeof claims.email !== 'string' || (o.groups_claim !== undefined && claims[o.groups_claim] === undefined);
      if (missing && typeof claims.sub === 'string') claims = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'OIDC callback refused');
      await audit.append(db, { actor: 'anonymous', action: 'login_failed', target: null, details: { method: 'oidc', reason: err instanceof Error ? err.message : 'callback' }, ip: req.clientIp });
      return refuse(req, reply, 'The identity provider’s answer could not be verified (state, nonce or code). Start again.', 400);
    }
    const m = matchIdentity(o, claims);
    const fail = async (message: string, target: string | null) => {
      await audit.append(db, { actor: 'anonymous', action: 'login_failed', target, details: { method: 'oidc', reason: message, subject: String(claims.sub ?? '') }, ip: req.clientIp });
      return refuse(req, reply, message);
    };
    if ('refused' in m) return fail(m.refused, typeof claims.email === 'string' ? claims.email : null);
    const user = await users.forLogin(db, m.email);
    if (!user || user.email.toLowerCase() !== m.email) return fail(`No user with email ${m.email} is declared in the config repo. Ask an owner to add users/<you>.yaml.`, m.email);
    if (user.login_type !== 'oidc') return fail(`${user.username} does not sign in with SSO (users/${user.username}.yaml login: ${user.login_type}).`, user.username);
    if (user.status !== 'active') return fail('This account is suspended.', user.username);
    // Membership by claim (README: Groups): this sign-in's groups replace the last one's.
    const idpGroups = claimGroups(claims, o.groups_claim);
    if (o.groups_claim && (await users.setIdpGroups(db, user.id, idpGroups))) await users.changed(db);
    return completeSignIn(ctx, req, reply, user, 'oidc', { subject: String(claims.sub ?? ''), ...(o.groups_claim ? { groups: idpGroups } : {}) }, flow.next);
  });
}
