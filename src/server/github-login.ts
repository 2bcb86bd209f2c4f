// Sign in with GitHub (coder-git.yaml auth.github; README: Signing in with GitHub): the OAuth app
// web flow with state and PKCE, then the identity matched to a declared user — by the `github`
// login in their user file, else by a verified email — who must be `login: github` and active,
// and (if the deployment says so) in one of the allowed organizations or teams. An identity git
// does not declare is refused, as for OIDC.

import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Ctx } from './context.ts';
import { users } from '../db/repos/users.ts';
import { audit } from '../db/repos/audit.ts';
import { html, page } from './html.ts';
import { completeSignIn, refuseSignIn, startFlow, takeFlow } from './sso.ts';
import { authorizeUrl, exchangeCode, githubIdentity, githubRefusal, type GithubIdentity } from '../auth/github.ts';

const FLOW_COOKIE = 'coder_git_github';
const CALLBACK = '/login/github/callback';

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function githubLoginRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  const { db } = ctx.o.database;

  app.get('/login/github', async (req, reply) => {
    const o = (await ctx.deployment())?.auth.github;
    if (!o) return reply.code(404).type('text/html; charset=utf-8').send(page('Not found', html`<h1>GitHub sign-in is not set up</h1><p>coder-git.yaml has no auth.github.</p>`));
    // (said before the person goes to GitHub and back for nothing)
    if (!process.env[o.client_secret_env]) return refuseSignIn(ctx, reply, `GitHub sign-in is not ready: the server's environment does not set ${o.client_secret_env} (auth.github.client_secret_env), the OAuth app's client secret.`, 500);
    const verifier = randomBytes(32).toString('base64url');
    const flow = { state: randomBytes(24).toString('base64url'), verifier, next: String((req.query as { next?: string }).next ?? '/workspaces') };
    const redirectUri = new URL(CALLBACK, await ctx.accessUrl()).href;
    let url: string;
    try {
      url = authorizeUrl(o, { redirectUri, state: flow.state, challenge: createHash('sha256').update(verifier).digest('base64url') });
    } catch (err) {
      return refuseSignIn(ctx, reply, err instanceof Error ? err.message : String(err), 500);
    }
    await startFlow(ctx, reply, FLOW_COOKIE, CALLBACK, flow);
    return reply.redirect(url);
  });

  app.get(CALLBACK, async (req, reply) => {
    const o = (await ctx.deployment())?.auth.github;
    if (!o) return refuseSignIn(ctx, reply, 'GitHub sign-in is not set up.', 404);
    const q = req.query as { code?: string; state?: string; error?: string; error_description?: string };
    const flow = takeFlow(req, reply, FLOW_COOKIE, CALLBACK, ['state', 'verifier']);
    if (!flow || typeof q.state !== 'string' || !same(q.state, flow.state)) return refuseSignIn(ctx, reply, 'This sign-in did not start here, or took too long. Start again.', 400);
    const failed = async (reason: string, message: string, target: string | null, code = 403, who: Partial<GithubIdentity> = {}) => {
      await audit.append(db, { actor: 'anonymous', action: 'login_failed', target, details: { method: 'github', reason, ...(who.login ? { github: who.login } : {}) }, ip: req.clientIp });
      return refuseSignIn(ctx, reply, message, code);
    };
    if (q.error) return failed(q.error, q.error === 'access_denied' ? 'GitHub sign-in was cancelled.' : `GitHub refused the sign-in: ${q.error_description ?? q.error}.`, null, 400);
    if (typeof q.code !== 'string' || !q.code) return failed('no_code', 'GitHub sent no code back. Start again.', null, 400);

    let id: GithubIdentity;
    try {
      const token = await exchangeCode(o, process.env[o.client_secret_env] ?? '', { code: q.code, redirectUri: new URL(CALLBACK, await ctx.accessUrl()).href, verifier: flow.verifier });
      id = await githubIdentity(o, token);
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'GitHub sign-in failed');
      return failed(err instanceof Error ? err.message : 'callback', 'GitHub’s answer could not be used (the code was refused, or GitHub could not be reached). Start again.', null, 502);
    }
    const outside = githubRefusal(o, id);
    if (outside) return failed('not_allowed', outside, id.login, 403, id);
    const user = await users.forGithub(db, id.login, id.emails);
    if (!user) return failed('unknown', `No user in the config repo has github: ${id.login}${id.emails.length ? ` or the email ${id.emails.join(', ')}` : ' (and GitHub shows no verified email)'}. Ask an owner to add users/<you>.yaml with github: ${id.login}.`, id.login, 403, id);
    if (user.login_type !== 'github') return failed('login_type', `${user.username} does not sign in with GitHub (users/${user.username}.yaml login: ${user.login_type}).`, user.username, 403, id);
    if (user.status !== 'active') return failed('suspended', 'This account is suspended.', user.username, 403, id);
    return completeSignIn(ctx, req, reply, user, 'github', { github: id.login, github_id: id.id, matched_by: user.by_login ? 'login' : 'email' }, flow.next);
  });
}
