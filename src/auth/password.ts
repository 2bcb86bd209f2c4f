// Password hashes as they live in users/*.yaml: scrypt in PHC string form,
// $scrypt$ln=17,r=8,p=1$<salt>$<hash> (base64 without padding). Node has scrypt built in, so no
// native module is needed. N = 2^17, r = 8, p = 1 is OWASP's recommended minimum for scrypt.

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

/** True when password matches hash. Unknown or malformed hashes never match. Constant-time compare. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
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
