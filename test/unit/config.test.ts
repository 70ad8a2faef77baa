import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDuration } from '../../src/config';

const KEY = Buffer.alloc(32, 7).toString('base64');
const ADMIN_KEY = 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU';

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
  const config = loadConfig({ ADMIN_API_KEY: ADMIN_KEY, ENCRYPTION_KEY: KEY, DATABASE_URL: 'postgres://x/y' }, 'api');
  assert.equal(config.encryptionKeys?.length, 1);
  assert.equal(config.encryptionKeys?.[0].key.length, 32);
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

test('housekeeping: defaults, periods in milliseconds, every period configurable and validated', () => {
  const DAY = 86_400_000;
  const defaults = loadConfig({});
  assert.equal(defaults.activityRetentionDays, 400);
  assert.deepEqual(defaults.housekeeping, {
    intervalMs: DAY,
    batchSize: 5000,
    activityRetentionMs: 400 * DAY,
    disconnectedDataRetentionMs: 30 * DAY,
    syncRunRetentionMs: 180 * DAY,
    syncRunRetentionRuns: 1000,
    oauthFlowRetentionMs: DAY,
    rateLimitBlockRetentionMs: 3_600_000,
  });
  const set = loadConfig({
    HOUSEKEEPING_INTERVAL: '15m',
    HOUSEKEEPING_BATCH_SIZE: '10',
    ACTIVITY_RETENTION_DAYS: '90',
    DISCONNECTED_DATA_RETENTION_DAYS: '0',
    SYNC_RUN_RETENTION_DAYS: '7',
    SYNC_RUN_RETENTION_RUNS: '3',
    OAUTH_FLOW_RETENTION: '2s',
    RATE_LIMIT_BLOCK_RETENTION: '0s',
  });
  assert.equal(set.activityRetentionDays, 90);
  assert.deepEqual(set.housekeeping, {
    intervalMs: 900_000,
    batchSize: 10,
    activityRetentionMs: 90 * DAY,
    disconnectedDataRetentionMs: 0,
    syncRunRetentionMs: 7 * DAY,
    syncRunRetentionRuns: 3,
    oauthFlowRetentionMs: 2_000,
    rateLimitBlockRetentionMs: 0,
  });
  assert.equal(loadConfig({ HOUSEKEEPING_INTERVAL: 'off' }).housekeeping.intervalMs, undefined);
  assert.throws(
    () =>
      loadConfig({
        HOUSEKEEPING_INTERVAL: '10s',
        HOUSEKEEPING_BATCH_SIZE: '0',
        ACTIVITY_RETENTION_DAYS: '0',
        DISCONNECTED_DATA_RETENTION_DAYS: '-1',
        SYNC_RUN_RETENTION_DAYS: 'half a year',
        SYNC_RUN_RETENTION_RUNS: '0',
        OAUTH_FLOW_RETENTION: '31d',
        RATE_LIMIT_BLOCK_RETENTION: 'soon',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
        'ACTIVITY_RETENTION_DAYS', 'DISCONNECTED_DATA_RETENTION_DAYS', 'HOUSEKEEPING_BATCH_SIZE', 'HOUSEKEEPING_INTERVAL',
        'OAUTH_FLOW_RETENTION', 'RATE_LIMIT_BLOCK_RETENTION', 'SYNC_RUN_RETENTION_DAYS', 'SYNC_RUN_RETENTION_RUNS',
      ]);
      return true;
    },
  );
  // The default report window must be one the reports accept.
  assert.throws(() => loadConfig({ ACTIVITY_RETENTION_DAYS: '20' }), /INACTIVE_AFTER_DAYS: must not exceed ACTIVITY_RETENTION_DAYS \(20\)/);
  assert.equal(loadConfig({ ACTIVITY_RETENTION_DAYS: '20', INACTIVE_AFTER_DAYS: '20' }).inactiveAfterDays, 20);
});
