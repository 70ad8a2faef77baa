import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../src/api/app';
import { startInternalServer } from '../../src/api/internalServer';
import { loadConfig } from '../../src/config';
import { SecretBox } from '../../src/crypto/secretBox';
import { createDb } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { freePort } from '../../scripts/test';
import { testDb, TEST_ENCRYPTION_KEY } from '../helpers/db';

/**
 * /healthz answers while the process lives; /readyz only while PostgreSQL and Temporal both answer, so a
 * load balancer stops sending requests to an API that cannot serve them (and does not restart it).
 * Readiness and metrics are on the internal port (INTERNAL_PORT) only; the public port keeps /healthz.
 */
const servers: Server[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
let closedPort: number;

before(async () => {
  closedPort = await freePort(); // nothing listens there
});
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const c of cleanups) await c().catch(() => undefined);
});

async function startApi(opts: { databaseUrl: string; temporalAddress: string }): Promise<{ url: string; internal: string }> {
  const config = loadConfig(
    {
      DATABASE_URL: opts.databaseUrl,
      TEMPORAL_ADDRESS: opts.temporalAddress,
      ADMIN_API_KEY: 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU',
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('base64'),
    },
    'api',
  );
  const db = opts.databaseUrl === process.env.DATABASE_URL ? testDb() : createDb(opts.databaseUrl, 2, { connectionTimeoutMillis: 1_000 });
  if (db !== testDb()) cleanups.push(() => db.destroy());
  // Lazy: the API process starts (and stays alive) whether Temporal answers or not.
  const connection = Connection.lazy({ address: opts.temporalAddress, connectTimeout: 1_000 });
  cleanups.push(() => connection.close());
  const temporal = new Client({ connection });
  const metrics = createMetrics();
  const app = createApp({ db, box: new SecretBox(config.encryptionKeys), config, temporal, logger: createLogger('error'), metrics });
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const internal = await startInternalServer({ deps: { db, temporal }, metrics, port: 0, host: '127.0.0.1' });
  cleanups.push(() => internal.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, internal: `http://127.0.0.1:${internal.port}` };
}

const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

test('with PostgreSQL and Temporal up, both probes answer 200 on the internal port', async () => {
  const { url, internal } = await startApi({ databaseUrl: process.env.DATABASE_URL!, temporalAddress: process.env.TEMPORAL_ADDRESS! });
  assert.deepEqual(await get(`${internal}/healthz`), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await get(`${internal}/readyz`), { status: 200, body: { status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } } });
  assert.match(await fetch(`${internal}/metrics`).then((r) => r.text()), /^# HELP /m);
  // The public port: liveness only; readiness and metrics are nobody's business out there.
  assert.deepEqual(await get(`${url}/healthz`), { status: 200, body: { status: 'ok' } });
  for (const path of ['/readyz', '/metrics']) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 404, `public ${path}`);
    assert.doesNotMatch(await res.text(), /postgres|temporal|# HELP/);
  }
});

test('with PostgreSQL and Temporal unreachable, /readyz is 503 and /healthz still 200', async () => {
  const { url, internal } = await startApi({ databaseUrl: `postgres://postgres@127.0.0.1:${closedPort}/nowhere`, temporalAddress: `127.0.0.1:${closedPort}` });
  const started = Date.now();
  const ready = await get(`${internal}/readyz`);
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.body, { status: 'not ready', checks: { postgres: 'unreachable', temporal: 'unreachable' } });
  assert.ok(Date.now() - started < 10_000, 'the readiness check gives up quickly');
  assert.deepEqual(await get(`${url}/healthz`), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await get(`${internal}/healthz`), { status: 200, body: { status: 'ok' } });
});

test('either one down is enough to be not ready', async () => {
  const noTemporal = (await startApi({ databaseUrl: process.env.DATABASE_URL!, temporalAddress: `127.0.0.1:${closedPort}` })).internal;
  assert.deepEqual(await get(`${noTemporal}/readyz`), { status: 503, body: { status: 'not ready', checks: { postgres: 'ok', temporal: 'unreachable' } } });
  const noPostgres = (await startApi({ databaseUrl: `postgres://postgres@127.0.0.1:${closedPort}/nowhere`, temporalAddress: process.env.TEMPORAL_ADDRESS! }))
    .internal;
  assert.deepEqual(await get(`${noPostgres}/readyz`), { status: 503, body: { status: 'not ready', checks: { postgres: 'unreachable', temporal: 'ok' } } });
  assert.equal((await get(`${noPostgres}/healthz`)).status, 200);
});
