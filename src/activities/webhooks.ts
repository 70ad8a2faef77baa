import { deliveryForAttempt, disableEndpoint, recordAttempt, setDeliveryStatus, signingSecrets } from '../db/repositories/webhooks';
import { recordWebhookAttempt, recordWebhookExhausted } from '../observability/webhookMetrics';
import { webhookHeaders } from '../webhooks/signature';
import { sendWebhook } from '../webhooks/send';
import { withHeartbeatPulse } from './heartbeat';
import type { ActivityDeps } from './deps';

/** What one attempt of a delivery came to; the workflow (src/workflows/webhookDelivery.ts) decides what follows. */
export type AttemptOutcome =
  | { outcome: 'delivered' }
  /** Not 2xx, or no answer: try again later (not before `retryAfterMs`, when the receiver said). */
  | { outcome: 'retry'; retryAfterMs?: number }
  /** 410 Gone: the endpoint is disabled, the delivery failed. */
  | { outcome: 'gone' }
  /** Nothing to do: the endpoint is disabled (the delivery is held for its re-enabling), deleted, or the delivery is no longer pending. */
  | { outcome: 'held' | 'done' };

export function createWebhookActivities(deps: ActivityDeps) {
  const { db, box, logger, config, metrics } = deps;
  const settings = config.webhooks;

  return {
    /**
     * One attempt: POSTs the event's body, signed for this attempt's timestamp, and records the attempt and
     * its outcome. Idempotent: an attempt number is recorded once, and a delivery that is no longer pending
     * (delivered, replayed elsewhere) is not sent again. Never throws for the receiver's failures — those
     * are outcomes; only our own failures (PostgreSQL) are retried by Temporal.
     */
    async attemptWebhookDelivery(input: { deliveryId: string; attempt: number; nextDelayMs: number | null }): Promise<AttemptOutcome> {
      const found = await deliveryForAttempt(db, input.deliveryId);
      if (!found || found.delivery.status !== 'pending') return { outcome: 'done' };
      const { delivery, endpoint } = found;
      if (!endpoint.enabled) {
        await setDeliveryStatus(db, delivery.id, 'held', ['pending']);
        return { outcome: 'held' };
      }
      const now = new Date();
      const headers = webhookHeaders(signingSecrets(box, endpoint, now), delivery.event_id, Math.floor(now.getTime() / 1000), delivery.body);
      // Heartbeats while the receiver takes its time (up to the attempt timeout), so an attempt whose worker died
      // is sent again from another one after the short heartbeat timeout, with the same webhook-id.
      const result = await withHeartbeatPulse({ stallMs: settings.attemptTimeoutMs + 5_000 }, () =>
        sendWebhook(endpoint.url, headers, delivery.body, { timeoutMs: settings.attemptTimeoutMs, allowHosts: settings.allowHosts }),
      );
      const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
      const gone = result.statusCode === 410;
      const retryIn = ok || gone || input.nextDelayMs === null ? null : Math.max(input.nextDelayMs, result.retryAfterMs ?? 0);
      const recorded = await recordAttempt(
        db,
        { deliveryId: delivery.id, attempt: input.attempt, statusCode: result.statusCode ?? null, latencyMs: result.latencyMs, error: result.error ?? null },
        { status: ok ? 'succeeded' : gone ? 'failed' : 'pending', nextAttemptAt: retryIn === null ? null : new Date(Date.now() + retryIn) },
      );
      if (recorded)
        recordWebhookAttempt(metrics, { outcome: ok ? 'delivered' : gone ? 'gone' : 'retry', latencyMs: result.latencyMs, recordedAt: delivery.created_at });
      if (ok) return { outcome: 'delivered' };
      if (gone) {
        if (await disableEndpoint(db, endpoint.id, 'the receiver answered 410 Gone')) {
          logger.warn({ webhookEndpointId: endpoint.id, tenantId: endpoint.tenant_id }, 'webhook endpoint disabled: it answered 410 Gone');
        }
        return { outcome: 'gone' };
      }
      return result.retryAfterMs !== undefined ? { outcome: 'retry', retryAfterMs: result.retryAfterMs } : { outcome: 'retry' };
    },

    /** Every attempt failed: the delivery failed and the endpoint is disabled (its later events are held). */
    async giveUpWebhookDelivery(input: { deliveryId: string; attempts: number }): Promise<void> {
      const found = await deliveryForAttempt(db, input.deliveryId);
      if (!found) return;
      await setDeliveryStatus(db, input.deliveryId, 'failed', ['pending']);
      recordWebhookExhausted(metrics);
      if (await disableEndpoint(db, found.endpoint.id, `${input.attempts} attempts of one delivery failed`)) {
        logger.warn(
          { webhookEndpointId: found.endpoint.id, tenantId: found.endpoint.tenant_id, attempts: input.attempts },
          'webhook endpoint disabled: every attempt of a delivery failed',
        );
      }
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
