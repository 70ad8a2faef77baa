/**
 * `npm run dev`: the whole system on one machine with embedded defaults — a Temporal dev server with its
 * Web UI (history kept under .data/), the Zendesk sandbox with a demo workspace when no real Zendesk
 * client is configured, migrations, a worker and the API, in one process. Ctrl-C stops everything.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { createApp } from './api/app';
import { startInternalServer } from './api/internalServer';
import { loadConfig } from './config';
import { apiKeyHint, generateApiKey, hashApiKey } from './crypto/apiKeys';
import { insertTenant, updateTenantSettings } from './db/repositories/tenants';
import { generateConnectToken, hashConnectToken } from './crypto/connectTokens';
import { insertConnectSession } from './db/repositories/connectSessions';
import { CONNECT_SESSION_TTL_MS } from './api/routes/connectSessions';
import { looksLike32RandomBytes } from './crypto/keyStrength';
import { SecretBox } from './crypto/secretBox';
import { createDb, DEFAULT_DATABASE_URL } from './db/database';
import { startEmbeddedPostgres } from './db/embedded';
import { migrateToLatest } from './db/migrator';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './observability/metrics';
import { installSdkLogger } from './observability/sdkLogger';
import { startSandbox } from './sandbox';
import { createTemporalClient } from './temporal/client';
import { startDevServer } from './temporal/devServer';
import { keepHousekeepingSchedule } from './temporal/housekeepingSchedule';
import { createWorkers } from './temporal/worker';
import { startWebhookRelay } from './webhooks/relay';

const DATA_DIR = path.resolve(process.env.DEV_DATA_DIR ?? '.data');
const SANDBOX_PORT = Number(process.env.SANDBOX_PORT ?? 4010);

/**
 * Dev secrets are generated once and kept under .data/ so restarts keep tokens decryptable. An admin key
 * saved by an older version (shorter than the 32 random bytes now required) is replaced; the encryption key
 * is kept, or the stored tokens would be lost.
 */
function devSecrets(): { encryptionKey: string; adminApiKey: string } {
  const file = path.join(DATA_DIR, 'dev-secrets.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { encryptionKey: string; adminApiKey: string }) : undefined;
  if (saved && looksLike32RandomBytes(saved.adminApiKey)) return saved;
  const secrets = { encryptionKey: saved?.encryptionKey ?? randomBytes(32).toString('base64'), adminApiKey: randomBytes(32).toString('base64url') };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

/** The local server's maintenance database: answering here means "a local PostgreSQL we can use". */
const LOCAL_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** null: nothing listens on 127.0.0.1:5432; otherwise why it could not be used (or '' when it can). */
async function probeLocalPostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: LOCAL_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return '';
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'EADDRNOTAVAIL' || code === 'EHOSTUNREACH') return null;
    return (err as Error).message || String(code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * PostgreSQL for the dev system: DATABASE_URL when set; else the local server when one answers on
 * 127.0.0.1:5432; else an embedded PostgreSQL (PGlite) kept under .data/pglite.
 */
async function chooseDatabase(logger: Logger, stops: Array<() => Promise<unknown>>): Promise<{ url: string; description: string }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, description: 'DATABASE_URL' };
  // DEV_DATABASE=embedded skips the local server (e.g. to keep a dev system off it).
  const forced = process.env.DEV_DATABASE === 'embedded';
  const local = forced ? null : await probeLocalPostgres();
  if (local === '') {
    await ensureDatabase(DEFAULT_DATABASE_URL);
    logger.info({ database: 'local' }, 'using the local PostgreSQL on 127.0.0.1:5432 (database zendesk_integration)');
    return { url: DEFAULT_DATABASE_URL, description: 'local server 127.0.0.1:5432, database zendesk_integration' };
  }
  const dataDir = path.join(DATA_DIR, 'pglite');
  const embedded = await startEmbeddedPostgres({ dataDir });
  stops.push(() => embedded.stop());
  logger.info(
    { database: 'embedded', dataDir, url: embedded.url, ...(local ? { localServer: local } : {}) },
    local
      ? `PostgreSQL on 127.0.0.1:5432 answered but could not be used (${local}); using an embedded PostgreSQL (PGlite) kept in ${dataDir} — set DATABASE_URL to use a server`
      : forced
        ? `DEV_DATABASE=embedded: using an embedded PostgreSQL (PGlite) kept in ${dataDir}`
        : `no DATABASE_URL and no PostgreSQL on 127.0.0.1:5432: using an embedded PostgreSQL (PGlite) kept in ${dataDir}`,
  );
  const shown = path.relative(process.cwd(), dataDir);
  return { url: embedded.url, description: `embedded PGlite in ${shown && !shown.startsWith('..') ? shown : dataDir}` };
}

