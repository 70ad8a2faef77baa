import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, parseDuration } from '../../src/config';
import { isLoopbackHost } from '../../src/net/loopback';
import { makeTestPki } from '../helpers/testCerts';

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
  assert.throws(
    () => loadConfig({}, 'api'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), ['ADMIN_API_KEY', 'DATABASE_URL', 'ENCRYPTION_KEY']);
      return true;
    },
  );
  const config = loadConfig({ ADMIN_API_KEY: ADMIN_KEY, ENCRYPTION_KEY: KEY, DATABASE_URL: 'postgres://x/y' }, 'api');
  assert.equal(config.encryptionKeys?.length, 1);
  assert.equal(config.encryptionKeys?.[0]!.key.length, 32);
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
  assert.equal(loadConfig({ ZENDESK_BASE_URL: 'http://{subdomain}.localhost:4010' }).zendesk.baseUrlTemplate, 'http://{subdomain}.localhost:4010');
  assert.throws(() => loadConfig({ ZENDESK_BASE_URL: 'ftp://{subdomain}.zendesk.com' }), ConfigError);
});

// ---- https everywhere but loopback ---------------------------------------------------------------

test('loopback hosts: localhost (and its subdomains), 127.0.0.0/8, ::1 — nothing else', () => {
  for (const host of ['localhost', 'LOCALHOST', 'demo.localhost', '127.0.0.1', '127.8.9.10', '[::1]', 'localhost.']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['example.com', 'localhost.example.com', '10.0.0.1', '128.0.0.1', '0.0.0.0', '[::]', '[::ffff:7f00:1]', '[2001:db8::1]', 'mylocalhost']) {
    assert.ok(!isLoopbackHost(host), host);
  }
  // WHATWG URL parsing normalises other IPv4 spellings before the check.
  assert.ok(isLoopbackHost(new URL('http://0x7f.1/').hostname));
});

test('PUBLIC_URL and ZENDESK_BASE_URL must be https except on loopback hosts, with a message naming the variable', () => {
  for (const url of ['https://integrations.example.com', 'http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000']) {
    assert.equal(loadConfig({ PUBLIC_URL: url }).publicUrl, url, url);
  }
  for (const template of ['https://{subdomain}.zendesk.com', 'http://127.0.0.1:4010/{subdomain}', 'http://{subdomain}.localhost:4010']) {
    assert.equal(loadConfig({ ZENDESK_BASE_URL: template }).zendesk.baseUrlTemplate, template);
  }
  const cases: Array<[string, string, RegExp]> = [
    ['PUBLIC_URL', 'http://integrations.example.com', /^PUBLIC_URL: must use https .*loopback.*got http:\/\/integrations\.example\.com$/],
    ['PUBLIC_URL', 'http://10.1.2.3:3000', /^PUBLIC_URL: must use https/],
    ['PUBLIC_URL', 'http://0.0.0.0:3000', /^PUBLIC_URL: must use https/],
    ['PUBLIC_URL', 'ftp://example.com', /^PUBLIC_URL: must be an https URL/],
    ['PUBLIC_URL', 'not a url', /^PUBLIC_URL: must be an absolute URL/],
    ['ZENDESK_BASE_URL', 'http://{subdomain}.zendesk.com', /^ZENDESK_BASE_URL: must use https .*got http:\/\/\{subdomain\}\.zendesk\.com$/],
    ['ZENDESK_BASE_URL', 'http://proxy.internal/{subdomain}', /^ZENDESK_BASE_URL: must use https/],
  ];
  for (const [name, value, message] of cases) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `${name}=${value}`);
        assert.equal(err.problems.length, 1, err.message);
        assert.match(err.problems[0]!, message);
        return true;
      },
    );
  }
});

test('an API process with an http PUBLIC_URL on a public host stops at start, naming the variable', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'src', 'api-server.ts')], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      ADMIN_API_KEY: 'a'.repeat(40),
      ENCRYPTION_KEY: KEY,
      PUBLIC_URL: 'http://integrations.example.com',
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /Invalid configuration:\n\s+- PUBLIC_URL: must use https/);
});

