import { z } from 'zod';
import { decodeKey, parseEncryptionKeys, keyId, type EncryptionKey } from './crypto/keyring';
import { looksLike32RandomBytes } from './crypto/keyStrength';
import { httpsUnlessLoopback } from './net/loopback';
import { resolveTemporalConnection, temporalConnectionEnvShape, type TemporalConnectionSettings } from './temporal/connectionSettings';
import { parseBudget, type Budget } from './api/limits/budget';

/**
 * The one configuration module. Every variable of the contract is validated here, once, at start;
 * a bad or missing value stops the process with a single message naming each problem.
 */

const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DAY_MS = 86_400_000;

/** ACTIVITY_RETENTION_DAYS by default (also the cap of `inactiveDays` the OpenAPI schemas show by default). */
export const DEFAULT_ACTIVITY_RETENTION_DAYS = 400;

/** Parses durations like `30s`, `6h`, `7d`, `1500ms` into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const [, count, unit] = match as unknown as [string, string, keyof typeof DURATION_UNITS];
  return Number(count) * DURATION_UNITS[unit];
}

const duration = (min: number, max: number, label: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as 30s, 15m, 6h or 7d (got "${text}")` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${label}` });
      return z.NEVER;
    }
    return ms;
  });

const intString = (min: number, max: number) => z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

/** A whole number strictly between `above` and `below` (Zendesk states its token-lifetime bounds exclusively). */
const intBetween = (above: number, below: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .pipe(z.number().int().gt(above, `must be more than ${above}`).lt(below, `must be less than ${below}`));

/**
 * Token lifetimes the worker asks Zendesk for, on the code exchange and on every refresh (POST /oauth/tokens
 * `expires_in` / `refresh_token_expires_in`). Zendesk's bounds: an access token lives more than 300 s and less
 * than 172,800 s (2 days), a refresh token more than 604,800 s (7 days) and less than 7,776,000 s (90 days), and
 * longer than the access token. Sending `expires_in` is also what makes Zendesk's response carry it at all
 * (docs/zendesk.md, "OAuth tokens and revocation").
 */
export const DEFAULT_ACCESS_TOKEN_EXPIRES_IN = 1800;
export const DEFAULT_REFRESH_TOKEN_EXPIRES_IN = 2_592_000;

const encryptionKey = z.string().transform((text, ctx) => {
  const bytes = decodeKey(text);
  if (!bytes) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 random bytes encoded as base64 (e.g. `openssl rand -base64 32`)' });
    return z.NEVER;
  }
  return bytes;
});

/** `label:base64,label:base64,…`, the first one current (src/crypto/keyring.ts). */
const encryptionKeyList = z.string().transform((text, ctx) => {
  const parsed = parseEncryptionKeys(text);
  if (!parsed.ok) {
    for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return parsed.keys;
});

/** Guards every tenant's keys and lifecycle: refuse what is certainly weaker than 32 random bytes. */
const adminApiKey = z
  .string()
  .refine(
    looksLike32RandomBytes,
    'must be at least 32 random bytes, e.g. `openssl rand -base64 32` (43 or more characters, 64 or more hex digits; this one is too short or too regular)',
  );

/** A URL that must be https unless its host is loopback (src/net/loopback.ts says why). */
const httpsUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL such as https://integrations.example.com' });
    return z.NEVER;
  }
  const problem = httpsUnlessLoopback(url);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return text;
});

