// Password hashes as they live in users/*.yaml: scrypt in PHC string form,
// $scrypt$ln=17,r=8,p=1$<salt>$<hash> (base64 without padding), which `coder-git hash-password`
// makes with Node's built-in scrypt (N = 2^17, r = 8, p = 1: OWASP's recommended minimum). Argon2id
// PHC strings made by other tools ($argon2id$v=19$m=…,t=…,p=…$salt$hash) are verified too, by
// @node-rs/argon2 (its prebuilt binary ships in the npm package; loaded only when such a hash is met).

import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const LN = 17;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** scrypt needs 128 * N * r bytes; allow that plus headroom. */
const maxmem = (ln: number, r: number) => 256 * 2 ** ln * r;

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, { N: 2 ** LN, r: R, p: P, maxmem: maxmem(LN, R) });
  return `$scrypt$ln=${LN},r=${R},p=${P}$${b64(salt)}$${b64(key)}`;
}

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

const ARGON2ID = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** Argon2id within sane costs (a hash from git is reviewed, but must not be able to stall the server). */
async function verifyArgon2id(password: string, hash: string): Promise<boolean> {
  const m = ARGON2ID.exec(hash);
  if (!m) return false;
  const [mem, t, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mem < 8 * p || mem > 1_048_576 || t < 1 || t > 20 || p < 1 || p > 16) return false;
  const { verify } = await import('@node-rs/argon2');
  try {
    return await verify(hash, password.normalize('NFC'));
  } catch {
    return false;
  }
}

/** True when password matches hash. Unknown or malformed hashes never match. Constant-time compare. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash.startsWith('$argon2id$')) return verifyArgon2id(password, hash);
  const m = PHC.exec(hash);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 22 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(m[4]!, 'base64');
  const expected = Buffer.from(m[5]!, 'base64');
  // Exactly our key length: a shorter key is a prefix of the full one, so a truncated hash would still match.
  if (expected.length !== KEY_BYTES || salt.length < 16) return false;
  const key = await scrypt(password, salt, expected.length, { N: 2 ** ln, r, p, maxmem: maxmem(ln, r) });
  return timingSafeEqual(key, expected);
}
