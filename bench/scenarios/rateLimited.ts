/**
 * Scenario 2: rate-limited sync. The workspace has Zendesk Enterprise limits (700 account, 20 users cursor,
 * 10 incremental requests per window) with the window shortened from 60 s for speed. The theoretical
 * minimum is what the page count allows under those limits: a bucket that needs N requests at L per window
 * (fixed windows, starting at the first request) cannot send its last request before (⌈N/L⌉ − 1) windows
 * have passed. L is the plan's limit times the integration's `max_budget_share` (default 0.8; issue 16:
 * the product leaves the rest to the customer's other apps), floor(limit × share) a window. The sync is
 * compared with the slowest bucket's minimum; 429s are counted per bucket.
 */
import { sql } from 'kysely';
import { log, round } from '../harness';
import { connectAndSync, fmt, secs, type Scenario } from '../context';
import type { BucketName } from '../../src/sandbox';

const LIMITS: Record<BucketName, number> = { account: 700, usersCursor: 20, incremental: 10 };
const TARGET_OVERHEAD = 1.1;

export const rateLimited: Scenario = {
  name: 'ratelimited',
  title: '2. Rate-limited sync (Enterprise limits)',
  async run(ctx) {
    const { h, preset } = ctx;
    const { users, events, windowMs } = preset.rateLimited;
    const subdomain = 'ratelimited';
    const ws = h.sandbox.createWorkspace({
      subdomain,
      users,
      ticketEvents: events,
      seed: 3,
      consentMode: 'allow',
      rateLimits: true,
      plan: 'enterprise',
      accountLimit: LIMITS.account,
      usersCursorLimit: LIMITS.usersCursor,
      incrementalLimit: LIMITS.incremental,
      rateLimitWindowMs: windowMs,
    });
    const worker = await h.startWorker();
    log(`ratelimited: syncing ${fmt(users)} users and ${fmt(events)} events, window ${windowMs} ms`);
    const { run, syncMs, wallMs, integrationId } = await connectAndSync(h, subdomain);
    await worker.stop();
    const share = Number((await sql<{ s: number }>`select max_budget_share as s from integrations where id = ${integrationId}`.execute(h.db)).rows[0]?.s ?? 1);
    // floor(limit × share), as the product's limiter (the epsilon absorbs floating point: 30 × 0.7 = 20.999…).
    const limitOf = (b: BucketName) => Math.max(1, Math.floor(LIMITS[b] * share + 1e-9));
    const stats = ws.stats();
    const buckets = (Object.keys(LIMITS) as BucketName[]).map((b) => {
      const sent = stats.bucketRequests[b];
      const limited = stats.rateLimited429ByBucket[b];
      const admitted = sent - limited;
      const minimumMs = (Math.ceil(admitted / limitOf(b)) - 1) * windowMs;
      return { bucket: b, sent, admitted, limited, early: stats.earlyRequests[b], minimumMs };
    });
    const binding = buckets.reduce((a, b) => (b.minimumMs > a.minimumMs ? b : a));
    const ratio = syncMs / binding.minimumMs;
    const worst429 = Math.max(...buckets.map((b) => b.limited));
    const early = buckets.reduce((n, b) => n + b.early, 0);
    log(
      `ratelimited: ${secs(syncMs)} against a minimum of ${secs(binding.minimumMs)} (${round(ratio)}), 429s ${buckets.map((b) => `${b.bucket}=${b.limited}`).join(' ')}`,
    );
    return {
      title: this.title,
      metrics: {
        users,
        events,
        windowMs,
        limits: LIMITS,
        budgetShare: share,
        syncMs,
        wallMs,
        requests: run.requests,
        productRateLimited: run.rate_limited,
        buckets,
        bindingBucket: binding.bucket,
        minimumMs: binding.minimumMs,
        ratioToMinimum: ratio,
        earlyRequests: early,
      },
      rows: [
        {
          metric: 'workspace, limits',
          value: `${fmt(users)} users, ${fmt(events)} events; ${LIMITS.account} account / ${LIMITS.usersCursor} users cursor / ${LIMITS.incremental} incremental per ${windowMs / 1000} s window, budget share ${share} (${limitOf('account')} / ${limitOf('usersCursor')} / ${limitOf('incremental')} usable)`,
        },
        { metric: 'pages (requests admitted) per bucket', value: buckets.map((b) => `${b.bucket} ${b.admitted}`).join(', ') },
        {
          metric: 'theoretical minimum',
          value: `${secs(binding.minimumMs)} (${binding.bucket}: ⌈${binding.admitted}/${limitOf(binding.bucket)}⌉ − 1 windows)`,
        },
        {
          metric: 'sync time (sync_runs) ÷ minimum',
          value: `${secs(syncMs)} → ×${fmt(ratio, 3)}`,
          target: `≤ ×${TARGET_OVERHEAD}`,
          met: ratio <= TARGET_OVERHEAD,
        },
        { metric: '429s received per bucket', value: buckets.map((b) => `${b.bucket} ${b.limited}`).join(', '), target: '≤ 1 each', met: worst429 <= 1 },
        { metric: 'requests sent before a Retry-After passed', value: String(early), target: '0', met: early === 0 },
      ],
    };
  },
};