const baseUrlTemplate = z
  .string()
  .refine((t) => t.includes('{subdomain}'), 'must contain {subdomain}')
  .superRefine((t, ctx) => {
    let url: URL;
    try {
      url = new URL(t.replace('{subdomain}', 'example'));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL template such as https://{subdomain}.zendesk.com' });
      return;
    }
    // The tokens travel to this host: https, except a sandbox on this machine.
    const problem = httpsUnlessLoopback(url, t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A per-tenant API budget (src/api/limits): `<quota>/<window>` such as `600/10s`, or `off`. */
const budget = (example: string) =>
  // `off` is null here (zod would take an undefined output for a missing value and apply the default).
  z.string().transform((text, ctx): Budget | null => {
    if (text.trim() === 'off') return null;
    const parsed = parseBudget(text);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: `must be a quota per window such as ${example} (window 1s to 24h), or off (got "${text}")` });
      return z.NEVER;
    }
    return parsed;
  });

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('zendesk-integration'),
  // TLS / mTLS / API key (Temporal Cloud): src/temporal/connectionSettings.ts.
  ...temporalConnectionEnvShape,
  PORT: intString(0, 65535).default(3000),
  /** https, except a loopback host (the OAuth redirect URI, and the code it carries, is built from it). */
  PUBLIC_URL: httpsUrl.optional(),
  ADMIN_API_KEY: adminApiKey.optional(),
  /** One key: the same as ENCRYPTION_KEYS with that key alone. */
  ENCRYPTION_KEY: encryptionKey.optional(),
  /** The key ring: `label:base64,…`, the first current (encrypts), every one decrypts (README, "Secrets at rest"). */
  ENCRYPTION_KEYS: encryptionKeyList.optional(),
  ZENDESK_CLIENT_ID: z.string().min(1).optional(),
  ZENDESK_CLIENT_SECRET: z.string().min(1).optional(),
  ZENDESK_BASE_URL: baseUrlTemplate.default('https://{subdomain}.zendesk.com'),
  SYNC_INTERVAL: duration(30_000, 7 * 86_400_000, '30s and 7d').default(6 * 3_600_000),
  /** The scopes an integration connected with `access: "reclaim"` asks for (README, "Reclaiming seats"). */
  ZENDESK_RECLAIM_SCOPES: z
    .string()
    .regex(/^[a-z_]+(:(read|write))?( [a-z_]+(:(read|write))?)*$/, 'must be space-separated Zendesk scopes such as "read write"')
    .default('read write'),
  /** The length of a "day" in reclamation periods (approval expiry, notice, undo window): shortened by tests and demos only. */
  RECLAIM_DAY: duration(1_000, 86_400_000, '1s and 1d').default(86_400_000),
  /** How long one sync chunk (activity) works before it reports progress; the checkpoint carries on. */
  SYNC_CHUNK_SECONDS: intString(1, 240).default(30),
  /** Chunks per workflow run before a sync continues as new (keeps every history small). */
  SYNC_CHUNKS_PER_RUN: intString(2, 1000).default(100),
  /** Attempts of a failing sync chunk (backoff 1 s doubling to 1 min between them) before the run is recorded failed. */
  SYNC_CHUNK_ATTEMPTS: intString(1, 100).default(30),
  ACTIVITY_BACKFILL_DAYS: intString(1, 3650).default(90),
  INACTIVE_AFTER_DAYS: intString(1, 3650).default(30),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** How long a connect flow waits for the admin's consent (contract: 30 minutes). Tests shorten it. */
  CONSENT_TIMEOUT: duration(1_000, 86_400_000, '1s and 24h').default(30 * 60_000),
  /**
   * How long the OAuth callback waits for the connect workflow's answer before it shows a page that reloads
   * itself (the workflow carries on; a reload re-attaches to the same update). Tests shorten it.
   */
  OAUTH_CALLBACK_WAIT: duration(1_000, 300_000, '1s and 5m').default(90_000),
  /** Timeout of one HTTP request to Zendesk. */
  ZENDESK_REQUEST_TIMEOUT: duration(1_000, 300_000, '1s and 5m').default(30_000),
  /** Access-token lifetime asked of Zendesk, in seconds (300 < n < 172800). */
  ZENDESK_ACCESS_TOKEN_EXPIRES_IN: intBetween(300, 172_800).default(DEFAULT_ACCESS_TOKEN_EXPIRES_IN),
  /** Refresh-token lifetime asked of Zendesk, in seconds (604800 < n < 7776000). */
  ZENDESK_REFRESH_TOKEN_EXPIRES_IN: intBetween(604_800, 7_776_000).default(DEFAULT_REFRESH_TOKEN_EXPIRES_IN),
  /**
   * The API's internal port: GET /metrics, /healthz, /readyz, for Prometheus and the orchestrator's probes,
   * kept off the public port (PORT) so the internet sees neither our metrics nor our dependencies' state.
   */
  INTERNAL_PORT: intString(0, 65535).default(9463),
  /** Port of the worker's own HTTP server: GET /metrics (Prometheus text), /healthz, /readyz. */
  METRICS_PORT: intString(0, 65535).default(9464),
  /** When set, the Temporal SDK's Rust core serves its own worker metrics (Prometheus) on 0.0.0.0:<port>/metrics. */
  TEMPORAL_METRICS_PORT: intString(1, 65535).optional(),
  /** A prebuilt workflow bundle (scripts/bundle-workflows.ts); default: dist/workflow-bundle.js when running compiled code. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /** The API's report cache: the longest a cached report (or key/integration lookup) is served; 0 turns the caches off. */
  REPORT_CACHE_TTL_SECONDS: intString(0, 3600).default(60),
  /** The report cache's memory bound (cached response bodies), in MiB. */
  REPORT_CACHE_MAX_MB: intString(1, 65536).default(64),
  /**
   * The most of the report cache one tenant's entries may take, in MiB (default: a quarter of
   * REPORT_CACHE_MAX_MB), so that one tenant cannot evict every other tenant's reports.
   */
  REPORT_CACHE_TENANT_MAX_MB: intString(1, 65536).optional(),
  // Fair sharing between tenants (src/api/limits, README "Fair sharing between tenants"): per-tenant
  // budgets of the API, shared by every API process through PostgreSQL, and bounds on its queries.
  /** Every authenticated request of a tenant (`/v1/integrations…`), cache hits included. */
  API_RATE_LIMIT_REQUESTS: budget('600/10s').default(parseBudget('600/10s')!),
  /**
   * Database work of a tenant's reports, in units: a report computation (`/users`, `/utilization` answered
   * by PostgreSQL, not by the cache) costs one, plus one per further 100 ms it took; an export its fetch time.
   */
  API_RATE_LIMIT_REPORTS: budget('100/1m').default(parseBudget('100/1m')!),
  /** users.csv exports a tenant starts. */
  API_RATE_LIMIT_CSV: budget('30/1h').default(parseBudget('30/1h')!),
  /** users.csv exports of one tenant running at once, across every API process. */
  API_CSV_CONCURRENCY: intString(1, 100).default(1),
  /** Report computations and exports of one tenant running at once in one API process (more wait, a few, then 429). */
  API_REPORT_CONCURRENCY: intString(1, 100).default(1),
  /** Integrations a tenant creates (`POST /v1/integrations/zendesk`: each opens a consent workflow). */
  API_RATE_LIMIT_INTEGRATIONS: budget('20/1h').default(parseBudget('20/1h')!),
  /** How long a tenant that retries at once after a 429 waits for its next 429s (0s: never). */
  API_RATE_LIMIT_TARPIT: duration(0, 10_000, '0s and 10s').default(1_000),
  /** How often each API process reconciles its buckets with the shared ones in PostgreSQL. */
  API_RATE_LIMIT_SYNC: duration(100, 10_000, '100ms and 10s').default(1_000),
  /** statement_timeout of the API's queries. */
  API_STATEMENT_TIMEOUT: duration(100, 300_000, '100ms and 5m').default(10_000),
  /** statement_timeout of each fetch of a users.csv export (also how long an export may stall on a client that reads nothing). */
  API_CSV_STATEMENT_TIMEOUT: duration(100, 3_600_000, '100ms and 1h').default(120_000),
  /** How long an API request waits for a free PostgreSQL connection before it is answered 503. */
  API_DATABASE_POOL_WAIT: duration(10, 60_000, '10ms and 60s').default(3_000),
  /** Worker capacity (see WorkerTuning below): activity slots. */
  WORKER_MAX_CONCURRENT_ACTIVITIES: intString(1, 1000).default(50),
  /** Open workflows kept in the worker's memory (sticky cache); 0 (no cache) or at least 2. */
  WORKER_MAX_CACHED_WORKFLOWS: intString(0, 100_000)
    .refine((n) => n !== 1, 'must be 0 (no cache) or at least 2')
    .default(1000),
  /** Workflow task slots (at most the cache size, unless the cache is off). */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: intString(2, 1000).default(40),
  // Housekeeping (src/workflows/housekeeping.ts): what is kept, for how long. Each is a period after which
  // a row is deleted (or its personal fields scrubbed) by the housekeeping schedule's next run.
  /** How often the deployment's housekeeping schedule runs; `off` creates none (tests, or a deployment that runs it elsewhere). */
  HOUSEKEEPING_INTERVAL: z.union([z.literal('off'), duration(60_000, 7 * 86_400_000, '1m and 7d')]).default(86_400_000),
  /** Rows deleted (or updated) per statement: each batch is its own short transaction, so syncs never wait long behind one. */
  HOUSEKEEPING_BATCH_SIZE: intString(1, 100_000).default(5000),
  /** Ticket events older than this are deleted; also the largest `inactiveDays` the reports accept. */
  ACTIVITY_RETENTION_DAYS: intString(1, 3650).default(DEFAULT_ACTIVITY_RETENTION_DAYS),
  /** A disconnected integration's synced users and ticket events are deleted this long after the disconnect (0: at the next run). */
  DISCONNECTED_DATA_RETENTION_DAYS: intString(0, 3650).default(30),
  /** Sync runs are kept this long… */
  SYNC_RUN_RETENTION_DAYS: intString(0, 3650).default(180),
  /** …or, per integration, this many newest runs, whichever keeps more. */
  SYNC_RUN_RETENTION_RUNS: intString(1, 1_000_000).default(1000),
  /** An OAuth flow (consent attempt) is deleted this long after it expired or was exchanged, whichever is later. */
  OAUTH_FLOW_RETENTION: duration(1_000, 30 * 86_400_000, '1s and 30d').default(86_400_000),
  /** A Zendesk rate-limit block is deleted this long after it ended. */
  RATE_LIMIT_BLOCK_RETENTION: duration(0, 7 * 86_400_000, '0s and 7d').default(3_600_000),
  // Outbound webhooks (src/webhooks, README "Webhooks"). Every period is configurable so tests compress time.
  /** Hosts a webhook may be sent to although they are not public (and over plain http): `npm run dev`, tests. Comma-separated. */
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .transform(
      (text) =>
        new Set(
          text
            .split(',')
            .map((h) =>
              h
                .trim()
                .toLowerCase()
                .replace(/^\[|\]$/g, ''),
            )
            .filter(Boolean),
        ),
    )
    .default(new Set<string>()),
  /** When each attempt of a delivery is made, after the previous one (the Standard Webhooks example schedule); the last ends it. */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .transform((text, ctx) => {
      const delays = text.split(',').map((part) => parseDuration(part));
      if (delays.length < 1 || delays.length > 50 || delays.some((d) => d === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'must be 1 to 50 comma-separated durations such as 0s,5s,5m,30m' });
        return z.NEVER;
      }
      return delays as number[];
    })
    .default([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000]),
  /** Each attempt's bound: connect, send and the receiver's answer. */
  WEBHOOK_ATTEMPT_TIMEOUT: duration(100, 60_000, '100ms and 60s').default(15_000),
  /** After a secret rotation, how long the old secret still signs beside the new one. */
  WEBHOOK_SECRET_OVERLAP: duration(0, 30 * 86_400_000, '0s and 30d').default(86_400_000),
  /** Events produced while an endpoint is disabled are kept this long for its re-enabling (older ones expire). */
  WEBHOOK_HELD_RETENTION: duration(1_000, 90 * 86_400_000, '1s and 90d').default(7 * 86_400_000),
  /** How often a worker's relay looks for deliveries to start. */
  WEBHOOK_RELAY_INTERVAL: duration(10, 60_000, '10ms and 60s').default(200),
});