// ---- Temporal: TLS, mTLS, API key ------------------------------------------------------------------

const pki = makeTestPki();
after(() => pki.remove());

test('Temporal: plaintext unless TLS or an API key is configured', () => {
  assert.deepEqual(loadConfig({}).temporal.connection, {});
  assert.equal(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.connection?.tls ? 'on' : 'off', 'on');
  // Temporal Cloud with an API key: TLS with the system roots, the key as a bearer token.
  const cloud = loadConfig({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_API_KEY: 'k'.repeat(30) }).temporal.connection!;
  assert.ok(cloud.tls);
  assert.equal(cloud.apiKey, 'k'.repeat(30));
  const mtls = loadConfig({
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCertPath,
    TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertPath,
    TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKeyPath,
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  }).temporal.connection!;
  assert.ok(typeof mtls.tls === 'object');
  assert.equal(Buffer.from(mtls.tls.serverRootCACertificate!).toString(), pki.read(pki.caCertPath).toString());
  assert.equal(Buffer.from(mtls.tls.clientCertPair!.crt).toString(), pki.read(pki.clientCertPath).toString());
  assert.equal(mtls.tls.serverNameOverride, 'temporal.internal');
});

test('Temporal: bad TLS settings stop the process with one message naming each, never a key', () => {
  const notPem = path.join(pki.dir, 'not-pem.txt');
  writeFileSync(notPem, 'hello');
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    return [];
  };
  assert.deepEqual(problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertPath }), [
    'TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH (mTLS needs the certificate and its key)',
  ]);
  assert.deepEqual(problemsOf({ TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKeyPath }), [
    'TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH (mTLS needs the certificate and its key)',
  ]);
  assert.deepEqual(problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertPath, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.serverKeyPath }), [
    'TEMPORAL_TLS_CLIENT_KEY_PATH: is not the private key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH',
  ]);
  assert.match(
    problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' })[0]!,
    /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read \/nonexistent\/ca\.pem \(ENOENT\)$/,
  );
  assert.match(problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: notPem })[0]!, /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: .* is not a PEM file$/);
  assert.match(problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.clientKeyPath })[0]!, /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: does not hold a PEM certificate$/);
  assert.deepEqual(problemsOf({ TEMPORAL_TLS: 'yes' }), ['TEMPORAL_TLS: must be true or false']);
  const apiKey = 'secret-api-key-value-123';
  const clear = problemsOf({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS_SERVER_NAME: 'x' });
  assert.deepEqual(clear.map((p) => p.split(':')[0]).sort(), ['TEMPORAL_API_KEY', 'TEMPORAL_TLS_SERVER_NAME']);
  assert.ok(!clear.join('\n').includes(apiKey), 'the key is never echoed');
  assert.match(problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_DATA: '-----BEGIN CERTIFICATE-----' })[0]!, /^TEMPORAL_TLS_SERVER_CA_CERT_DATA: not supported/);
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
        'ACTIVITY_RETENTION_DAYS',
        'DISCONNECTED_DATA_RETENTION_DAYS',
        'HOUSEKEEPING_BATCH_SIZE',
        'HOUSEKEEPING_INTERVAL',
        'OAUTH_FLOW_RETENTION',
        'RATE_LIMIT_BLOCK_RETENTION',
        'SYNC_RUN_RETENTION_DAYS',
        'SYNC_RUN_RETENTION_RUNS',
      ]);
      return true;
    },
  );
  // The default report window must be one the reports accept.
  assert.throws(() => loadConfig({ ACTIVITY_RETENTION_DAYS: '20' }), /INACTIVE_AFTER_DAYS: must not exceed ACTIVITY_RETENTION_DAYS \(20\)/);
  assert.equal(loadConfig({ ACTIVITY_RETENTION_DAYS: '20', INACTIVE_AFTER_DAYS: '20' }).inactiveAfterDays, 20);
});
