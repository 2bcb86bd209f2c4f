// The sealing of secrets at rest (src/auth/secret-box.ts): keys as base64 or hex, errors that name
// the entry, a box that opens only with its key and for its row, rotation through a key list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keyring, parseKeys } from '../../src/auth/secret-box.ts';

const A = Buffer.alloc(32, 1).toString('base64');
const B = Buffer.alloc(32, 2).toString('hex');

test('keys: 32 bytes as base64 or hex; anything else names the entry and says how to make one', () => {
  assert.is(parseKeys(`${A}, ${B}`).length, 2);
  assert.throws(() => parseKeys('hunter2'), /^CODER_GIT_ENCRYPTION_KEYS is not a 32-byte key: expected 44 characters of base64 or 64 of hex \(make one with: openssl rand -base64 32\)$/);
  assert.throws(() => parseKeys(`${A},${Buffer.alloc(16).toString('base64')}`), /^entry 2 of CODER_GIT_ENCRYPTION_KEYS is not a 32-byte key/);
  assert.throws(() => parseKeys(`${A},`), /^entry 2 of/);
});

test('a box opens with its key and for its row only; it carries no plaintext', () => {
  const ring = keyring(parseKeys(A));
  const box = ring.seal(Buffer.from('the secret'), 'row:1');
  assert.not.ok(box.includes(Buffer.from('the secret')));
  assert.is(ring.open(box, 'row:1').toString(), 'the secret');
  assert.throws(() => ring.open(box, 'row:2'), /does not open: it was changed or copied from another row/);
  const tampered = Buffer.from(box);
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => ring.open(tampered, 'row:1'), /does not open/);
  assert.throws(() => keyring(parseKeys(B)).open(box, 'row:1'), new RegExp(`encrypted with key ${ring.current}, which CODER_GIT_ENCRYPTION_KEYS does not hold \\(it holds ${keyring(parseKeys(B)).current}\\)`));
});

test('rotation: the first key seals, every key opens', () => {
  const old = keyring(parseKeys(A));
  const box = old.seal(Buffer.from('s'), 'r');
  const both = keyring(parseKeys(`${B},${A}`));
  assert.is(both.open(box, 'r').toString(), 's');
  assert.is(both.keyOf(both.seal(Buffer.from('s'), 'r')), keyring(parseKeys(B)).current);
  assert.is(both.keyOf(box), old.current);
});

test.run();
