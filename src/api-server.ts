import { createServer } from 'node:http';
import { createApp } from './api/app';
import { createApiCache } from './api/cache/apiCache';
import { startInternalServer } from './api/internalServer';
import { loadConfigOrExit } from './config';
import { SecretBox } from './crypto/secretBox';
import { apiPoolSettings } from './db/apiPool';
import { createDb } from './db/database';
import { createLogger } from './logger';
import { createMetrics } from './observability/metrics';
import { createTemporalClient } from './temporal/client';

/** `npm run start:api`: the HTTP API. SIGTERM stops accepting requests and lets those in flight finish. */
async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  const logger = createLogger(config.logLevel).child({ process: 'api' });
  const db = createDb(config.databaseUrl, 20, apiPoolSettings(config), (err) => logger.warn({ err }, 'PostgreSQL connection error (the pool reconnects)'));
  const temporal = await createTemporalClient(config);
  const metrics = createMetrics({ defaultLabels: { process: 'api' } });
  // The report cache and its LISTEN connection (off with REPORT_CACHE_TTL_SECONDS=0).
  const cache = createApiCache({ config, db, logger, metrics });
  const app = createApp({ db, box: new SecretBox(config.encryptionKeys), config, temporal, logger, metrics, cache });
  // /metrics, /healthz and /readyz on the internal port; the public port serves the API (and /healthz).
  const internal = await startInternalServer({ deps: { db, temporal }, metrics, port: config.internalPort });
  const server = createServer(app);
  server.listen(config.port, () => logger.info({ port: config.port, internalPort: internal.port, publicUrl: config.publicUrl }, 'API listening'));
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down: no new requests, finishing those in flight');
    const release = async () => {
      await internal.close();
      await cache.close();
      await temporal.connection.close();
      await db.destroy();
      process.exit(0);
    };
    // Once the last request has been answered; the 25 s timer below ends a release that hangs.
    server.close(() => void release());
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 25_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`api failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
