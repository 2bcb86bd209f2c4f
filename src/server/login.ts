// Signing in with a password: the same work whether or not the user exists (a hash is always
// verified), failures counted per address and per username in the audit log (so the limit holds
// across replicas and restarts), every attempt audited.

import type { Db } from '../db/connect.ts';
import { users, type LoginRow } from '../db/repos/users.ts';
import { audit } from '../db/repos/audit.ts';
import { hashPassword, verifyPassword } from '../auth/password.ts';
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

export async function passwordLogin(db: Db, deployment: Deployment | null, o: { username: string; password: string; ip: string }): Promise<LoginResult> {
  const name = o.username.trim().slice(0, 200);
  if (deployment && !deployment.auth.password.enabled) return { ok: false, reason: 'disabled', message: 'Password sign-in is turned off for this deployment (coder-git.yaml auth.password.enabled).' };
  const recent = await audit.loginFailures(db, o.ip, name, LOGIN_WINDOW_S);
  if (recent.by_user >= MAX_FAILURES_PER_USER || recent.by_ip >= MAX_FAILURES_PER_IP) {
    await audit.append(db, { actor: name || 'anonymous', action: 'login_rate_limited', target: name, ip: o.ip });
    return { ok: false, reason: 'rate_limited', message: 'Too many failed sign-ins. Wait a few minutes and try again.' };
  }
  const user = name ? await users.forLogin(db, name) : null;
  const hash = user?.login_type === 'password' && user.password_hash ? user.password_hash : await dummyHash();
  const match = await verifyPassword(o.password.slice(0, 1024), hash);
  const fail = async (reason: 'invalid' | 'suspended', message: string): Promise<LoginResult> => {
    await audit.append(db, { actor: user?.username ?? 'anonymous', action: 'login_failed', target: name, details: { reason }, ip: o.ip });
    return { ok: false, reason, message };
  };
  if (!user || !match || user.login_type !== 'password') return fail('invalid', INVALID);
  if (user.status !== 'active') return fail('suspended', 'This account is suspended.');
  await audit.append(db, { actor: user.username, action: 'login', target: user.username, details: { method: 'password' }, ip: o.ip });
  return { ok: true, user };
}
