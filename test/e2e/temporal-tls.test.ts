import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config';
import { createTemporalClient } from '../../src/temporal/client';
import { connectNativeTemporal } from '../../src/temporal/nativeConnection';
import { connectAndSync, createTenant, startSystem } from '../helpers/system';
import { makeTestPki, type TestPki } from '../helpers/testCerts';
import { startTlsProxy, type TlsProxy } from '../helpers/tlsProxy';

/**
 * Connecting to a Temporal cluster over TLS, mTLS and with an API key (Temporal Cloud), as configured through
 * the environment (src/temporal/connectionSettings.ts). The dev server speaks plaintext only, so a
 * TLS-terminating gRPC proxy stands in front of it (test/helpers/tlsProxy.ts) with certificates made now.
 * Both connections are exercised: the client's (API, activities) and the worker's NativeConnection.
 */
let pki: TestPki;
let serverTls: TlsProxy; // server-verified TLS only
let cloudLike: TlsProxy; // TLS + client certificate + API key
const API_KEY = 'test-api-key-0123456789';

before(async () => {
  pki = makeTestPki();
  const cert = pki.read(pki.serverCertPath);
  const key = pki.read(pki.serverKeyPath);
  serverTls = await startTlsProxy({ target: process.env.TEMPORAL_ADDRESS!, cert, key });
  cloudLike = await startTlsProxy({ target: process.env.TEMPORAL_ADDRESS!, cert, key, clientCa: pki.read(pki.caCertPath), apiKey: API_KEY });
});
after(async () => {
  await serverTls?.close();
  await cloudLike?.close();
  pki?.remove();
});

const temporalEnv = (address: string, extra: Record<string, string>) => loadConfig({ TEMPORAL_ADDRESS: address, ...extra });

/** Rejects (not hangs): the time it took and the message. */
async function refusal(connect: () => Promise<{ close(): Promise<void> }>): Promise<{ ms: number; message: string }> {
  const started = Date.now();
  try {
    const connection = await connect();
    await connection.close();
  } catch (err) {
    return { ms: Date.now() - started, message: (err as Error).message };
  }
  assert.fail('the connection was expected to be refused');
}

const bothConnections = (config: ReturnType<typeof loadConfig>) => ({
  client: async () => (await createTemporalClient(config)).connection,
  worker: () => connectNativeTemporal(config),
});

describe('server-verified TLS', () => {
  test('with the right CA, the client and the worker connection both reach Temporal', async () => {
    const config = temporalEnv(serverTls.address, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCertPath });
    assert.ok(config.temporal.connection?.tls, 'TLS is on when a CA is given');
    const before = serverTls.calls;
    const client = await createTemporalClient(config);
    const info = await client.connection.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'an answer from the server behind the proxy');
    await client.connection.close();
    const native = await connectNativeTemporal(config);
    await native.close();
    assert.ok(serverTls.calls > before, 'the calls went through the TLS proxy');
  });

  test('with a CA that did not sign the server certificate, both refuse at once with a clear error', async () => {
    const config = temporalEnv(serverTls.address, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.otherCaCertPath });
    for (const [name, connect] of Object.entries(bothConnections(config))) {
      const { ms, message } = await refusal(connect);
      assert.ok(ms < 5_000, `${name}: refused in ${ms} ms, not after a connect timeout`);
      assert.match(message, /not trusted/, `${name}: ${message}`);
      assert.match(message, /TEMPORAL_TLS_SERVER_CA_CERT_PATH/, `${name}: names the setting to fix`);
      assert.match(message, new RegExp(serverTls.address.replace(/\./g, '\\.')), `${name}: names the address`);
    }
  });

  test('TLS against a plaintext server says so', async () => {
    const config = temporalEnv(process.env.TEMPORAL_ADDRESS!, { TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCertPath });
    const { ms, message } = await refusal(bothConnections(config).client);
    assert.ok(ms < 5_000, `refused in ${ms} ms`);
    assert.match(message, /does not speak TLS/);
  });
});

describe('mTLS and an API key (Temporal Cloud)', () => {
  const good = () => ({
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCertPath,
    TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertPath,
    TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKeyPath,
    TEMPORAL_API_KEY: API_KEY,
  });

  test('without a client certificate the connection is refused, naming the mTLS settings', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = good();
    const config = temporalEnv(cloudLike.address, noCert);
    for (const [name, connect] of Object.entries(bothConnections(config))) {
      const { ms, message } = await refusal(connect);
      assert.ok(ms < 5_000, `${name}: refused in ${ms} ms`);
      assert.match(message, /client certificate/, `${name}: ${message}`);
      assert.match(message, /TEMPORAL_TLS_CLIENT_CERT_PATH/, name);
    }
  });

  test('a wrong API key is refused, naming TEMPORAL_API_KEY and never showing it', async () => {
    const wrongKey = 'not-the-key-9876543210';
    const config = temporalEnv(cloudLike.address, { ...good(), TEMPORAL_API_KEY: wrongKey });
    for (const [name, connect] of Object.entries(bothConnections(config))) {
      const { message } = await refusal(connect);
      assert.match(message, /TEMPORAL_API_KEY/, `${name}: ${message}`);
      assert.ok(!message.includes(wrongKey), `${name}: the key is not in the message`);
    }
    assert.ok(cloudLike.refusedApiKey >= 2);
  });

  test('with the client certificate and the API key, a tenant connects and syncs through the proxy', async () => {
    const refusedBefore = cloudLike.refusedApiKey;
    const system = await startSystem({ env: { TEMPORAL_ADDRESS: cloudLike.address, ...good() } });
    try {
      assert.equal(system.config.temporal.connection?.apiKey, API_KEY);
      const tenant = await createTenant(system);
      system.sandbox.createWorkspace({ subdomain: 'tls-acme', users: 20, ticketEvents: 40, seed: 14, consentMode: 'allow' });
      const { run } = await connectAndSync(system, tenant.apiKey, 'tls-acme');
      assert.equal(run.status, 'succeeded');
      assert.equal(cloudLike.refusedApiKey, refusedBefore, 'every call carried the API key');
      assert.ok(cloudLike.calls > 10, 'the API, the workflows and the activities all went through the proxy');
    } finally {
      await system.stop();
    }
  });
});
