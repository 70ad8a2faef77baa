import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Semaphore } from 'async-mutex';
import type { WebhookSettings } from '../config';
import type { SecretBox } from '../crypto/secretBox';
import { ChangeFeed } from '../db/changeFeed';
import type { Db } from '../db/database';
import { sql } from 'kysely';
import { claimDeliveriesToStart, markWorkflowStarted } from '../db/repositories/webhooks';
import type { Logger } from '../logger';
import type { WebhookMetrics } from '../observability/webhookMetrics';
import { webhookSearchAttributesFor } from '../temporal/searchAttributes';
import { webhookTaskQueue } from '../temporal/taskQueues';
import { webhookDelivery, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../workflows/webhookDelivery';
import { attemptDelivery } from './attempt';

/** The relay's batch: deliveries picked per look, at most. */
const BATCH = 200;
/** Deliveries in the relay's hands at once (first attempts and workflow starts). */
const AT_ONCE = 50;
/** How long a picked delivery is the relay's (another relay skips it meanwhile); far longer than its attempt and start. */
export const RELAY_LEASE_MS = 60_000;
/**
 * The relay's first attempt gives a receiver this long (or WEBHOOK_ATTEMPT_TIMEOUT when shorter): a slow
 * receiver's delivery goes on in its workflow (attempt 2 after the schedule's delay) instead of holding a slot.
 */
const FIRST_ATTEMPT_TIMEOUT_MS = 3_000;
/** What the outbox's triggers NOTIFY when they record a delivery. */
const OUTBOX_CHANNEL = 'webhook_outbox';
/** Each delay of the retry schedule is spread by ±20 %, so endpoints that failed together do not retry together. */
const JITTER = 0.2;

type Due = Awaited<ReturnType<typeof claimDeliveriesToStart>>[number];

/**
 * The outbox relay: for each delivery the triggers (or the API) recorded, makes its first attempt and starts
 * its delivery workflow, which records the outcome or takes over the retries. Runs in every worker process. A
 * transaction cannot start a workflow, so the outbox is how "recorded with the change" and "delivered durably
 * by Temporal" meet.
 *
 * Why the relay attempts first: under load, starting a workflow, running its task and then its activity's
 * took seconds of Temporal round trips before a healthy receiver had its event (docs/benchmarks.md, scenario
 * 11). The attempt itself is the same code as the workflow's (src/webhooks/attempt.ts), recorded once per
 * attempt number.
 *
 * Exactly one relay handles a delivery: it is picked with a lease (`claimDeliveriesToStart`). Starting is
 * idempotent: the workflow id is the delivery's. A relay that dies after its attempt leaves the lease to run
 * out: a delivery then delivered needs nothing more; one whose attempt failed (`next_attempt_at` set) is
 * started by the next relay with that attempt counted, so nothing is sent twice by the relays. No row lock is
 * held while the receiver or Temporal is called.
 *
 * It looks when the outbox's triggers say something was recorded (NOTIFY webhook_outbox, migration
 * 20261209T090000_webhooks, through a LISTEN connection of its own when `databaseUrl` is given), and in any case
 * every WEBHOOK_RELAY_INTERVAL (200 ms by default), so a notification missed while PostgreSQL restarts, or a
 * server without LISTEN (the embedded PGlite), costs at most that interval.
 */
export function startWebhookRelay(deps: {
  db: Db;
  box: SecretBox;
  metrics: WebhookMetrics;
  temporal: Client;
  /** The deployment's TEMPORAL_TASK_QUEUE; deliveries start on its webhook queue. */
  taskQueue: string;
  settings: WebhookSettings;
  logger: Logger;
  /** For the LISTEN connection that wakes the relay; without it, it only polls. */
  databaseUrl?: string;
}): { stop(): Promise<void> } {
  const { db, temporal, settings, logger } = deps;
  const slots = new Semaphore(AT_ONCE);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let wake: (() => void) | undefined;
  /** A notification came while the loop was busy: look again at once. */
  let notified = false;
  let failures = 0;
  const poke = () => {
    notified = true;
    wake?.();
  };
  const feed = deps.databaseUrl
    ? new ChangeFeed({
        connectionString: deps.databaseUrl,
        channel: OUTBOX_CHANNEL,
        applicationName: 'zendesk-worker-webhook-relay',
        logger,
        sendProbe: (payload) => sql`SELECT pg_notify(${OUTBOX_CHANNEL}, ${payload})`.execute(db),
        otherBackendPid: async () => Number((await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]?.pid),
        onChange: poke,
        onUp: poke,
        // Polling goes on meanwhile.
        onDown: () => undefined,
      })
    : undefined;
  feed?.start();
  const jittered = (ms: number) => Math.round(ms * (1 + (Math.random() * 2 - 1) * JITTER));

  /** Attempt 1 when nothing was attempted yet and the schedule starts at once; what the workflow is told of it. */
  const firstAttempt = async (d: Due): Promise<WebhookDeliveryInput['firstAttempt']> => {
    const schedule = settings.retryScheduleMs;
    if (d.attempts > 0) {
      // A relay's failed attempt whose workflow never started (that relay died): count it, wait out its delay.
      return d.next_attempt_at ? { outcome: 'retry', delayMs: Math.max(0, d.next_attempt_at.getTime() - Date.now()) } : undefined;
    }
    if ((schedule[0] ?? 0) > 0) return undefined;
    const nextDelayMs = schedule[1] === undefined ? null : jittered(schedule[1]);
    const outcome = await attemptDelivery(
      { ...deps, settings },
      { deliveryId: d.id, attempt: 1, nextDelayMs },
      { timeoutMs: Math.min(FIRST_ATTEMPT_TIMEOUT_MS, settings.attemptTimeoutMs) },
    );
    if (outcome.outcome !== 'retry') return { outcome: outcome.outcome };
    return { outcome: 'retry', delayMs: nextDelayMs === null ? 0 : Math.max(nextDelayMs, outcome.retryAfterMs ?? 0) };
  };

  const start = async (d: Due, first: WebhookDeliveryInput['firstAttempt']) => {
    try {
      await temporal.workflow.start(webhookDelivery, {
        taskQueue: webhookTaskQueue(deps.taskQueue),
        workflowId: webhookDeliveryWorkflowId(d.id),
        args: [{ deliveryId: d.id, scheduleMs: settings.retryScheduleMs, jitter: JITTER, ...(first ? { firstAttempt: first } : {}) }],
        typedSearchAttributes: webhookSearchAttributesFor({ tenantId: d.tenant_id, type: d.type, integrationId: d.integration_id }),
        staticSummary: `Deliver ${d.type} to ${new URL(d.url).host}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await markWorkflowStarted(db, [d.id]);
  };

  const handle = async (d: Due) => {
    let first: WebhookDeliveryInput['firstAttempt'];
    try {
      first = await firstAttempt(d);
    } catch (err) {
      // Our own failure (PostgreSQL): the workflow makes attempt 1 (an attempt number is recorded once).
      logger.warn({ err, webhookDeliveryId: d.id }, 'webhook relay: first attempt failed on our side (the workflow makes it)');
    }
    // Temporal unreachable: try again for a while, with what the attempt came to; then the lease runs out and
    // another look (here or elsewhere) starts it.
    for (let tries = 0; ; tries++) {
      try {
        await start(d, first);
        failures = 0;
        return;
      } catch (err) {
        failures++;
        if (failures === 1) logger.warn({ err }, 'webhook relay: could not start deliveries (retrying)');
        if (stopped || tries >= 5) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, settings.relayIntervalMs * 2 ** tries)).unref());
      }
    }
  };

  const loop = async () => {
    while (!stopped) {
      let picked = 0;
      let room = 0;
      notified = false;
      try {
        await slots.waitForUnlock();
        room = Math.min(BATCH, slots.getValue());
        const due = await claimDeliveriesToStart(db, room, RELAY_LEASE_MS);
        picked = due.length;
        // In the order events happened, `AT_ONCE` at a time (the semaphore is first come, first served).
        for (const d of due) {
          const running: Promise<void> = slots.runExclusive(() => handle(d)).finally(() => inFlight.delete(running));
          inFlight.add(running);
        }
      } catch (err) {
        failures++;
        // Logged once per outage, not per look; the next look retries.
        if (failures === 1) logger.warn({ err }, 'webhook relay: could not pick deliveries (retrying)');
      }
      if (picked > 0 && picked === room) continue;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the feed's callback during the awaits above
      if (notified && !failures) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, failures ? Math.min(10_000, settings.relayIntervalMs * 2 ** failures) : settings.relayIntervalMs).unref();
      });
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await feed?.close();
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}
