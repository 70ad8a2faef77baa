import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { ActivityDeps } from '../../src/activities/deps';
import { loadConfig } from '../../src/config';
import type { SecretBox } from '../../src/crypto/secretBox';
import type { Database } from '../../src/db/tables';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/observability/metrics';
import { createProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { TEST_ENCRYPTION_KEY } from './db';

/**
 * What the worker hands createActivities, for activities run in a MockActivityEnvironment against the run's
 * PostgreSQL and a sandbox: a worker's configuration (Zendesk at `baseUrlTemplate`), a silent logger, fresh
 * metrics. No Temporal client: the activities under test never manage schedules.
 */
export function activityDeps(opts: { db: Kysely<Database>; box: SecretBox; baseUrlTemplate: string; clientId: string; clientSecret: string }): ActivityDeps {
  const config = loadConfig(
    {
      DATABASE_URL: process.env.DATABASE_URL!,
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY.toString('base64'),
      ZENDESK_CLIENT_ID: opts.clientId,
      ZENDESK_CLIENT_SECRET: opts.clientSecret,
      ZENDESK_BASE_URL: opts.baseUrlTemplate,
    },
    'worker',
  );
  const logger = createLogger('error', new Writable({ write: (_c, _e, cb) => cb() }));
  return {
    db: opts.db,
    box: opts.box,
    config,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    rateLimits: createProcessRateLimits(opts.db),
    temporal: undefined as never,
  };
}