/** Every environment variable this module reads (the deployment test checks docker-compose.yml against it). */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as Array<keyof typeof envSchema.shape>;

/**
 * How much one worker takes on at once. Set explicitly rather than left to the SDK: Temporal 1.24 derives
 * its default `maxCachedWorkflows` from the V8 heap limit (600 per GiB above 200 MiB, at least 10), so under
 * the heap cap production starts the worker with (`--max-old-space-size`, see `start:worker` in
 * package.json) it would be 10, and every workflow task of an evicted workflow would replay its history.
 * Our workflows are small (ids and counters), so a large cache costs little (docs/benchmarks.md, scenario 4).
 * Each activity slot may hold a page of up to 1,000 users or events and the next one prefetched: raise the
 * heap cap (WORKER_HEAP_MB) by about 2 MB per extra slot.
 */
interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
}

export interface Config {
  databaseUrl: string | undefined;
  /** `connection`: TLS and API key (TEMPORAL_TLS*, TEMPORAL_API_KEY); absent or empty means plaintext. */
  temporal: { address: string; namespace: string; taskQueue: string; connection?: TemporalConnectionSettings };
  port: number;
  publicUrl: string;
  redirectUri: string;
  adminApiKey: string | undefined;
  /** The key ring, current first (ENCRYPTION_KEYS, or ENCRYPTION_KEY alone); undefined when neither is set. */
  encryptionKeys: EncryptionKey[] | undefined;
  zendesk: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    baseUrlTemplate: string;
    requestTimeoutMs: number;
    /** Seconds, sent as `expires_in` on the code exchange and every refresh (ZENDESK_ACCESS_TOKEN_EXPIRES_IN). */
    accessTokenExpiresIn: number;
    /** Seconds, sent as `refresh_token_expires_in` likewise (ZENDESK_REFRESH_TOKEN_EXPIRES_IN). */
    refreshTokenExpiresIn: number;
  };
  syncIntervalMs: number;
  /** Reclaiming seats: the scopes asked for, and the length of a day in its periods (RECLAIM_DAY). */
  reclaim: { scopes: string; dayMs: number };
  /** The shape of a sync's workflow runs (SyncInput.chunkMs / chunksPerRun). */
  syncRun: { chunkMs: number; chunksPerRun: number; chunkAttempts: number };
  activityBackfillDays: number;
  inactiveAfterDays: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  consentTimeoutMs: number;
  /** How long the OAuth callback waits for the workflow's outcome (OAUTH_CALLBACK_WAIT). */
  oauthCallbackWaitMs: number;
  /** The API's internal server port: /metrics, /healthz, /readyz (INTERNAL_PORT). */
  internalPort: number;
  /** The worker's metrics/health server port (METRICS_PORT). */
  metricsPort: number;
  /** The Temporal SDK core's Prometheus exporter port (TEMPORAL_METRICS_PORT), off when undefined. */
  temporalMetricsPort: number | undefined;
  /** A prebuilt workflow bundle to load instead of bundling at start (WORKFLOW_BUNDLE_PATH). */
  workflowBundlePath: string | undefined;
  /** The API's caches (src/api/cache): max age (0 = off), the report cache's byte bound and each tenant's share of it. */
  reportCache: { ttlMs: number; maxBytes: number; tenantMaxBytes: number };
  /** Per-tenant API budgets (undefined: off) and how often processes reconcile them (API_RATE_LIMIT_*, API_CSV_CONCURRENCY). */
  apiLimits: ApiLimits;
  /** Bounds of the API's PostgreSQL use (API_STATEMENT_TIMEOUT, API_CSV_STATEMENT_TIMEOUT, API_DATABASE_POOL_WAIT). */
  apiDatabase: { statementTimeoutMs: number; csvStatementTimeoutMs: number; poolWaitMs: number };
  /** The worker's capacity (WORKER_MAX_*). */
  workerTuning: WorkerTuning;
  /** Ticket events older than this many days are deleted, and `inactiveDays` may not exceed it (ACTIVITY_RETENTION_DAYS). */
  activityRetentionDays: number;
  /** The housekeeping schedule and what it keeps (HOUSEKEEPING_*, *_RETENTION*). */
  housekeeping: HousekeepingSettings;
  /** Outbound webhooks (WEBHOOK_*). */
  webhooks: WebhookSettings;
}

