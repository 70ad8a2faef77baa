import type { Metrics } from './metrics';

/** What webhook deliveries add to the metrics (src/activities/webhooks.ts). No tenant or endpoint labels. */

export type WebhookMetrics = Pick<Metrics, 'webhookAttempts' | 'webhookAttemptDuration' | 'webhookDeliveries' | 'webhookDeliveryLag'>;

/** One attempt that reached the point of sending; `recordedAt` is when its delivery was recorded (the event's commit). */
export function recordWebhookAttempt(metrics: WebhookMetrics, attempt: { outcome: 'delivered' | 'retry' | 'gone'; latencyMs: number; recordedAt: Date }): void {
  metrics.webhookAttempts.inc({ outcome: attempt.outcome });
  metrics.webhookAttemptDuration.observe({ outcome: attempt.outcome }, attempt.latencyMs / 1000);
  if (attempt.outcome === 'delivered') {
    metrics.webhookDeliveries.inc({ outcome: 'delivered' });
    metrics.webhookDeliveryLag.observe(Math.max(0, Date.now() - attempt.recordedAt.getTime()) / 1000);
  } else if (attempt.outcome === 'gone') {
    metrics.webhookDeliveries.inc({ outcome: 'failed' });
  }
}

/** A delivery whose every attempt failed. */
export function recordWebhookExhausted(metrics: WebhookMetrics): void {
  metrics.webhookDeliveries.inc({ outcome: 'failed' });
}
