import type { WebhookSettings } from '../config';
import type { SecretBox } from '../crypto/secretBox';
import type { Db } from '../db/database';
import { deliveryForAttempt, disableEndpoint, recordAttempt, setDeliveryStatus, signingSecrets } from '../db/repositories/webhooks';
import type { Logger } from '../logger';
import { recordWebhookAttempt, type WebhookMetrics } from '../observability/webhookMetrics';
import { sendWebhook, type SendResult } from './send';
import { webhookHeaders } from './signature';

/** What one attempt of a delivery came to; the workflow (src/workflows/webhookDelivery.ts) decides what follows. */
export type AttemptOutcome =
  | { outcome: 'delivered' }
  /** Not 2xx, or no answer: try again later (not before `retryAfterMs`, when the receiver said). */
  | { outcome: 'retry'; retryAfterMs?: number }
  /** 410 Gone: the endpoint is disabled, the delivery failed. */
  | { outcome: 'gone' }
  /** Nothing to do: the endpoint is disabled (the delivery is held for its re-enabling), deleted, or the delivery is no longer pending. */
  | { outcome: 'held' | 'done' };

export interface AttemptDeps {
  db: Db;
  box: SecretBox;
  logger: Logger;
  metrics: WebhookMetrics;
  settings: WebhookSettings;
}

export interface AttemptOptions {
  /** Bound of the whole HTTP exchange (default WEBHOOK_ATTEMPT_TIMEOUT). */
  timeoutMs?: number;
  /** Runs around the HTTP exchange (the activity: its heartbeat pulse). */
  around?: (send: () => Promise<SendResult>) => Promise<SendResult>;
}

/**
 * One attempt: POSTs the event's body, signed for this attempt's timestamp, and records the attempt and its
 * outcome. Made by the delivery workflow's activity, and for a delivery's first attempt by the relay itself
 * (src/webhooks/relay.ts). Idempotent: an attempt number is recorded once, and a delivery that is no longer
 * pending (delivered, replayed elsewhere) is not sent again. Never throws for the receiver's failures — those
 * are outcomes; only our own failures (PostgreSQL) throw.
 */
export async function attemptDelivery(
  deps: AttemptDeps,
  input: { deliveryId: string; attempt: number; nextDelayMs: number | null },
  options: AttemptOptions = {},
): Promise<AttemptOutcome> {
  const { db, box, logger, metrics, settings } = deps;
  const found = await deliveryForAttempt(db, input.deliveryId);
  if (!found || found.delivery.status !== 'pending') return { outcome: 'done' };
  const { delivery, endpoint } = found;
  if (!endpoint.enabled) {
    await setDeliveryStatus(db, delivery.id, 'held', ['pending']);
    return { outcome: 'held' };
  }
  const now = new Date();
  const headers = webhookHeaders(signingSecrets(box, endpoint, now), delivery.event_id, Math.floor(now.getTime() / 1000), delivery.body);
  const timeoutMs = options.timeoutMs ?? settings.attemptTimeoutMs;
  const send = () => sendWebhook(endpoint.url, headers, delivery.body, { timeoutMs, allowHosts: settings.allowHosts });
  const result = await (options.around ? options.around(send) : send());
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
}
