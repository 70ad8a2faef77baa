import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { createApp } from '../../src/api/app';
import { startInternalServer } from '../../src/api/internalServer';
import { loadConfig } from '../../src/config';
import { createMetrics } from '../../src/observability/metrics';
import { httpMetricsMiddleware, metricsHandler, UNMATCHED_ROUTE } from '../../src/observability/httpMetrics';
import { recordSyncedRows, recordSyncFinished, recordSyncStarted } from '../../src/observability/syncMetrics';
import { zendeskObserver } from '../../src/observability/zendeskMetrics';
import { startMetricsServer } from '../../src/observability/metricsServer';

/** Metrics: the Express middleware through a real server, the text format, the Zendesk observer, the worker's server. */

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(app: express.Express): Promise<string> {
  const server = createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The value of a counter's series with these labels. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l));
  return match?.value;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text exposition format (version 0.0.4). */
function parsePrometheusText(text: string): { types: Map<string, string>; help: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-][Ii]nf))(?: -?[0-9]+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      help.set(m[1]!, m[2]!);
      continue;
    }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.ok(!types.has(m[1]!), `one TYPE line for ${m[1]}`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
    m = sampleLine.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      labelPair.lastIndex = 0;
      while (labelPair.lastIndex < m[2].length) {
        const pair = labelPair.exec(m[2]);
        assert.ok(pair, `bad labels: ${m[2]}`);
        labels[pair[1]!] = pair[2]!;
      }
    }
    const family = [m[1], m[1]!.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n!));
    assert.ok(family, `sample ${m[1]} has a TYPE line`);
    if (m[1]!.endsWith('_bucket')) assert.ok('le' in labels, 'buckets carry le');
    samples.push({ name: m[1]!, labels, value: /^nan$/i.test(m[3]!) ? NaN : Number(m[3]!.replace('Inf', 'Infinity')) });
  }
  return { types, help, samples };
}

