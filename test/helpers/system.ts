import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { closeApp, createApp } from '../../src/api/app';
import { startInternalServer } from '../../src/api/internalServer';
import { loadConfig, type ApiConfig, type WorkerConfig } from '../../src/config';
import { SecretBox } from '../../src/crypto/secretBox';
import { createDb } from '../../src/db/database';
import { createLogger, type Logger } from '../../src/logger';
import { installSdkLogger } from '../../src/observability/sdkLogger';
import { createMetrics, type Metrics } from '../../src/observability/metrics';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { createTemporalClient } from '../../src/temporal/client';
import { connectNativeTemporal } from '../../src/temporal/nativeConnection';
import { createWorkers } from '../../src/temporal/worker';
import { startWebhookRelay } from '../../src/webhooks/relay';
import { testDb } from './db';
import { testWorkflowBundle } from './workflowBundle';

/**
 * The whole product in one test process, against the run's real PostgreSQL and Temporal dev server and a
 * fresh Zendesk sandbox: API on a real port, a worker on a task queue of its own, logs captured.
 * Call `stop()` in a top-level `after` hook.
 */
export interface System {
  apiUrl: string;
  /** The API's internal server (/metrics, /healthz, /readyz), as INTERNAL_PORT serves it in production. */
  internalUrl: string;
  sandbox: Sandbox;
  config: ApiConfig & WorkerConfig;
  temporal: Client;
  db: ReturnType<typeof testDb>;
  box: SecretBox;
  logs: string[];
  adminKey: string;
  worker: Worker | undefined;
  metrics: Metrics;
  /** The environment a separate worker process of this system needs. */
  env: Record<string, string>;
  /**
   * A rolling deploy of the API with `env` over the system's (e.g. another ENCRYPTION_KEYS): a new app on the
   * same port takes every new request. Returns the new app's box. `system.box` and `config` stay the first.
   */
  redeployApi(env: Record<string, string>): SecretBox;
  stop(): Promise<void>;
}

export const CLIENT_ID = 'zdg-test-client';
export const CLIENT_SECRET = 'test-client-secret-0123456789';

export interface SystemOptions {
  env?: Record<string, string>;
  sandbox?: SandboxOptions;
  /** false: run no worker in this process (tests start worker processes with startWorkerProcess). */
  inProcessWorker?: boolean;
  /** Another (already migrated) database than the run's, e.g. an embedded PostgreSQL. */
  databaseUrl?: string;
  /** Route the Temporal SDK's own logs (worker, workflows, activities) into `logs` too. Once per process. */
  sdkLogs?: boolean;
}

export async function startSystem(opts: SystemOptions = {}): Promise<System> {
  // Bind the API's port first and keep it: a port probed and released could be handed to the sandbox next.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as import('node:net').AddressInfo).port;
  const redirectUri = `http://127.0.0.1:${port}/v1/oauth/zendesk/callback`;
  const sandbox = await startSandbox({
    exclusionSeconds: 0,
    // Zendesk's limits per one-second window instead of per minute, so limited syncs finish quickly.
    rateLimitWindowMs: 1_000,
    ...opts.sandbox,
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [redirectUri] }],
  });
  const adminKey = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    DATABASE_URL: opts.databaseUrl ?? process.env.DATABASE_URL!,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: `test-${randomBytes(6).toString('hex')}`,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ADMIN_API_KEY: adminKey,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ZENDESK_CLIENT_ID: CLIENT_ID,
    ZENDESK_CLIENT_SECRET: CLIENT_SECRET,
    ZENDESK_BASE_URL: sandbox.baseUrlTemplate,
    LOG_LEVEL: 'debug',
    // Worker processes (src/worker.ts) make no housekeeping schedule unless a test asks for one.
    HOUSEKEEPING_INTERVAL: 'off',
    // API processes a test starts pick a free internal port (tests share the machine).
    INTERNAL_PORT: '0',
    // Tests fire requests far faster than a tenant may: budgets too large to be met, but counted
    // (test/e2e/rate-limits.test.ts sets small ones).
    API_RATE_LIMIT_REQUESTS: '1000000/1s',
    API_RATE_LIMIT_REPORTS: '1000000/1s',
    API_RATE_LIMIT_CSV: '1000000/1s',
    API_RATE_LIMIT_INTEGRATIONS: '1000000/1s',
    API_CSV_CONCURRENCY: '16',
    API_REPORT_CONCURRENCY: '16',
    API_RATE_LIMIT_TARPIT: '0s',
    ...opts.env,
  };
  // The in-process worker and the API share it.
  const config = loadConfig(env, ['api', 'worker']);
  const logs: string[] = [];
  const logger: Logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  );
  if (opts.sdkLogs) installSdkLogger(logger);
  const ownDb = opts.databaseUrl ? createDb(opts.databaseUrl, 5, { allowExitOnIdle: true }) : undefined;
  const db = ownDb ?? testDb();
  const box = new SecretBox(config.encryptionKeys);
  const temporal = await createTemporalClient(config);
  const bundle = await testWorkflowBundle();
  const metrics = createMetrics();
  // Our own native connection, closed on stop: the SDK runtime stays up (and, forwarding logs, keeps the process alive) while one is open.
  const nativeConnection = opts.inProcessWorker === false ? undefined : await connectNativeTemporal(config);
  const workers = nativeConnection
    ? await createWorkers({ deps: { db, box, config, logger, temporal, metrics }, connection: nativeConnection, workflowBundle: bundle })
    : undefined;
  const worker = workers?.worker;
  const webhookWorker = workers?.webhookWorker;
  const running = Promise.all([worker?.run(), webhookWorker?.run()]);
  // The webhook outbox's relay runs beside the workers, as in src/worker.ts.
  const relay = worker
    ? startWebhookRelay({
        db,
        box,
        metrics,
        temporal,
        taskQueue: config.temporal.taskQueue,
        settings: config.webhooks,
        logger,
        databaseUrl: config.databaseUrl,
      })
    : undefined;
  let app = createApp({ db, box, config, temporal, logger, metrics });
  server.on('request', (req, res) => app(req, res));
  const apps = [app];
  const redeployApi = (overrides: Record<string, string>) => {
    const next = loadConfig({ ...env, ...overrides }, 'api');
    const nextBox = new SecretBox(next.encryptionKeys);
    app = createApp({ db, box: nextBox, config: next, temporal, logger, metrics: createMetrics() });
    apps.push(app);
    return nextBox;
  };
  const internal = await startInternalServer({ deps: { db, temporal }, metrics, port: 0, host: '127.0.0.1' });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Every app's caches, the first one's too: each holds a LISTEN connection of its own.
    for (const a of apps) await closeApp(a);
    await internal.close();
    await relay?.stop();
    worker?.shutdown();
    webhookWorker?.shutdown();
    await running;
    await nativeConnection?.close();
    await temporal.connection.close();
    await sandbox.close();
    await ownDb?.destroy();
  };
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    internalUrl: `http://127.0.0.1:${internal.port}`,
    sandbox,
    config,
    temporal,
    db,
    box,
    logs,
    adminKey,
    worker,
    metrics,
    env,
    redeployApi,
    stop,
  };
}

