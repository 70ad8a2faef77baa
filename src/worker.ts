import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { loadConfigOrExit } from './config';
import { SecretBox } from './crypto/secretBox';
import { createDb } from './db/database';
import { createLogger } from './logger';
import { createMetrics, startMetricsServer } from './observability/metrics';
import { createTemporalClient } from './temporal/client';
import { createWorker } from './temporal/worker';

/** `npm run start:worker`: runs workflows and activities until SIGTERM/SIGINT, then drains. */
async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const logger = createLogger(config.logLevel).child({ process: 'worker' });
  Runtime.install({
    logger: {
      log: (level, message, meta) => logger[level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'info')]({ ...meta, sdk: true }, message),
      trace: (m, meta) => logger.trace({ ...meta, sdk: true }, m),
      debug: (m, meta) => logger.debug({ ...meta, sdk: true }, m),
      info: (m, meta) => logger.info({ ...meta, sdk: true }, m),
      warn: (m, meta) => logger.warn({ ...meta, sdk: true }, m),
      error: (m, meta) => logger.error({ ...meta, sdk: true }, m),
    },
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      // The SDK core's own worker metrics (task slots, poll latencies, sticky cache...), only when asked for.
      ...(config.temporalMetricsPort !== undefined
        ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.temporalMetricsPort}` } } }
        : {}),
    },
  });
  const db = createDb(config.databaseUrl!, 20);
  const temporal = await createTemporalClient(config);
  const metrics = createMetrics({ defaultLabels: { process: 'worker' } });
  const worker = await createWorker({ deps: { db, box: new SecretBox(config.encryptionKey!), config, logger, temporal, metrics } });
  // GET /metrics, /healthz, and /readyz (200 while the worker polls its task queue).
  const metricsServer = await startMetricsServer({ registry: metrics.registry, port: config.metricsPort, ready: () => worker.getState() === 'RUNNING' });
  logger.info(
    { taskQueue: config.temporal.taskQueue, temporal: config.temporal.address, metricsPort: metricsServer.port, temporalMetricsPort: config.temporalMetricsPort },
    'worker started',
  );
  await worker.run(); // resolves after shutdown (the SDK handles SIGTERM/SIGINT by draining)
  await metricsServer.close();
  await temporal.connection.close();
  await db.destroy();
  logger.info('worker stopped');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
