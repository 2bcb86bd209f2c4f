// What every browser sign-in through another site shares (OIDC: oidc.ts, GitHub: github-login.ts):
// the short-lived flow cookie that carries state and the PKCE verifier to the callback, the page
// that says why a sign-in was refused, and the session a good one ends with.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from './context.ts';
import { audit } from '../db/repos/audit.ts';
import { issueKey, SESSION_COOKIE, SESSION_TTL_MS } from './auth.ts';
import { html, page } from './html.ts';
import { safeNext } from './redirect.ts';

const FLOW_TTL_S = 600;

/** Keeps what the callback must see again in an HttpOnly cookie scoped to the callback path. */
export async function startFlow(ctx: Ctx, reply: FastifyReply, cookie: string, callback: string, flow: Record<string, string>): Promise<void> {
  reply.setCookie(cookie, Buffer.from(JSON.stringify(flow)).toString('base64url'), { path: callback, httpOnly: true, sameSite: 'lax', secure: await ctx.secure(), maxAge: FLOW_TTL_S });
}

/** The flow the browser brought back (and forgets it), or undefined when it lacks one of `fields`. */
export function takeFlow<K extends string>(req: FastifyRequest, reply: FastifyReply, cookie: string, callback: string, fields: K[]): (Record<K, string> & { next?: string }) | undefined {
  reply.clearCookie(cookie, { path: callback });
  try {
    const flow = JSON.parse(Buffer.from(req.cookies[cookie] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return fields.every((f) => typeof flow[f] === 'string') ? (flow as Record<K, string> & { next?: string }) : undefined;
  } catch {
    return undefined;
  }
}

export function refuseSignIn(ctx: Ctx, reply: FastifyReply, message: string, code = 403) {
  ctx.metrics.login('refused');
  return reply.code(code).type('text/html; charset=utf-8').send(page('Sign-in refused', html`<h1>Sign-in refused</h1><p class="error" role="alert">${message}</p><p><a href="/login">Back to sign in</a></p>`));
}

/** A session for the user, audited as a login by `method`, and on to where they were going. */
export async function completeSignIn(ctx: Ctx, req: FastifyRequest, reply: FastifyReply, user: { id: string; username: string }, method: string, details: Record<string, unknown>, next: string | undefined) {
  const { db } = ctx.o.database;
  const { secret } = await issueKey(db, user.id, 'session', null, SESSION_TTL_MS);
  await audit.append(db, { actor: user.username, action: 'login', target: user.username, details: { method, ...details }, ip: req.clientIp });
  ctx.metrics.login('success');
  reply.setCookie(SESSION_COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'lax', secure: await ctx.secure(), maxAge: SESSION_TTL_MS / 1000 });
  return reply.redirect(safeNext(next), 303);
}
