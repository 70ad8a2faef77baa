import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '../../src/crypto/secretBox';

const box = new SecretBox(Buffer.alloc(32, 5));

/** Replaces the base64url part `index` of a sealed value. */
function withPart(sealed: string, index: number, change: (bytes: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[index] = change(Buffer.from(parts[index], 'base64url')).toString('base64url');
  return parts.join('.');
}

test('a ciphertext whose tag was truncated to 4 bytes is refused', () => {
  const sealed = box.encrypt('refresh-token-secret', 'ad');
  const parts = sealed.split('.');
  const truncated = withPart(sealed, parts.length - 1, (tag) => tag.subarray(0, 4));
  assert.throws(() => box.decrypt(truncated, 'ad'));
});

test('a ciphertext with a short IV is refused', () => {
  const sealed = box.encrypt('refresh-token-secret', 'ad');
  const parts = sealed.split('.');
  const shortIv = withPart(sealed, parts.length - 3, (iv) => iv.subarray(0, 8));
  assert.throws(() => box.decrypt(shortIv, 'ad'));
});
