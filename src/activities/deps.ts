import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { WorkerConfig } from '../config';
import type { SecretBox } from '../crypto/secretBox';
import type { Database } from '../db/tables';
import type { Logger } from '../logger';
import type { Metrics } from '../observability/metrics';
import type { ProcessRateLimits } from '../zendesk/rateLimit/rateLimiter';

/** Everything activities need, handed to the factory once per worker (samples-typescript style). */
export interface ActivityDeps {
  db: Kysely<Database>;
  box: SecretBox;
  config: WorkerConfig;
  logger: Logger;
  /** For managing the sync schedule from activities. */
  temporal: Client;
  metrics: Metrics;
  /** Zendesk rate-limit state of this worker process, shared by every activity's client (one per process). */
  rateLimits: ProcessRateLimits;
}
