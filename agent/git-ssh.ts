// The owner's git SSH key inside the workspace (README: Git SSH keys), without the private key on
// the workspace's disk: the agent answers the ssh-agent protocol on a Unix socket in a folder only
// the workspace's user can open, signing with the key it fetched from the server into memory, and
// sessions get GIT_SSH_COMMAND="ssh -o IdentityAgent=<socket>" — so git over SSH uses the key while
// the person's own ~/.ssh keys and SSH_AUTH_SOCK stay as they were for everything else.
//
// Each connection to the socket fetches the key afresh (one request per git operation), so a reset
// (`coder-git publickey --reset`) takes effect at once and nothing outlives its use.

import { createPrivateKey, sign } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
// (the same wire format the server makes keys in; bundled into the agent, it needs nothing else)
import { keyBlob, sshString } from '../src/auth/ssh-key.ts';

// The ssh-agent protocol (draft-miller-ssh-agent), the two requests git's ssh makes; anything else
// (OpenSSH 9's session-bind extension, adding keys) is answered with failure, which ssh takes in
// its stride. (ssh2's AgentProtocol answers an extension twice, and ssh then reads the second
// failure as the answer to its next request: so the few bytes are done here.)
const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const MAX_MESSAGE = 256 * 1024;

const message = (type: number, ...parts: Buffer[]) => sshString(Buffer.concat([Buffer.from([type]), ...parts]));
const uint32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export interface KeyPair {
  public_key: string;
  private_key: string;
}

export interface GitSshAgent {
  /** for sessions' GIT_SSH_COMMAND */
  readonly command: string;
  close(): void;
}

export function gitSshAgent(o: { fetchKey: () => Promise<KeyPair | undefined>; log: (m: string) => void }): GitSshAgent {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coder-git-ssh-')); // 0700
  const socket = path.join(dir, 'agent.sock');
  const server = net.createServer((conn) => {
    let key: Promise<KeyPair | undefined> | undefined;
    const current = () =>
      (key ??= o.fetchKey().catch((err: unknown) => {
        o.log(`git SSH key: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }));
    const answer = async (type: number, body: Buffer): Promise<Buffer> => {
      if (type === REQUEST_IDENTITIES) {
        const k = await current();
        if (!k) return message(IDENTITIES_ANSWER, uint32(0));
        return message(IDENTITIES_ANSWER, uint32(1), sshString(keyBlob(k.public_key)), sshString(Buffer.from(k.public_key.split(/\s+/)[2] ?? '')));
      }
      if (type === SIGN_REQUEST && body.length >= 4) {
        const blobLen = body.readUInt32BE(0);
        const blob = body.subarray(4, 4 + blobLen);
        const dataLen = body.length >= 8 + blobLen ? body.readUInt32BE(4 + blobLen) : -1;
        const data = body.subarray(8 + blobLen, 8 + blobLen + dataLen);
        const k = await current();
        if (!k || dataLen < 0 || data.length !== dataLen || !blob.equals(keyBlob(k.public_key))) return message(FAILURE);
        const sig = sign(null, data, createPrivateKey(k.private_key));
        return message(SIGN_RESPONSE, sshString(Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(sig)])));
      }
      return message(FAILURE);
    };
    // Requests are answered in the order they came, one at a time.
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    conn.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4) {
        const len = buffered.readUInt32BE(0);
        if (len < 1 || len > MAX_MESSAGE) return conn.destroy();
        if (buffered.length < 4 + len) break;
        const type = buffered[4]!;
        const body = buffered.subarray(5, 4 + len);
        buffered = buffered.subarray(4 + len);
        chain = chain.then(() => answer(type, body)).then((out) => void (conn.writable && conn.write(out)), () => void conn.destroy());
      }
    });
    conn.on('error', () => conn.destroy());
  });
  server.on('error', (err) => o.log(`git SSH agent socket: ${err.message}`));
  server.listen(socket, () => chmodSync(socket, 0o600));
  return {
    command: `ssh -o IdentityAgent='${socket}'`,
    close() {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
