// Users' git SSH keys, end to end (README: Git SSH keys): made for every applied user who has none
// (when the deployment has encryption keys), reset on request, opened only for the agent of one
// of the user's own workspaces, and re-sealed under a new encryption key.

import type { Q } from '../db/connect.ts';
import { gitSshKeys, type GitSshKeyRow } from '../db/repos/git-ssh-keys.ts';
import { audit } from '../db/repos/audit.ts';
import type { Keyring } from './secret-box.ts';
import { fingerprint, generateSshKey, privateKeyPem } from './ssh-key.ts';

/** What a sealed key is bound to: opening it as another user's fails. */
const context = (userId: string) => `git-ssh-key:${userId}`;
const comment = (username: string) => `${username}@coder-git`;

function sealed(ring: Keyring, user: { id: string; username: string }) {
  const k = generateSshKey(comment(user.username));
  return { user_id: user.id, public_key: k.publicKey, private_key: ring.seal(Buffer.from(k.privateKey), context(user.id)), key_id: ring.current };
}

/** Gives every user without a key one; returns how many were made. */
export async function ensureGitSshKeys(q: Q, ring: Keyring): Promise<number> {
  const missing = await gitSshKeys.missing(q);
  await gitSshKeys.insert(q, missing.map((u) => sealed(ring, u)));
  return missing.length;
}

/** A new key pair for the user, at their own request from `ip` (audited); the old one stops working wherever it was added. */
export async function resetGitSshKey(q: Q, ring: Keyring, user: { id: string; username: string }, ip: string | null) {
  const row = await gitSshKeys.replace(q, { ...sealed(ring, user), reset: true });
  await audit.append(q, { actor: user.username, action: 'git_ssh_key_reset', target: user.username, details: { fingerprint: fingerprint(row.public_key) }, ip });
  return row;
}

/** A stored key pair, opened (for the agent of one of its user's workspaces). */
export function openKeyRow(ring: Keyring, row: GitSshKeyRow): { public_key: string; private_key: string } {
  return { public_key: row.public_key, private_key: privateKeyPem(ring.open(row.private_key, context(row.user_id)).toString()) };
}

/** The user's key pair, opened, or undefined when they have none. */
export async function openGitSshKey(q: Q, ring: Keyring, userId: string): Promise<{ public_key: string; private_key: string } | undefined> {
  const row = await gitSshKeys.byUser(q, userId);
  return row ? openKeyRow(ring, row) : undefined;
}

/** Re-seals every key sealed with an older key under the current one; returns how many. */
export async function rotateGitSshKeys(q: Q, ring: Keyring): Promise<number> {
  const rows = await gitSshKeys.sealedWithOther(q, ring.current);
  for (const r of rows) {
    const plain = ring.open(r.private_key, context(r.user_id));
    await gitSshKeys.replace(q, { user_id: r.user_id, public_key: r.public_key, private_key: ring.seal(plain, context(r.user_id)), key_id: ring.current, reset: false });
  }
  return rows.length;
}
