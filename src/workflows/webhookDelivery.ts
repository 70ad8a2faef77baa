import { proxyActivities, sleep } from '@temporalio/workflow';
import type { AttemptOutcome, WebhookActivities } from '../activities/webhooks';

/**
 * One delivery of one event to one endpoint (`webhook-delivery-<deliveryId>`), started by the relay
 * (src/webhooks/relay.ts) from the outbox. Attempts follow WEBHOOK_RETRY_SCHEDULE (the Standard Webhooks
 * example: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), each delay ±`jitter`, never
 * sooner than a 429/503's Retry-After. Each delivery is its own workflow, so a failing event never holds
 * back the others (no head-of-line blocking); they start in the order their events happened.
 *
 * The relay usually makes the first attempt itself, before starting this workflow (the fast path: a healthy
 * receiver has its event without waiting for Temporal's task round trips), and says how it went in
 * `firstAttempt`: the workflow then only records the outcome, or takes over the retries from attempt 2.
 */
export interface WebhookDeliveryInput {
  deliveryId: string;
  /** Delay before each attempt, the first usually 0; its length is the number of attempts. */
  scheduleMs: number[];
  /** Each delay is multiplied by a random factor in [1 − jitter, 1 + jitter]. */
  jitter: number;
  /** Attempt 1, made by the relay (src/webhooks/relay.ts); for a retry, the delay before attempt 2 (jittered, ≥ Retry-After). */
  firstAttempt?: { outcome: AttemptOutcome['outcome']; delayMs?: number };
}

export const webhookDeliveryWorkflowId = (deliveryId: string) => `webhook-delivery-${deliveryId}`;

const { attemptWebhookDelivery, giveUpWebhookDelivery } = proxyActivities<WebhookActivities>({
  // The HTTP attempt is bounded by WEBHOOK_ATTEMPT_TIMEOUT (≤ 60 s); this covers it and its two queries.
  startToCloseTimeout: '90 seconds',
  // The attempt heartbeats while it waits for the receiver: a SIGKILLed worker's attempt is sent again soon.
  heartbeatTimeout: '10 seconds',
  // Only our own failures (PostgreSQL) throw; the receiver's are outcomes.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<'delivered' | 'gone' | 'held' | 'done' | 'exhausted'> {
  const jittered = (ms: number) => Math.round(ms * (1 + (Math.random() * 2 - 1) * input.jitter));
  let first = 1;
  let delay: number;
  if (input.firstAttempt) {
    if (input.firstAttempt.outcome !== 'retry') return input.firstAttempt.outcome;
    first = 2;
    delay = input.firstAttempt.delayMs ?? 0;
  } else delay = jittered(input.scheduleMs[0] ?? 0);
  for (let attempt = first; attempt <= input.scheduleMs.length; attempt++) {
    if (delay > 0) await sleep(delay);
    const next = input.scheduleMs[attempt];
    const nextDelayMs = next === undefined ? null : jittered(next);
    const result = await attemptWebhookDelivery({ deliveryId: input.deliveryId, attempt, nextDelayMs });
    if (result.outcome !== 'retry') return result.outcome;
    if (nextDelayMs === null) break;
    delay = Math.max(nextDelayMs, result.retryAfterMs ?? 0);
  }
  await giveUpWebhookDelivery({ deliveryId: input.deliveryId, attempts: input.scheduleMs.length });
  return 'exhausted';
}
