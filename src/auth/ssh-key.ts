// Each user's git SSH key (README: Git SSH keys), like Coder's: an Ed25519 key pair made by the
// server side, whose public half the user adds to their git host and whose private half never
// leaves coder-git but for the workspace agent's memory. Node makes and signs with it; this module
// only speaks OpenSSH's public-key format (RFC 8709: string "ssh-ed25519", string key).

import { createHash, createPrivateKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';

export interface SshKeyPair {
  /** one line: `ssh-ed25519 AAAA… comment` */
  publicKey: string;
  /**
   * The private key as a JWK (JSON): what is sealed at rest. (Node's JWK export is some 30 times
   * cheaper than its DER or PEM encoders, which made 10,000 users' first apply take seconds.)
   */
  privateKey: string;
}

/** SSH's wire `string`: a uint32 length, then the bytes (RFC 4251); the agent's socket speaks it too. */
export function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** The public key's wire form (what ssh-keygen base64-encodes) from the raw 32 bytes. */
const publicBlob = (raw: Buffer) => Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);

const line = (x: string, comment: string) => `ssh-ed25519 ${publicBlob(Buffer.from(x, 'base64url')).toString('base64')} ${comment}`;

export function generateSshKey(comment: string): SshKeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { publicKey: line(jwk.x!, comment), privateKey: JSON.stringify(jwk) };
}

/** A stored private key (JWK JSON, or PKCS#8 PEM as the first keys were kept) as PKCS#8 PEM: what the agent is given to sign with. */
export function privateKeyPem(stored: string): string {
  if (stored.startsWith('-----BEGIN')) return stored;
  return createPrivateKey({ key: JSON.parse(stored) as JsonWebKey, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The key blob of an OpenSSH public-key line (`ssh-ed25519 AAAA… comment`). */
export const keyBlob = (line: string) => Buffer.from(line.split(/\s+/)[1] ?? '', 'base64');

/** `SHA256:…`, as `ssh-keygen -lf` and GitHub show a key. */
export function fingerprint(publicKey: string): string {
  return `SHA256:${createHash('sha256').update(keyBlob(publicKey)).digest('base64').replace(/=+$/, '')}`;
}