export interface WebhookSettings {
  allowHosts: ReadonlySet<string>;
  retryScheduleMs: number[];
  attemptTimeoutMs: number;
  secretOverlapMs: number;
  heldRetentionMs: number;
  relayIntervalMs: number;
}

export interface ApiLimits {
  requests: Budget | undefined;
  reports: Budget | undefined;
  csv: Budget | undefined;
  integrations: Budget | undefined;
  csvConcurrency: number;
  reportConcurrency: number;
  syncIntervalMs: number;
  tarpitMs: number;
}

/**
 * What housekeeping keeps. Periods are milliseconds, whatever unit their variable is in, so tests can pass
 * seconds (a config object of their own) where the environment speaks in days.
 */
export interface HousekeepingSettings {
  /** How often the schedule runs; undefined: no schedule. */
  intervalMs: number | undefined;
  batchSize: number;
  activityRetentionMs: number;
  disconnectedDataRetentionMs: number;
  syncRunRetentionMs: number;
  syncRunRetentionRuns: number;
  oauthFlowRetentionMs: number;
  rateLimitBlockRetentionMs: number;
}

/** What each process needs beyond the defaults. */
export type Role = 'api' | 'worker' | 'migrate' | 'rotate-keys' | 'any';

/**
 * What a role requires, no longer optional in its configuration (the same variables as REQUIRED and
 * NEEDS_KEYS below, which `loadConfig` checks before it returns one).
 */