/** What to stop, in start order; stopped in reverse (also when the start fails half-way). */
const stops: Array<() => Promise<unknown>> = [];
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const secrets = devSecrets();
  const port = Number(process.env.PORT ?? 3000);
  const useSandbox = !process.env.ZENDESK_CLIENT_ID;
  const clientId = process.env.ZENDESK_CLIENT_ID ?? 'sandbox-client';
  const clientSecret = process.env.ZENDESK_CLIENT_SECRET ?? 'sandbox-secret';
  const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
  // The Temporal SDK's logs as JSON through pino, installed before the worker's first connection.
  installSdkLogger(logger.child({ process: 'worker' }));

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let uiUrl: string | undefined;
  if (!temporalAddress) {
    const server = await startDevServer({ port: 7233, uiPort: 8233, dbFilename: path.join(DATA_DIR, 'temporal.db'), log: (l) => logger.info(l) });
    stops.push(() => server.stop());
    temporalAddress = server.address;
    uiUrl = server.uiUrl;
  }

  let baseUrlTemplate = process.env.ZENDESK_BASE_URL;
  let sandboxUrl: string | undefined;
  if (useSandbox) {
    // Its workspaces and the tokens it issued are kept under .data/, so a restart keeps the demo integration connected.
    const statePath = path.join(DATA_DIR, 'zendesk-sandbox.json');
    const sandbox = await startSandbox({
      port: SANDBOX_PORT,
      clients: [{ clientId, clientSecret, redirectUris: [`${publicUrl}/v1/oauth/zendesk/callback`] }],
      statePath,
      logger: logger.child({ process: 'sandbox' }),
    });
    if (!sandbox.hasWorkspace('demo')) sandbox.createWorkspace({ subdomain: 'demo', users: 250, ticketEvents: 5_000, seed: 2026, consentMode: 'manual' });
    stops.push(() => sandbox.close());
    baseUrlTemplate = sandbox.baseUrlTemplate;
    sandboxUrl = sandbox.url;
  }

  const database = await chooseDatabase(logger, stops);
  const databaseUrl = database.url;
  const config = loadConfig(
    {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      ADMIN_API_KEY: process.env.ADMIN_API_KEY ?? secrets.adminApiKey,
      // With ENCRYPTION_KEYS (trying a rotation under `npm run dev`) the saved key is not added: list it there.
      ENCRYPTION_KEY: process.env.ENCRYPTION_KEY ?? (process.env.ENCRYPTION_KEYS ? undefined : secrets.encryptionKey),
      ZENDESK_CLIENT_ID: clientId,
      ZENDESK_CLIENT_SECRET: clientSecret,
      ZENDESK_BASE_URL: baseUrlTemplate,
      SYNC_INTERVAL: process.env.SYNC_INTERVAL ?? '15m',
    },
    // One process serves the API and runs the worker.
    ['api', 'worker'],
  );

  const db = createDb(config.databaseUrl, 10, {}, (err) => logger.warn({ err }, 'PostgreSQL connection error (the pool reconnects)'));
  stops.push(() => db.destroy());
  await migrateToLatest(db);

  const box = new SecretBox(config.encryptionKeys);
  const temporal = await createTemporalClient(config);
  stops.push(() => temporal.connection.close());
  const metrics = createMetrics();
  const { worker, webhookWorker } = await createWorkers({ deps: { db, box, config, logger: logger.child({ process: 'worker' }), temporal, metrics } });
  const workerDone = Promise.all([worker.run(), webhookWorker.run()]).catch((err) => logger.error({ err }, 'the worker stopped with an error'));
  // The deployment's housekeeping schedule, as a production worker makes it at start (src/temporal/housekeepingSchedule.ts).
  const housekeeping = keepHousekeepingSchedule(
    temporal,
    config.housekeeping.intervalMs ? { taskQueue: config.temporal.taskQueue, intervalMs: config.housekeeping.intervalMs } : undefined,
    logger.child({ process: 'worker' }),
  );
  stops.push(async () => housekeeping.stop());
  const relay = startWebhookRelay({
    db,
    box,
    metrics,
    temporal,
    taskQueue: config.temporal.taskQueue,
    settings: config.webhooks,
    logger: logger.child({ process: 'worker' }),
    databaseUrl: config.databaseUrl,
  });
  stops.push(() => relay.stop());
  stops.push(async () => {
    // Already shutting down when the SDK's own signal handler got Ctrl-C first.
    for (const w of [worker, webhookWorker]) if (w.getState() === 'RUNNING') w.shutdown();
    await workerDone;
  });

  const server = createServer(createApp({ db, box, config, temporal, logger: logger.child({ process: 'api' }), metrics }));
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  stops.push(() => new Promise((resolve) => server.close(resolve)));
  // The API's /metrics and /readyz, on loopback only here (a production API binds its internal port for the scraper).
  const internal = await startInternalServer({ deps: { db, temporal }, metrics, port: config.internalPort, host: '127.0.0.1' });
  stops.push(() => internal.close());

  // A ready tenant so the demo needs no admin call.
  const tenantKey = generateApiKey();
  const { tenant } = await insertTenant(db, `dev tenant ${new Date().toISOString()}`, {
    keyHash: hashApiKey(tenantKey),
    hint: apiKeyHint(tenantKey),
    createdBy: 'admin',
  });
  // …and a Connect page link for the demo workspace, so a person can click through the whole flow.
  await updateTenantSettings(db, tenant.id, { displayName: 'Demo SaaS platform' });
  const connectToken = generateConnectToken();
  await insertConnectSession(db, {
    tenantId: tenant.id,
    tokenHash: hashConnectToken(connectToken),
    workspace: sandboxUrl ? 'demo' : null,
    access: 'read',
    returnUrl: null,
    allowedOrigin: null,
    expiresAt: new Date(Date.now() + CONNECT_SESSION_TTL_MS),
  });

  const lines = [
    '',
    'Zendesk integration worker — development system is up',
    `  API               ${config.publicUrl}   (OpenAPI: ${config.publicUrl}/openapi.json)`,
    `  Internal          http://127.0.0.1:${internal.port}   (/metrics, /readyz)`,
    `  Temporal Web UI   ${uiUrl ?? `(external Temporal at ${temporalAddress})`}`,
    `  Zendesk sandbox   ${sandboxUrl ? `${sandboxUrl}/demo  (demo workspace "demo")` : `(real Zendesk: ${config.zendesk.baseUrlTemplate})`}`,
    `  PostgreSQL        ${database.description}`,
    `  Admin API key     ${config.adminApiKey}`,
    `  Tenant API key    ${tenantKey}`,
    '',
    'Connect the demo workspace in a browser (the hosted Connect page; the link works for 30 minutes):',
    `  ${config.publicUrl}/connect/${connectToken}   then Submit, and Allow on the consent page`,
    `  a new link: curl -s -X POST ${config.publicUrl}/v1/connect-sessions -H 'authorization: Bearer ${tenantKey}' -H 'content-type: application/json' -d '{"workspace":"demo"}'`,
    'Or over the API:',
    `  curl -s -X POST ${config.publicUrl}/v1/integrations/zendesk -H 'authorization: Bearer ${tenantKey}' -H 'content-type: application/json' -d '{"workspace":"demo"}'`,
    '  then open the returned authorizeUrl in a browser and click Allow.',
    `  curl -s ${config.publicUrl}/v1/integrations -H 'authorization: Bearer ${tenantKey}'`,
    'Once it has synced, its utilization view (a link for a browser or an <iframe>, 60 minutes):',
    `  curl -s -X POST ${config.publicUrl}/v1/integrations/<id>/view-sessions -H 'authorization: Bearer ${tenantKey}' -H 'content-type: application/json' -d '{}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping...\n');
    await stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch(async (err) => {
  process.stderr.write(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll(); // no Temporal server or embedded database left behind
  process.exit(1);
});
