// Signed commits (README: Signed commits): with `signatures.required`, a commit is applied only when
// git finds a good signature by a trusted key. SSH signatures are checked against an allowed-signers
// file: the runner's own (signatures.allowed_signers_env names the variable holding its path), else
// the repository's file as of the last applied commit, so a pull request cannot add its own key and
// be trusted for it (the first apply, with nothing applied yet, reads it from the commit itself).
// GPG signatures are checked by the runner's keyring and must be by a key in signatures.gpg_keys.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Deployment } from '../config/types.ts';
import { GitRepo } from '../git/git.ts';

const STATUS: Record<string, string> = {
  N: 'it is not signed',
  B: 'its signature is bad (the commit was changed after signing)',
  U: 'its signature is good but by a key that is not trusted',
  X: 'its signature has expired',
  Y: 'it is signed by an expired key',
  R: 'it is signed by a revoked key',
  E: 'its signature cannot be checked (no allowed signer or public key matches)',
};

/** Why commit sha may not be applied, or undefined when it may (or signatures are not required). */
export async function untrusted(dir: string, sha: string, d: Deployment, lastApplied: string | undefined): Promise<string | undefined> {
  const s = d.signatures;
  if (!s?.required) return undefined;
  const repo = new GitRepo(dir);
  let tmp: string | undefined;
  try {
    let signers: string | undefined;
    if (s.allowed_signers_env) {
      signers = process.env[s.allowed_signers_env];
      if (!signers) return `signatures.allowed_signers_env names ${s.allowed_signers_env}, which the runner's environment does not set`;
    } else if (s.allowed_signers) {
      const from = lastApplied ?? sha;
      const bytes = await repo.fileAt(from, s.allowed_signers);
      if (!bytes) return `${s.allowed_signers} is not in commit ${from.slice(0, 12)}${lastApplied ? ' (the last applied one, which decides whom to trust)' : ''}`;
      tmp = await mkdtemp(path.join(os.tmpdir(), 'coder-git-signers-'));
      signers = path.join(tmp, 'allowed_signers');
      await writeFile(signers, bytes);
    }
    const sig = await repo.signature(sha, signers);
    const gpg = /^[0-9A-F]{16,40}$/i.test(sig.fingerprint) || /^[0-9A-F]{16}$/i.test(sig.key);
    if (sig.status === 'G' && !gpg) return undefined; // SSH: good and in the allowed signers
    if ((sig.status === 'G' || sig.status === 'U') && gpg) {
      const keys = (s.gpg_keys ?? []).map((k) => k.toUpperCase());
      const match = keys.some((k) => sig.fingerprint.toUpperCase().endsWith(k) || sig.key.toUpperCase().endsWith(k));
      return match ? undefined : `it is signed by GPG key ${sig.fingerprint || sig.key}, which is not in signatures.gpg_keys`;
    }
    return `${STATUS[sig.status] ?? `git reports signature status ${sig.status}`}${sig.signer ? ` (signer ${sig.signer})` : ''}`;
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
