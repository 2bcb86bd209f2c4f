// Each user's git SSH key (README: Git SSH keys), like Coder's: an Ed25519 key pair made by the
// server side, whose public half the user adds to their git host and whose private half never
// leaves coder-git but for the workspace agent's memory. Node makes and signs with it; this module
// only speaks OpenSSH's public-key format (RFC 8709: string "ssh-ed25519", string key).

import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';

export interface SshKeyPair {
  /** one line: `ssh-ed25519 AAAA… comment` */
  publicKey: string;
  /** PKCS#8 PEM */
  privateKey: string;
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** The public key's wire form (what ssh-keygen base64-encodes) from the raw 32 bytes. */
const publicBlob = (raw: Buffer) => Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(raw)]);

export function generateSshKey(comment: string): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // the JWK's x is the raw public key
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return {
    publicKey: `ssh-ed25519 ${publicBlob(raw).toString('base64')} ${comment}`,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** The public line of a private key (PKCS#8 PEM), with this comment. */
export function publicKeyOf(privatePem: string, comment: string): string {
  const jwk = createPrivateKey(privatePem).export({ format: 'jwk' });
  return `ssh-ed25519 ${publicBlob(Buffer.from(jwk.x!, 'base64url')).toString('base64')} ${comment}`;
}

/** `SHA256:…`, as `ssh-keygen -lf` and GitHub show a key. */
export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
