import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { keyId } from '../../src/crypto/keyring';
import { SecretBox, SecretUnreadableError } from '../../src/crypto/secretBox';
import type { SecretBinding } from '../../src/crypto/secretBinding';

const K1 = Buffer.alloc(32, 5);
const K2 = Buffer.alloc(32, 6);
const box = new SecretBox(K1);
const refresh: SecretBinding = { table: 'oauth_credentials', row: '11111111-1111-4111-8111-111111111111', field: 'refresh_token' };
const access: SecretBinding = { ...refresh, field: 'access_token' };

/** Replaces the base64url part `index` of a sealed value. */
function withPart(sealed: string, index: number, change: (bytes: Buffer) => Buffer): string {
  const parts = sealed.split('.');
  parts[index] = change(Buffer.from(parts[index]!, 'base64url')).toString('base64url');
  return parts.join('.');
}

test('a ciphertext whose tag was truncated to 4 bytes is refused', () => {
  const sealed = box.encrypt('refresh-token-secret', refresh);
  const parts = sealed.split('.');
  const truncated = withPart(sealed, parts.length - 1, (tag) => tag.subarray(0, 4));
  assert.throws(() => box.decrypt(truncated, refresh), SecretUnreadableError);
  // Every shorter tag too (Node accepts 4 to 16 bytes unless told the length).
  for (let n = 4; n < 16; n++)
    assert.throws(
      () =>
        box.decrypt(
          withPart(sealed, parts.length - 1, (tag) => tag.subarray(0, n)),
          refresh,
        ),
      SecretUnreadableError,
    );
  assert.equal(box.decrypt(sealed, refresh), 'refresh-token-secret');
});

test('a ciphertext with a short IV is refused', () => {
  const sealed = box.encrypt('refresh-token-secret', refresh);
  const parts = sealed.split('.');
  const shortIv = withPart(sealed, parts.length - 3, (iv) => iv.subarray(0, 8));
  assert.throws(() => box.decrypt(shortIv, refresh), SecretUnreadableError);
});

test('the format: v2, the key id, a 12-byte IV, a 16-byte tag; bound to table, row and field', () => {
  const sealed = box.encrypt('x', refresh);
  const [version, kid, iv, , tag] = sealed.split('.');
  assert.equal(version, 'v2');
  assert.equal(kid, keyId(K1));
  assert.equal(Buffer.from(iv!, 'base64url').length, 12);
  assert.equal(Buffer.from(tag!, 'base64url').length, 16);
  assert.throws(() => box.decrypt(sealed, access), SecretUnreadableError, 'the other field of the row');
  assert.throws(() => box.decrypt(sealed, { ...refresh, row: '22222222-2222-4222-8222-222222222222' }), SecretUnreadableError, 'another row');
  assert.throws(() => box.decrypt(sealed, { ...refresh, table: 'oauth_staged_credentials' }), SecretUnreadableError, 'another table');
  assert.notEqual(box.encrypt('x', refresh), sealed, 'a fresh IV each time');
});

test('a key ring decrypts with any of its keys and encrypts with the first', () => {
  const old = new SecretBox([{ label: 'k1', key: K1 }]);
  const sealedOld = old.encrypt('old secret', refresh);
  const ring = new SecretBox([
    { label: 'k2', key: K2 },
    { label: 'k1', key: K1 },
  ]);
  assert.equal(ring.decrypt(sealedOld, refresh), 'old secret');
  assert.equal(ring.isCurrent(sealedOld), false);
  const sealedNew = ring.encrypt('new secret', refresh);
  assert.equal(sealedNew.split('.')[1], keyId(K2));
  assert.equal(ring.isCurrent(sealedNew), true);
  // Without k1 the old value is unreadable, and the error says which key is missing but no value.
  const newOnly = new SecretBox([{ label: 'k2', key: K2 }]);
  assert.equal(newOnly.decrypt(sealedNew, refresh), 'new secret');
  assert.throws(
    () => newOnly.decrypt(sealedOld, refresh),
    (err: unknown) =>
      err instanceof SecretUnreadableError && err.reason === 'unknown_key' && err.message.includes(keyId(K1)) && !err.message.includes('old secret'),
  );
  // Signatures: made with the current key, accepted under any key of the ring.
  const signed = old.sign('payload');
  assert.equal(ring.verifySignature('payload', signed), true);
  assert.equal(ring.verifySignature('payload', ring.sign('payload')), true);
  assert.equal(newOnly.verifySignature('payload', signed), false);
  assert.equal(ring.verifySignature('other', signed), false);
});

test('values in the first format (v1: no key id, bound to the row only) still decrypt, under whichever key sealed them', () => {
  // Exactly what the previous SecretBox wrote.
  const v1 = (master: Buffer, plaintext: string, aad: string) => {
    const enc = createHmac('sha256', master).update('zendesk-worker/encryption').digest();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', enc, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  };
  const ring = new SecretBox([
    { label: 'k2', key: K2 },
    { label: 'k1', key: K1 },
  ]);
  assert.equal(ring.decrypt(v1(K1, 'legacy token', refresh.row), refresh), 'legacy token');
  assert.equal(ring.decrypt(v1(K1, 'legacy staged', `staged-credentials:${refresh.row}`), { ...refresh, table: 'oauth_staged_credentials' }), 'legacy staged');
  assert.equal(ring.isCurrent(v1(K2, 'x', refresh.row)), false, 'rotation rewrites v1 values even under the current key');
  assert.throws(() => ring.decrypt(v1(K1, 'legacy token', 'another row'), refresh), SecretUnreadableError);
  const truncated = v1(K1, 'legacy token', refresh.row).split('.');
  truncated[3] = Buffer.from(truncated[3]!, 'base64url').subarray(0, 4).toString('base64url');
  assert.throws(() => ring.decrypt(truncated.join('.'), refresh), SecretUnreadableError, 'a 4-byte tag is refused in v1 too');
});

test('garbage is refused with a clear error', () => {
  for (const junk of ['', 'v2', 'v2.a.b.c.d', 'v3.x.y.z.w', 'plaintext-token', 'v1.%%.b.c']) {
    assert.throws(() => box.decrypt(junk, refresh), SecretUnreadableError, junk);
  }
});