describe('HTTP metrics middleware', () => {
  test('counts requests through a real Express app, labelled by route template', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = express();
    app.use(httpMetricsMiddleware(metrics));
    app.get('/metrics', metricsHandler(metrics.registry));
    app.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const nested = express.Router();
    nested.post('/things/:thingId', (_req, res) => {
      res.status(202).end();
    });
    app.use('/nested', nested);
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.use((_req, res) => {
      res.status(404).end();
    });
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).end();
    });
    const base = await listen(app);

    for (const id of ['1', '2', '3']) assert.equal((await fetch(`${base}/items/${id}`)).status, 200);
    assert.equal((await fetch(`${base}/nested/things/9`, { method: 'POST' })).status, 202);
    assert.equal((await fetch(`${base}/no/such/path/${Math.random()}`)).status, 404);
    assert.equal((await fetch(`${base}/boom`)).status, 500);

    const { registry } = metrics;
    assert.equal(await value(registry, 'http_requests_total', { method: 'GET', route: '/items/:id', status: '200' }), 3);
    assert.equal(await value(registry, 'http_requests_total', { method: 'POST', route: '/nested/things/:thingId', status: '202' }), 1);
    assert.equal(await value(registry, 'http_requests_total', { method: 'GET', route: UNMATCHED_ROUTE, status: '404' }), 1);
    assert.equal(await value(registry, 'http_requests_total', { method: 'GET', route: '/boom', status: '500' }), 1);

    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(await response.text());
    assert.equal(parsed.types.get('http_requests_total'), 'counter');
    assert.equal(parsed.types.get('http_request_duration_seconds'), 'histogram');
    const counted = parsed.samples.find((s) => s.name === 'http_requests_total' && s.labels.route === '/items/:id');
    assert.deepEqual(counted, { name: 'http_requests_total', labels: { method: 'GET', route: '/items/:id', status: '200' }, value: 3 });
    const histogramCount = parsed.samples.find((s) => s.name === 'http_request_duration_seconds_count' && s.labels.route === '/items/:id');
    assert.equal(histogramCount?.value, 3);
    const inf = parsed.samples.find((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === '/items/:id' && s.labels.le === '+Inf');
    assert.equal(inf?.value, 3);
    // Ids never become labels.
    assert.ok(!parsed.samples.some((s) => Object.values(s.labels).some((l) => /\/items\/\d/.test(l))));
  });

  test('the API serves GET /metrics on its internal port only, and labels its routes', async () => {
    const config = loadConfig(
      {
        ADMIN_API_KEY: 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU',
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        DATABASE_URL: 'postgres://unused/x',
      },
      'api',
    );
    const metrics = createMetrics({ defaultLabels: { process: 'api' } });
    const deps = { db: {} as any, box: {} as any, temporal: {} as any, config, logger: pino({ level: 'silent' }), metrics };
    const base = await listen(createApp(deps));
    const internal = await startInternalServer({ deps, metrics, port: 0, host: '127.0.0.1' });
    after(() => internal.close());

    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/v1/integrations/123`)).status, 401); // no key: refused by the auth middleware
    assert.equal((await fetch(`${base}/metrics`)).status, 404, 'not on the public port');

    const response = await fetch(`http://127.0.0.1:${internal.port}/metrics`);
    assert.equal(response.status, 200);
    const parsed = parsePrometheusText(await response.text());
    const find = (route: string) => parsed.samples.find((s) => s.name === 'http_requests_total' && s.labels.route === route);
    assert.deepEqual(find('/healthz')?.labels, { method: 'GET', route: '/healthz', status: '200', process: 'api' });
    // Refused by the authentication middleware before any route matched: no template, the status tells.
    assert.ok(parsed.samples.some((s) => s.name === 'http_requests_total' && s.labels.route === UNMATCHED_ROUTE && s.labels.status === '401'));
    assert.ok(
      parsed.samples.some((s) => s.name === 'http_requests_total' && s.labels.route === UNMATCHED_ROUTE && s.labels.status === '404'),
      'the public /metrics was a 404',
    );
    assert.ok(parsed.types.has('process_cpu_user_seconds_total'), 'default process metrics');
    assert.ok(parsed.types.has('nodejs_eventloop_lag_seconds'));
    for (const name of ['zendesk_syncs_started_total', 'zendesk_api_requests_total', 'zendesk_rate_limited_total', 'zendesk_token_refreshes_total']) {
      assert.ok(parsed.types.has(name), name);
    }
  });

  test('registries of two APIs do not collide', async () => {
    const config = loadConfig(
      {
        ADMIN_API_KEY: 'mR3v9QeXk2LpZ7wYtB4nHs8cJf6uVa1dGo0iKqEzTxU',
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        DATABASE_URL: 'postgres://unused/x',
      },
      'api',
    );
    const [metricsA, metricsB] = [createMetrics({ defaultLabels: { process: 'api' } }), createMetrics({ defaultLabels: { process: 'api' } })];
    const deps = { db: {} as any, box: {} as any, temporal: {} as any, config, logger: pino({ level: 'silent' }) };
    const a = await listen(createApp({ ...deps, metrics: metricsA }));
    await listen(createApp({ ...deps, metrics: metricsB }));
    await fetch(`${a}/healthz`);
    const textA = await metricsA.registry.metrics();
    const textB = await metricsB.registry.metrics();
    assert.match(textA, /http_requests_total\{method="GET",route="\/healthz",status="200",process="api"\} 1/);
    assert.doesNotMatch(textB, /route="\/healthz"/);
  });
});

