import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config';
import { keyId } from '../../src/crypto/keyring';

const k = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const base = { DATABASE_URL: 'postgres://x/y', ZENDESK_CLIENT_ID: 'id', ZENDESK_CLIENT_SECRET: 'secret' };
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env }, 'worker');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    for (const fill of [1, 2, 3]) assert.ok(!err.message.includes(k(fill)), 'no key is echoed');
    return err.problems;
  }
  return [];
};

test('ENCRYPTION_KEYS: label:key pairs, the first current', () => {
  const config = loadConfig({ ...base, ENCRYPTION_KEYS: `k2:${k(2)}, k1:${k(1)}` }, 'worker');
  assert.deepEqual(
    config.encryptionKeys?.map((e) => e.label),
    ['k2', 'k1'],
  );
  assert.deepEqual(config.encryptionKeys?.[0]!.key, Buffer.alloc(32, 2));
});

test('ENCRYPTION_KEY alone is a ring of one', () => {
  const config = loadConfig({ ...base, ENCRYPTION_KEY: k(1) }, 'worker');
  assert.deepEqual(config.encryptionKeys, [{ label: 'default', key: Buffer.alloc(32, 1) }]);
});

test('both may be set when ENCRYPTION_KEY is one of the ring (docker-compose always passes it), never otherwise', () => {
  const config = loadConfig({ ...base, ENCRYPTION_KEY: k(1), ENCRYPTION_KEYS: `k2:${k(2)},k1:${k(1)}` }, 'worker');
  assert.equal(keyId(config.encryptionKeys[0]!.key), keyId(Buffer.alloc(32, 2)), 'ENCRYPTION_KEYS decides which key is current');
  assert.match(
    problemsOf({ ENCRYPTION_KEY: k(3), ENCRYPTION_KEYS: `k2:${k(2)},k1:${k(1)}` }).join('\n'),
    /^ENCRYPTION_KEY: is not one of the keys of ENCRYPTION_KEYS/m,
  );
});

test('bad rings are refused, naming the entry but never the key', () => {
  const expect = (value: string, pattern: RegExp) => {
    const problems = problemsOf({ ENCRYPTION_KEYS: value });
    assert.ok(
      problems.some((p) => p.startsWith('ENCRYPTION_KEYS:') && pattern.test(p)),
      `${value.slice(0, 12)}…: ${problems.join(' | ')}`,
    );
  };
  expect(k(1), /entry 1 must be label:base64-key/);
  expect(`k1:${k(1)},k1:${k(2)}`, /label k1 is used twice/);
  expect(`a:${k(1)},b:${k(1)}`, /b is the same key as a/);
  expect(`k1:c2hvcnQ=`, /entry 1 \(k1\): the key must be 32 random bytes/);
  expect(`bad label:${k(1)}`, /entry 1: the label/);
});

test('api, worker and rotate-keys need a key', () => {
  for (const role of ['api', 'worker', 'rotate-keys'] as const) {
    assert.throws(
      () => loadConfig({ ...base, ADMIN_API_KEY: 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU' }, role),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.problems.includes(`ENCRYPTION_KEY: required for ${role} (or ENCRYPTION_KEYS)`), err.message);
        return true;
      },
    );
  }
  assert.doesNotThrow(() => loadConfig({ DATABASE_URL: 'postgres://x/y' }, 'migrate'));
});