interface RoleConfig {
  api: { databaseUrl: string; adminApiKey: string; encryptionKeys: EncryptionKey[] };
  worker: { databaseUrl: string; encryptionKeys: EncryptionKey[]; zendesk: Config['zendesk'] & { clientId: string; clientSecret: string } };
  migrate: { databaseUrl: string };
  'rotate-keys': { databaseUrl: string; encryptionKeys: EncryptionKey[] };
  any: unknown;
}

/** A union of object types as their intersection (a process with several roles needs what each requires). */
type AllOf<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** The configuration of a process with role(s) R: the whole Config, with what R requires present. */
export type ConfigFor<R extends Role> = Config & AllOf<RoleConfig[R]>;
export type ApiConfig = ConfigFor<'api'>;
export type WorkerConfig = ConfigFor<'worker'>;

const REQUIRED: Record<Role, Array<keyof z.output<typeof envSchema>>> = {
  api: ['ADMIN_API_KEY', 'DATABASE_URL'],
  worker: ['ZENDESK_CLIENT_ID', 'ZENDESK_CLIENT_SECRET', 'DATABASE_URL'],
  migrate: ['DATABASE_URL'],
  'rotate-keys': ['DATABASE_URL'],
  any: [],
};
/** Roles that read or write stored secrets: they need ENCRYPTION_KEY or ENCRYPTION_KEYS. */
const NEEDS_KEYS: Role[] = ['api', 'worker', 'rotate-keys'];

