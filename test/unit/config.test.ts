import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDuration } from '../../src/config';

const KEY = Buffer.alloc(32, 7).toString('base64');

test('defaults follow the contract', () => {
  const config = loadConfig({});
  assert.equal(config.temporal.address, 'localhost:7233');
  assert.equal(config.temporal.namespace, 'default');
  assert.equal(config.temporal.taskQueue, 'zendesk-integration');
  assert.equal(config.port, 3000);
  assert.equal(config.publicUrl, 'http://localhost:3000');
  assert.equal(config.redirectUri, 'http://localhost:3000/v1/oauth/zendesk/callback');
  assert.equal(config.zendesk.baseUrlTemplate, 'https://{subdomain}.zendesk.com');
  assert.equal(config.syncIntervalMs, 6 * 3600_000);
  assert.equal(config.activityBackfillDays, 90);
  assert.equal(config.inactiveAfterDays, 30);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.consentTimeoutMs, 30 * 60_000);
});

test('one error names every bad variable and never echoes a secret', () => {
  const secret = 'c2hvcnQ=';
  assert.throws(
    () => loadConfig({ PORT: 'eighty', ENCRYPTION_KEY: secret, ZENDESK_BASE_URL: 'https://zendesk.com', SYNC_INTERVAL: '5s', LOG_LEVEL: 'loud' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const names = err.problems.map((p) => p.split(':')[0]).sort();
      assert.deepEqual(names, ['ENCRYPTION_KEY', 'LOG_LEVEL', 'PORT', 'SYNC_INTERVAL', 'ZENDESK_BASE_URL']);
      assert.ok(!err.message.includes(secret));
      return true;
    },
  );
});

test('roles require their variables', () => {
  assert.throws(() => loadConfig({}, 'api'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), ['ADMIN_API_KEY', 'DATABASE_URL', 'ENCRYPTION_KEY']);
    return true;
  });
  const config = loadConfig({ ADMIN_API_KEY: 'a'.repeat(20), ENCRYPTION_KEY: KEY, DATABASE_URL: 'postgres://x/y' }, 'api');
  assert.equal(config.encryptionKey?.length, 32);
});

test('durations', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('6 hours'), undefined);
  assert.throws(() => loadConfig({ SYNC_INTERVAL: '8d' }), ConfigError);
  assert.equal(loadConfig({ SYNC_INTERVAL: '30s' }).syncIntervalMs, 30_000);
});

test('the base URL template may carry {subdomain} in the host or the path', () => {
  assert.equal(loadConfig({ ZENDESK_BASE_URL: 'http://127.0.0.1:4010/{subdomain}' }).zendesk.baseUrlTemplate, 'http://127.0.0.1:4010/{subdomain}');
  assert.throws(() => loadConfig({ ZENDESK_BASE_URL: 'ftp://{subdomain}.zendesk.com' }), ConfigError);
});