/** JSON over HTTP with a bearer key. */
export async function api(system: System, method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${system.apiUrl}${path}`, {
    method,
    headers: {
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function createTenant(system: System, name = 'Acme SaaS customer'): Promise<{ id: string; apiKey: string }> {
  const res = await api(system, 'POST', '/v1/tenants', { key: system.adminKey, body: { name } });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${res.text}`);
  return res.json;
}

/**
 * Plays the admin's browser: opens the consent URL at the sandbox (which answers per its consent mode)
 * and follows the redirect to our callback. Returns the callback's status and page.
 */
export async function followConsent(authorizeUrl: string, action?: 'allow' | 'deny'): Promise<{ status: number; html: string; callbackUrl: string }> {
  let res = await fetch(authorizeUrl, { redirect: 'manual' });
  if (action) {
    // Manual consent mode: submit the consent page's form.
    const html = await res.text();
    const form = /<form[^>]*action="([^"]+)"/i.exec(html);
    if (!form) throw new Error(`no consent form in the page: ${html.slice(0, 200)}`);
    const fields = [...html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)].map(
      ([, n, v]) => [n!, v!.replace(/&amp;/g, '&').replace(/&quot;/g, '"')] as [string, string],
    );
    const body = new URLSearchParams([...fields, ['decision', action] as [string, string]]);
    res = await fetch(new URL(form[1]!.replace(/&amp;/g, '&'), authorizeUrl), { method: 'POST', body, redirect: 'manual' });
  }
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`expected a redirect from the consent page, got ${res.status}`);
  const callback = await fetch(location, { redirect: 'manual' });
  return { status: callback.status, html: await callback.text(), callbackUrl: location };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The newest sync run of an integration once it has finished (not running), other than the runs in `notIds`. */
export async function waitForSync(system: System, integrationId: string, opts: { notIds?: string[]; timeoutMs?: number } = {}) {
  return waitFor(
    `a finished sync of ${integrationId}`,
    async () => {
      const run = await system.db
        .selectFrom('sync_runs')
        .selectAll()
        .where('integration_id', '=', integrationId)
        .where('status', '<>', 'running')
        .where('id', 'not in', opts.notIds?.length ? opts.notIds : ['00000000-0000-0000-0000-000000000000'])
        .orderBy('started_at', 'desc')
        .executeTakeFirst();
      return run;
    },
    opts.timeoutMs ?? 120_000,
  );
}

/** Creates the integration, clicks Allow (auto-approve workspace) and waits for the first sync to finish. */
export async function connectAndSync(system: System, tenantKey: string, subdomain: string, opts: { access?: 'read' | 'reclaim' } = {}) {
  const created = await api(system, 'POST', '/v1/integrations/zendesk', { key: tenantKey, body: { workspace: subdomain, ...opts } });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
  const consent = await followConsent(created.json.authorizeUrl);
  if (consent.status !== 200) throw new Error(`consent failed: ${consent.status} ${consent.html}`);
  const run = await waitForSync(system, created.json.id);
  if (run.status !== 'succeeded') throw new Error(`first sync ${run.status}: ${run.error}`);
  return { integrationId: created.json.id as string, run };
}
