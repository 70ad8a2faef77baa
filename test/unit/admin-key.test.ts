import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';

const base = { ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), DATABASE_URL: 'postgres://x/y' };
const refused = (key: string) =>
  assert.throws(
    () => loadConfig({ ...base, ADMIN_API_KEY: key }, 'api'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(
        err.problems.some((p) => p.startsWith('ADMIN_API_KEY:')),
        err.message,
      );
      assert.ok(!err.message.includes(key), 'the key is not echoed');
      return true;
    },
    `refused: ${key.slice(0, 8)}…`,
  );

test('ADMIN_API_KEY must be at least 32 random bytes', () => {
  refused('admin-key-0123456789abcdef'); // 26 characters
  refused(randomBytes(16).toString('hex')); // 16 bytes as hex
  refused(randomBytes(24).toString('base64url')); // 24 bytes
  refused('a'.repeat(64)); // long, but no randomness
  refused('passwordpasswordpasswordpasswordpasswordpassword');
  refused('0123456789abcdef'.repeat(4)); // a pattern
  for (let i = 0; i < 200; i++) {
    for (const key of [randomBytes(32).toString('base64'), randomBytes(32).toString('base64url'), randomBytes(32).toString('hex')]) {
      assert.equal(loadConfig({ ...base, ADMIN_API_KEY: key }, 'api').adminApiKey, key);
    }
  }
});
