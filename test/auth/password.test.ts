// Password hashes: scrypt in PHC form, verified in constant time; `coder-git hash-password` from a
// pipe and from a real terminal (a pseudo-terminal made by util-linux's script), never echoing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { hashPassword, verifyPassword } from '../../src/auth/password.ts';
import { validateSchema } from '../../src/config/schemas.ts';
import { BIN, cli } from '../helpers/cli.ts';

test('hash then verify; wrong passwords, other salts and malformed hashes do not match', async () => {
  const h = await hashPassword('correct horse battery staple');
  assert.match(h, /^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.ok(await verifyPassword('correct horse battery staple', h));
  assert.not.ok(await verifyPassword('correct horse battery stapler', h));
  assert.not.ok(await verifyPassword('', h));
  const again = await hashPassword('correct horse battery staple');
  assert.is.not(again, h, 'a fresh salt every time');
  for (const bad of ['', 'plain', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', h.replace('ln=17', 'ln=40'), h.slice(0, -20)]) {
    assert.not.ok(await verifyPassword('correct horse battery staple', bad), bad);
  }
});

test('argon2id hashes made by the reference implementation (Debian argon2) verify; wrong passwords and absurd costs do not', async () => {
  // printed by `echo -n 'correct horse battery staple' | argon2 somesaltsomesalt -id -t 3 -m 16 -p 2 -e`
  const h = '$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$M9O+WMqryYs/ggt49kk2b/a8yYpk+GDXb49n4E3V2I8';
  const small = '$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RYBmfaY2k3Lz3OGQbN0L5PrGQLaVEEnj4b+RLC0pyDk';
  assert.ok(await verifyPassword('correct horse battery staple', h));
  assert.ok(await verifyPassword('correct horse battery staple', small));
  assert.not.ok(await verifyPassword('correct horse battery stapler', h));
  assert.not.ok(await verifyPassword('correct horse battery staple', h.replace('t=3', 't=4')), 'the costs are part of what is verified');
  assert.not.ok(await verifyPassword('correct horse battery staple', h.replace('m=65536', 'm=4194304')), 'more than 1 GiB is refused before any work');
  assert.equal(validateSchema('user', { apiVersion: 'coder-git/v1', kind: 'User', email: 'a@example.com', login: 'password', password_hash: h }), []);
});

test('a hash is accepted by the user schema as password_hash', async () => {
  const user = { apiVersion: 'coder-git/v1', kind: 'User', email: 'a@example.com', login: 'password', password_hash: await hashPassword('password1') };
  assert.equal(validateSchema('user', user), []);
});

test('hash-password reads a line from a pipe and refuses short passwords', async () => {
  const run = (input: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [BIN, 'hash-password'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => resolve({ code, stdout, stderr }));
      c.stdin.end(input);
    });
  const ok = await run('long enough password\nignored second line\n');
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(await verifyPassword('long enough password', ok.stdout.trim()));
  const short = await run('short\n');
  assert.is(short.code, 64);
  assert.match(short.stderr, /shorter than 8 characters/);
  assert.is((await cli(['hash-password', '--help'])).code, 0);
});

test('hash-password on a terminal asks twice without echo', async () => {
  const typed = 'typed on a terminal';
  const out = await new Promise<string>((resolve) => {
    const c = spawn('script', ['-qec', `${process.execPath} ${BIN} hash-password`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
      if (/Password: $/.test(s)) c.stdin.write(`${typed}\r`);
      if (/Again: $/.test(s)) c.stdin.write(`${typed}\r`);
    });
    c.on('close', () => resolve(s));
    setTimeout(() => c.kill(), 20000).unref();
  });
  assert.not.ok(out.includes(typed), 'the password is never echoed');
  const hash = /\$scrypt\$\S+/.exec(out)?.[0];
  assert.ok(hash, out);
  assert.ok(await verifyPassword(typed, hash!));
});

test.run();
