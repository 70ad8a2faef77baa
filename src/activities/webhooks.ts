import { deliveryForAttempt, disableEndpoint, setDeliveryStatus } from '../db/repositories/webhooks';
import { recordWebhookExhausted } from '../observability/webhookMetrics';
import { attemptDelivery, type AttemptOutcome } from '../webhooks/attempt';
import { withHeartbeatPulse } from './heartbeat';
import type { ActivityDeps } from './deps';

export function createWebhookActivities(deps: ActivityDeps) {
  const { db, box, logger, config, metrics } = deps;
  const settings = config.webhooks;

  return {
    /** One attempt (src/webhooks/attempt.ts), heartbeating while the receiver takes its time. */
    async attemptWebhookDelivery(input: { deliveryId: string; attempt: number; nextDelayMs: number | null }): Promise<AttemptOutcome> {
      // Heartbeats up to the attempt timeout, so an attempt whose worker died is sent again from another one
      // after the short heartbeat timeout, with the same webhook-id.
      return attemptDelivery({ db, box, logger, metrics, settings }, input, {
        around: (send) => withHeartbeatPulse({ stallMs: settings.attemptTimeoutMs + 5_000 }, send),
      });
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

export type { AttemptOutcome };
export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