/**
 * The key ring from ENCRYPTION_KEYS or ENCRYPTION_KEY. Both may be set (docker-compose.yml always passes
 * ENCRYPTION_KEY) only when ENCRYPTION_KEY is one of the ring's keys: a value that would be silently
 * ignored is refused, so nobody believes a key is in use that is not.
 */
function keyRing(single: Buffer | undefined, list: EncryptionKey[] | undefined, problems: string[]): EncryptionKey[] | undefined {
  if (list && single && !list.some((k) => keyId(k.key) === keyId(single))) {
    problems.push(
      'ENCRYPTION_KEY: is not one of the keys of ENCRYPTION_KEYS; when both are set ENCRYPTION_KEYS is used, so set ENCRYPTION_KEY to one of its keys (or unset it)',
    );
  }
  return list ?? (single ? [{ label: 'default', key: single }] : undefined);
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates an environment for a process of `role` (or of several roles at once: `npm run dev` and the
 * tests run the API and the worker together); throws one ConfigError listing every problem. Never echoes
 * secret values.
 */
export function loadConfig<R extends Role = 'any'>(env: Record<string, string | undefined> = process.env, role: R | readonly R[] = 'any' as R): ConfigFor<R> {
  const roles: readonly Role[] = typeof role === 'string' ? [role] : role;
  // Empty strings mean "not set", as in most deployment tools.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  let temporalConnection: TemporalConnectionSettings = {};
  if (parsed.success) {
    const resolved = resolveTemporalConnection(parsed.data, cleaned);
    problems.push(...resolved.problems);
    temporalConnection = resolved.settings;
    // Each missing variable once, named with the first role that requires it.
    const missing = new Set<string>();
    for (const r of roles) {
      for (const key of REQUIRED[r]) {
        if (parsed.data[key] === undefined && !missing.has(key)) {
          missing.add(key);
          problems.push(`${key}: required for ${r}`);
        }
      }
      if (NEEDS_KEYS.includes(r) && !parsed.data.ENCRYPTION_KEY && !parsed.data.ENCRYPTION_KEYS && !missing.has('ENCRYPTION_KEY')) {
        missing.add('ENCRYPTION_KEY');
        problems.push(`ENCRYPTION_KEY: required for ${r} (or ENCRYPTION_KEYS)`);
      }
    }
    // The default report window must be one the reports accept (inactiveDays is capped by the retention).
    if (parsed.data.INACTIVE_AFTER_DAYS > parsed.data.ACTIVITY_RETENTION_DAYS) {
      problems.push(`INACTIVE_AFTER_DAYS: must not exceed ACTIVITY_RETENTION_DAYS (${parsed.data.ACTIVITY_RETENTION_DAYS}): older ticket activity is deleted`);
    }
    // Zendesk refuses an access token that would outlive its refresh token (always true within the bounds
    // above today; checked so that widening one bound cannot make every token request fail).
    if (parsed.data.ZENDESK_ACCESS_TOKEN_EXPIRES_IN >= parsed.data.ZENDESK_REFRESH_TOKEN_EXPIRES_IN) {
      problems.push('ZENDESK_ACCESS_TOKEN_EXPIRES_IN: must be less than ZENDESK_REFRESH_TOKEN_EXPIRES_IN');
    }
    if ((parsed.data.REPORT_CACHE_TENANT_MAX_MB ?? 0) > parsed.data.REPORT_CACHE_MAX_MB) {
      problems.push(`REPORT_CACHE_TENANT_MAX_MB: must not exceed REPORT_CACHE_MAX_MB (${parsed.data.REPORT_CACHE_MAX_MB})`);
    }
  }
  const encryptionKeys = parsed.success ? keyRing(parsed.data.ENCRYPTION_KEY, parsed.data.ENCRYPTION_KEYS, problems) : undefined;
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const config: Config = {
    databaseUrl: e.DATABASE_URL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE, connection: temporalConnection },
    port: e.PORT,
    publicUrl,
    redirectUri: `${publicUrl}/v1/oauth/zendesk/callback`,
    adminApiKey: e.ADMIN_API_KEY,
    encryptionKeys,
    zendesk: {
      clientId: e.ZENDESK_CLIENT_ID,
      clientSecret: e.ZENDESK_CLIENT_SECRET,
      baseUrlTemplate: e.ZENDESK_BASE_URL,
      requestTimeoutMs: e.ZENDESK_REQUEST_TIMEOUT,
      accessTokenExpiresIn: e.ZENDESK_ACCESS_TOKEN_EXPIRES_IN,
      refreshTokenExpiresIn: e.ZENDESK_REFRESH_TOKEN_EXPIRES_IN,
    },
    syncIntervalMs: e.SYNC_INTERVAL,
    reclaim: { scopes: e.ZENDESK_RECLAIM_SCOPES, dayMs: e.RECLAIM_DAY },
    syncRun: { chunkMs: e.SYNC_CHUNK_SECONDS * 1000, chunksPerRun: e.SYNC_CHUNKS_PER_RUN, chunkAttempts: e.SYNC_CHUNK_ATTEMPTS },
    activityBackfillDays: e.ACTIVITY_BACKFILL_DAYS,
    inactiveAfterDays: e.INACTIVE_AFTER_DAYS,
    logLevel: e.LOG_LEVEL,
    consentTimeoutMs: e.CONSENT_TIMEOUT,
    oauthCallbackWaitMs: e.OAUTH_CALLBACK_WAIT,
    internalPort: e.INTERNAL_PORT,
    metricsPort: e.METRICS_PORT,
    temporalMetricsPort: e.TEMPORAL_METRICS_PORT,
    workflowBundlePath: e.WORKFLOW_BUNDLE_PATH,
    reportCache: {
      ttlMs: e.REPORT_CACHE_TTL_SECONDS * 1000,
      maxBytes: e.REPORT_CACHE_MAX_MB * 1024 * 1024,
      tenantMaxBytes:
        e.REPORT_CACHE_TENANT_MAX_MB !== undefined ? e.REPORT_CACHE_TENANT_MAX_MB * 1024 * 1024 : Math.floor((e.REPORT_CACHE_MAX_MB * 1024 * 1024) / 4),
    },
    apiLimits: {
      requests: e.API_RATE_LIMIT_REQUESTS ?? undefined,
      reports: e.API_RATE_LIMIT_REPORTS ?? undefined,
      csv: e.API_RATE_LIMIT_CSV ?? undefined,
      integrations: e.API_RATE_LIMIT_INTEGRATIONS ?? undefined,
      csvConcurrency: e.API_CSV_CONCURRENCY,
      reportConcurrency: e.API_REPORT_CONCURRENCY,
      syncIntervalMs: e.API_RATE_LIMIT_SYNC,
      tarpitMs: e.API_RATE_LIMIT_TARPIT,
    },
    apiDatabase: { statementTimeoutMs: e.API_STATEMENT_TIMEOUT, csvStatementTimeoutMs: e.API_CSV_STATEMENT_TIMEOUT, poolWaitMs: e.API_DATABASE_POOL_WAIT },
    workerTuning: {
      maxConcurrentActivityTaskExecutions: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      // The SDK refuses more concurrent workflow tasks than cached workflows (unless the cache is off).
      maxConcurrentWorkflowTaskExecutions:
        e.WORKER_MAX_CACHED_WORKFLOWS > 0
          ? Math.min(e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, e.WORKER_MAX_CACHED_WORKFLOWS)
          : e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    },
    activityRetentionDays: e.ACTIVITY_RETENTION_DAYS,
    housekeeping: {
      intervalMs: e.HOUSEKEEPING_INTERVAL === 'off' ? undefined : e.HOUSEKEEPING_INTERVAL,
      batchSize: e.HOUSEKEEPING_BATCH_SIZE,
      activityRetentionMs: e.ACTIVITY_RETENTION_DAYS * DAY_MS,
      disconnectedDataRetentionMs: e.DISCONNECTED_DATA_RETENTION_DAYS * DAY_MS,
      syncRunRetentionMs: e.SYNC_RUN_RETENTION_DAYS * DAY_MS,
      syncRunRetentionRuns: e.SYNC_RUN_RETENTION_RUNS,
      oauthFlowRetentionMs: e.OAUTH_FLOW_RETENTION,
      rateLimitBlockRetentionMs: e.RATE_LIMIT_BLOCK_RETENTION,
    },
    webhooks: {
      allowHosts: e.WEBHOOK_ALLOW_HOSTS,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      attemptTimeoutMs: e.WEBHOOK_ATTEMPT_TIMEOUT,
      secretOverlapMs: e.WEBHOOK_SECRET_OVERLAP,
      heldRetentionMs: e.WEBHOOK_HELD_RETENTION,
      relayIntervalMs: e.WEBHOOK_RELAY_INTERVAL,
    },
  };
  // Every variable the roles require was checked above: what ConfigFor<R> makes non-optional is present.
  return config as ConfigFor<R>;
}

/** For entry points: load or print the problems and exit. */
export function loadConfigOrExit<R extends Role>(role: R): ConfigFor<R> {
  try {
    return loadConfig(process.env, role);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