describe('sync and Zendesk metrics', () => {
  test('syncs started, succeeded, failed, durations and rows', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    recordSyncStarted(metrics);
    recordSyncStarted(metrics);
    recordSyncFinished(metrics, { outcome: 'succeeded', durationMs: 12_000, usersSynced: 120, ticketEventsSynced: 30 });
    recordSyncFinished(metrics, { outcome: 'failed', durationMs: 500 });
    recordSyncedRows(metrics, { users: 5, ticketEvents: 7 });
    const { registry } = metrics;
    assert.equal(await value(registry, 'zendesk_syncs_started_total'), 2);
    assert.equal(await value(registry, 'zendesk_syncs_succeeded_total'), 1);
    assert.equal(await value(registry, 'zendesk_syncs_failed_total'), 1);
    assert.equal(await value(registry, 'zendesk_users_synced_total'), 125);
    assert.equal(await value(registry, 'zendesk_ticket_events_synced_total'), 37);
    const parsed = parsePrometheusText(await registry.metrics());
    const sum = parsed.samples.find((s) => s.name === 'zendesk_sync_duration_seconds_sum' && s.labels.outcome === 'succeeded');
    assert.equal(sum?.value, 12);
  });

  test('zendeskObserver counts requests by bucket and status, 429s and token refreshes', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const observer = zendeskObserver(metrics);
    observer.onRequest({ bucket: 'users-cursor', method: 'GET', endpoint: '/api/v2/incremental/users/cursor', status: 200, durationMs: 120 });
    observer.onRequest({ bucket: 'users-cursor', method: 'GET', endpoint: '/api/v2/incremental/users/cursor', status: 200, durationMs: 80 });
    observer.onRequest({ bucket: 'incremental', method: 'GET', endpoint: '/api/v2/incremental/ticket_events', status: 429, durationMs: 15 });
    observer.onRequest({ bucket: 'account', method: 'GET', endpoint: '/api/v2/users/me', status: 0, durationMs: 30_000, failure: 'timeout' });
    observer.onRequest({ bucket: 'oauth', method: 'POST', endpoint: '/oauth/tokens', status: 200, durationMs: 40 });
    observer.onRequest({ bucket: 'oauth', method: 'POST', endpoint: '/oauth/tokens', status: 400, durationMs: 40 });
    const { registry } = metrics;
    assert.equal(await value(registry, 'zendesk_api_requests_total', { bucket: 'users-cursor', status: '200' }), 2);
    assert.equal(await value(registry, 'zendesk_api_requests_total', { bucket: 'incremental', status: '429' }), 1);
    assert.equal(await value(registry, 'zendesk_api_requests_total', { bucket: 'account', status: 'timeout' }), 1);
    assert.equal(await value(registry, 'zendesk_rate_limited_total', { bucket: 'incremental' }), 1);
    assert.equal(await value(registry, 'zendesk_token_refreshes_total', { outcome: 'success' }), 1);
    assert.equal(await value(registry, 'zendesk_token_refreshes_total', { outcome: 'failure' }), 1);
    parsePrometheusText(await registry.metrics());

    // The connect flow's code exchange is not a refresh.
    const exchange = zendeskObserver(metrics, { tokenGrant: 'authorization_code' });
    exchange.onRequest({ bucket: 'oauth', method: 'POST', endpoint: '/oauth/tokens', status: 200, durationMs: 40 });
    assert.equal(await value(registry, 'zendesk_token_refreshes_total', { outcome: 'success' }), 1);
    assert.equal(await value(registry, 'zendesk_api_requests_total', { bucket: 'oauth', status: '200' }), 2);

    // Never throws, even on nonsense.
    assert.doesNotThrow(() => observer.onRequest(null as any));
  });
});

describe('worker metrics server', () => {
  test('serves /metrics, /healthz and /readyz on its own port', async () => {
    const metrics = createMetrics({ defaultLabels: { process: 'worker' } });
    recordSyncStarted(metrics);
    let ready = false;
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1', ready: () => ready });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const res = await fetch(`${base}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const parsed = parsePrometheusText(await res.text());
      assert.deepEqual(
        parsed.samples.find((s) => s.name === 'zendesk_syncs_started_total'),
        { name: 'zendesk_syncs_started_total', labels: { process: 'worker' }, value: 1 },
      );
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      ready = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal((await fetch(`${base}/other`)).status, 404);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    } finally {
      await server.close();
    }
  });
});
