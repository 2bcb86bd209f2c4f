// Secrets the database keeps encrypted at rest (README: Git SSH keys): AES-256-GCM under a key from
// the environment, CODER_GIT_ENCRYPTION_KEYS — a comma-separated list of 32-byte keys (base64 or
// hex, e.g. `openssl rand -base64 32`). The first encrypts; every one decrypts, so a key is
// rotated by putting a new one first and keeping the old one behind it until `coder-git db
// rotate-keys` has re-encrypted everything. A dump of the database alone gives no secret away.
//
// A box: 1 byte format (1) | 8 bytes key id (SHA-256 of the key) | 12 bytes IV | 16 bytes tag |
// ciphertext. The key id says which key opened it, so a missing key is named, not a bad tag. The
// caller binds each box to its row (`context`, authenticated but not stored), so a box copied onto
// another user's row does not open.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CoderGitError } from '../errors.ts';

export const ENCRYPTION_KEYS_ENV = 'CODER_GIT_ENCRYPTION_KEYS';
const FORMAT = 1;

export interface Keyring {
  /** the id of the key that encrypts (the first) */
  readonly current: string;
  readonly ids: readonly string[];
  seal(plain: Buffer, context: string): Buffer;
  open(box: Buffer, context: string): Buffer;
  /** the id of the key a box was sealed with */
  keyOf(box: Buffer): string;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest().subarray(0, 8);

/** The keys in the variable's value, or a usage error naming the entry that is wrong. */
export function parseKeys(value: string, name = ENCRYPTION_KEYS_ENV): Buffer[] {
  const entries = value.split(',').map((s) => s.trim());
  return entries.map((e, i) => {
    const key = /^[0-9a-f]{64}$/i.test(e) ? Buffer.from(e, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(e) ? Buffer.from(e, 'base64') : undefined;
    if (key?.length !== 32) {
      const which = entries.length > 1 ? `entry ${i + 1} of ${name}` : name;
      throw new CoderGitError('CG_USAGE', `${which} is not a 32-byte key: expected 44 characters of base64 or 64 of hex (make one with: openssl rand -base64 32)`);
    }
    return key;
  });
}

export function keyring(keys: Buffer[]): Keyring {
  const byId = new Map(keys.map((k) => [keyId(k).toString('hex'), k]));
  const ids = [...byId.keys()];
  const first = keys[0]!;
  const firstId = keyId(first);
  return {
    current: ids[0]!,
    ids,
    seal(plain, context) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', first, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([Buffer.from([FORMAT]), firstId, iv, c.getAuthTag(), body]);
    },
    keyOf(box) {
      if (box[0] !== FORMAT || box.length < 37) throw new CoderGitError('CG_SECRET', 'an encrypted secret in the database is not in a format this coder-git reads');
      return box.subarray(1, 9).toString('hex');
    },
    open(box, context) {
      const id = this.keyOf(box);
      const key = byId.get(id);
      if (!key) throw new CoderGitError('CG_SECRET', `a secret was encrypted with key ${id}, which ${ENCRYPTION_KEYS_ENV} does not hold (it holds ${ids.join(', ')}): give the old key too, after the new one`);
      try {
        const d = createDecipheriv('aes-256-gcm', key, box.subarray(9, 21)).setAAD(Buffer.from(context));
        d.setAuthTag(box.subarray(21, 37));
        return Buffer.concat([d.update(box.subarray(37)), d.final()]);
      } catch {
        throw new CoderGitError('CG_SECRET', `a secret encrypted with key ${id} does not open: it was changed or copied from another row`);
      }
    },
  };
}

let cached: { value: string; ring: Keyring } | undefined;

/** The keyring CODER_GIT_ENCRYPTION_KEYS gives, or undefined when it is not set (no secrets are kept then). */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const value = env[ENCRYPTION_KEYS_ENV]?.trim();
  if (!value) return undefined;
  if (cached?.value !== value) cached = { value, ring: keyring(parseKeys(value)) };
  return cached.ring;
}
