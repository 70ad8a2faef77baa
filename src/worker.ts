import { getHeapStatistics } from 'node:v8';
import { loadConfigOrExit } from './config';
import { SecretBox } from './crypto/secretBox';
import { createDb } from './db/database';
import { createLogger } from './logger';
import { createMetrics } from './observability/metrics';
import { startMetricsServer } from './observability/metricsServer';
import { installSdkLogger } from './observability/sdkLogger';
import { createTemporalClient } from './temporal/client';
import { describeTemporalConnection } from './temporal/connectionSettings';
import { keepHousekeepingSchedule } from './temporal/housekeepingSchedule';
import { connectNativeTemporal } from './temporal/nativeConnection';
import { createWorkers } from './temporal/worker';
import { startWebhookRelay } from './webhooks/relay';

/** Above this V8 heap limit the worker runs without a heap cap (V8's default is a quarter of the machine's memory, up to 4 GiB). */
const UNCAPPED_HEAP_LIMIT_MB = 1024;

/** `npm run start:worker`: runs workflows and activities until SIGTERM/SIGINT, then drains. */
async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const logger = createLogger(config.logLevel).child({ process: 'worker' });
  // The V8 heap cap comes from the command line (`npm run start:worker`: --max-old-space-size=$WORKER_HEAP_MB).
  const heapLimitMb = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  if (heapLimitMb > UNCAPPED_HEAP_LIMIT_MB) {
    logger.warn(
      { heapLimitMb },
      'no V8 heap cap: the worker may grow to several times its live memory before collecting; start it with --max-old-space-size (npm run start:worker does)',
    );
  }
  // The SDK's logs (worker, workflows, activities, its core) as pino JSON, before anything connects.
  installSdkLogger(logger, { temporalMetricsPort: config.temporalMetricsPort });
  const db = createDb(config.databaseUrl, 20, {}, (err) => logger.warn({ err }, 'PostgreSQL connection error (the pool reconnects)'));
  const temporal = await createTemporalClient(config);
  const metrics = createMetrics({ defaultLabels: { process: 'worker' } });
  // Closed after the worker stops: the SDK runtime (and its log forwarding) winds down only once no connection is left.
  const connection = await connectNativeTemporal(config);
  const deps = { db, box: new SecretBox(config.encryptionKeys), config, logger, temporal, metrics };
  const { worker, webhookWorker } = await createWorkers({ deps, connection });
  // GET /metrics, /healthz, and /readyz (200 while the worker polls its task queue).
  const metricsServer = await startMetricsServer({
    registry: metrics.registry,
    port: config.metricsPort,
    ready: () => worker.getState() === 'RUNNING' && webhookWorker.getState() === 'RUNNING',
  });
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      temporal: config.temporal.address,
      temporalConnection: describeTemporalConnection(config.temporal.connection ?? {}),
      metricsPort: metricsServer.port,
      temporalMetricsPort: config.temporalMetricsPort,
      heapLimitMb,
      ...config.workerTuning,
    },
    'worker started',
  );
  // The deployment's housekeeping schedule (made here, by every worker, idempotently: src/temporal/housekeepingSchedule.ts).
  const { housekeeping } = config;
  const housekeepingSchedule = keepHousekeepingSchedule(
    temporal,
    housekeeping.intervalMs ? { taskQueue: config.temporal.taskQueue, intervalMs: housekeeping.intervalMs } : undefined,
    logger,
  );
  // The webhook outbox's relay (src/webhooks/relay.ts): makes each recorded delivery's first attempt and starts its workflow.
  const relay = startWebhookRelay({
    db,
    box: deps.box,
    metrics,
    temporal,
    taskQueue: config.temporal.taskQueue,
    settings: config.webhooks,
    logger,
    databaseUrl: config.databaseUrl,
  });
  // Both resolve after shutdown (the SDK handles SIGTERM/SIGINT by draining every worker of the process).
  await Promise.all([worker.run(), webhookWorker.run()]);
  await relay.stop();
  housekeepingSchedule.stop();
  await metricsServer.close();
  await connection.close();
  await temporal.connection.close();
  await db.destroy();
  logger.info('worker stopped');
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
