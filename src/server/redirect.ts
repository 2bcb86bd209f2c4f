// Where a sign-in (password form or SSO) may send the browser afterwards: a path on this site only.
// An open redirect would let a link to this site's real sign-in page send people elsewhere. And the
// way a page sends a signed-out visitor to sign in, and back.

import type { FastifyReply, FastifyRequest } from 'fastify';

/** The sign-in page, coming back to this request's page afterwards. */
export const signInUrl = (req: FastifyRequest) => `/login?next=${encodeURIComponent(req.url)}`;

/** The signed-in user, or a redirect to sign in (and undefined). */
export function signedIn(req: FastifyRequest, reply: FastifyReply): NonNullable<FastifyRequest['actor']> | undefined {
  if (req.actor) return req.actor;
  void reply.redirect(signInUrl(req));
  return undefined;
}

/** `next` when it is a local path, else the workspaces page. */
export function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/workspaces';
}
