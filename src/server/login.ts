// Signing in with a password: the same work whether or not the user exists (a hash is always
// verified), attempts limited per account and per address in PostgreSQL (so the limit holds across
// replicas and restarts, and for parallel guesses), every attempt audited.

import type { Db } from '../db/connect.ts';
import { loginAttempts } from '../db/repos/login-attempts.ts';
import { users, type LoginRow } from '../db/repos/users.ts';
import { audit } from '../db/repos/audit.ts';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { sha256 } from './auth.ts';
import type { Deployment } from '../config/types.ts';

export const LOGIN_WINDOW_S = 300;
export const MAX_FAILURES_PER_USER = 5;
export const MAX_FAILURES_PER_IP = 20;

let dummy: Promise<string> | undefined;
/** A real hash of nothing anyone knows: verified for unknown users so they cost the same. */
const dummyHash = () => (dummy ??= hashPassword(`unknown-${Math.random()}`));

export type LoginResult =
  | { ok: true; user: LoginRow }
  | { ok: false; reason: 'invalid' | 'rate_limited' | 'suspended' | 'disabled'; message: string };

const INVALID = 'Wrong username or password.';

/**
 * What the limit counts a sign-in against: the declared user, whatever name or email was typed;
 * for a name nobody has, a hash of it (the same limit, so an unknown name cannot be told from a
 * known one, and nothing typed is stored).
 */
const accountKey = (user: LoginRow | null, name: string) => (user ? `user:${user.id}` : `name:${sha256(name.toLowerCase()).toString('hex')}`);

export async function passwordLogin(db: Db, deployment: Deployment | null, o: { username: string; password: string; ip: string }): Promise<LoginResult> {
  const name = o.username.trim().slice(0, 200);
  if (deployment && !deployment.auth.password.enabled) return { ok: false, reason: 'disabled', message: 'Password sign-in is turned off for this deployment (coder-git.yaml auth.password.enabled).' };
  const user = name ? await users.forLogin(db, name) : null;
  const target = user?.username ?? null;
  // Recorded (and counted as a failure) before the password is checked: parallel guesses each take
  // a place under the limit, so at most the limit's worth of them are ever checked.
  const attempt = await loginAttempts.record(db, accountKey(user, name), o.ip, { windowS: LOGIN_WINDOW_S, maxAccount: MAX_FAILURES_PER_USER, maxIp: MAX_FAILURES_PER_IP });
  if (!attempt) {
    await audit.append(db, { actor: target ?? 'anonymous', action: 'login_rate_limited', target, ip: o.ip });
    return { ok: false, reason: 'rate_limited', message: 'Too many failed sign-ins. Wait a few minutes and try again.' };
  }
  const hash = user?.login_type === 'password' && user.password_hash ? user.password_hash : await dummyHash();
  const match = await verifyPassword(o.password.slice(0, 1024), hash);
  const fail = async (reason: 'invalid' | 'suspended', message: string): Promise<LoginResult> => {
    await audit.append(db, { actor: target ?? 'anonymous', action: 'login_failed', target, details: { reason }, ip: o.ip });
    return { ok: false, reason, message };
  };
  if (!user || !match || user.login_type !== 'password') return fail('invalid', INVALID);
  // Said only to someone who gave the right password (and still counted as a failure): what an
  // active account would have given them is far more.
  if (user.status !== 'active') return fail('suspended', 'This account is suspended.');
  await loginAttempts.succeeded(db, attempt);
  await audit.append(db, { actor: user.username, action: 'login', target: user.username, details: { method: 'password' }, ip: o.ip });
  return { ok: true, user };
}
