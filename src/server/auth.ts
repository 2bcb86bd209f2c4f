// Who is asking: sessions (cookie, from the login page) and API tokens (Authorization: Bearer, or
// Coder-Session-Token as Coder's CLI sends it). Secrets are random 32 bytes, shown once, stored
// only as SHA-256; the lookup checks expiry, revocation and that the user is active and still in
// git, so suspending a user in git ends their sessions at the next request.

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/connect.ts';
import { apiKeys, type Authenticated, type KeyKind } from '../db/repos/api-keys.ts';
import { workspaces } from '../db/repos/workspaces.ts';
import type { Role } from '../config/types.ts';
import type { AuthCache } from './auth-cache.ts';

export const SESSION_COOKIE = 'coder_git_session';
export const CSRF_COOKIE = 'coder_git_csrf';
export const SESSION_TTL_MS = 24 * 3_600_000;

const PREFIX: Record<KeyKind, string> = { session: 'cgs_', token: 'cgt_' };

// (crypto.hash, one call instead of a Hash object: a fifth of the cost, on every authenticated request)
export const sha256 = (s: string) => hash('sha256', s, 'buffer') as Buffer;

export function newSecret(kind: KeyKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export async function issueKey(db: Db, userId: string, kind: KeyKind, name: string | null, lifetimeMs: number) {
  const secret = newSecret(kind);
  const row = await apiKeys.create(db, { user_id: userId, kind, name, secret_hash: sha256(secret), expires_at: new Date(Date.now() + lifetimeMs) });
  return { secret, row };
}

/** Revoke a key of userId; this process forgets it at once, the others when the NOTIFY reaches them. */
export async function revokeKey(db: Db, cache: AuthCache, userId: string, id: string): Promise<boolean> {
  const ok = await apiKeys.revoke(db, userId, id);
  if (ok) cache.forget(id);
  return ok;
}

export type Permission = 'workspaces:read-all' | 'users:read' | 'syncs:read' | 'audit:read' | 'runner:refresh';

/** What each role may do beyond a member's own workspaces and tokens (README: Roles). */
export const GRANTS: Record<Role, Permission[]> = {
  owner: ['workspaces:read-all', 'users:read', 'syncs:read', 'audit:read', 'runner:refresh'],
  'template-admin': ['workspaces:read-all', 'syncs:read'],
  'user-admin': ['users:read'],
  auditor: ['workspaces:read-all', 'users:read', 'syncs:read', 'audit:read'],
  member: [],
};

/**
 * Who may reach into a workspace (terminal, SSH, port forwards, starting it): its owner, or a user
 * with the owner role. Reading every workspace is not reaching into them.
 */
export const reachesWorkspace = (roles: readonly string[], username: string, owner: string) => owner === username || roles.includes('owner');

export function can(actor: Authenticated | undefined, p: Permission): boolean {
  return !!actor && actor.roles.some((r) => GRANTS[r as Role]?.includes(p));
}

/** Workspace owner/name's listing row, when `me` may see it (theirs, or a role that reads all); else undefined, as if it did not exist. */
export async function visibleWorkspace(db: Db, me: Authenticated, owner: string, name: string) {
  if (owner !== me.username && !can(me, 'workspaces:read-all')) return undefined;
  return (await workspaces.listing(db, owner)).find((w) => w.name === name);
}

/** The secret a request presents, and how: a cookie (pages) or a header (API clients). */
export function presented(req: FastifyRequest): { secret: string; via: 'cookie' | 'header' } | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { secret: auth.slice(7).trim(), via: 'header' };
  const coder = req.headers['coder-session-token'];
  if (typeof coder === 'string' && coder) return { secret: coder, via: 'header' };
  const cookie = req.cookies?.[SESSION_COOKIE];
  if (cookie) return { secret: cookie, via: 'cookie' };
  return undefined;
}

type Who = { actor: Authenticated; via: 'cookie' | 'header' } | undefined;

/**
 * Who the request is: the key's actor from the cache without waiting (most requests), else looked
 * up. Calls back rather than returning a promise, so a cached key costs no microtask: this runs
 * before every request.
 */
export function authenticate(db: Db, req: FastifyRequest, cache: AuthCache | undefined, then: (who: Who, err?: unknown) => void): void {
  const p = presented(req);
  if (!p || !/^cg[st]_[A-Za-z0-9_-]{43}$/.test(p.secret)) return then(undefined);
  const hash = sha256(p.secret);
  const key = hash.toString('hex');
  const cached = cache?.get(key);
  if (cached) return then({ actor: cached, via: p.via });
  apiKeys.authenticate(db, hash).then(
    (actor) => {
      if (actor) cache?.set(key, actor);
      then(actor ? { actor, via: p.via } : undefined);
    },
    (err) => then(undefined, err),
  );
}

// CSRF: double submit. Every page sets a random cookie (HttpOnly, SameSite=Lax); every form carries
// it in a hidden field; a POST whose field does not match the cookie is refused. Another site can
// make a browser send the cookie, but cannot read it to put it in the form.
export function csrfToken(req: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  let t = req.cookies?.[CSRF_COOKIE];
  if (!t || !/^[A-Za-z0-9_-]{43}$/.test(t)) {
    t = randomBytes(32).toString('base64url');
    reply.setCookie(CSRF_COOKIE, t, { path: '/', httpOnly: true, sameSite: 'lax', secure });
  }
  return t;
}

export function csrfOk(req: FastifyRequest): boolean {
  const cookie = req.cookies?.[CSRF_COOKIE];
  const field = (req.body as Record<string, unknown> | undefined)?._csrf;
  if (!cookie || typeof field !== 'string' || cookie.length !== field.length) return false;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(field));
}
