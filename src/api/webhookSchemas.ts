import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/eventTypes';

/** Request and response shapes of the webhook routes (src/api/routes/webhookEndpoints.ts). */

const url = z
  .string({ error: 'must be a URL' })
  .max(2000, 'must be at most 2,000 characters')
  .describe('Where events are POSTed: https (README, "Webhooks": URL rules)');
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, 'must name at least one event type (or leave it out for every type)')
  .max(WEBHOOK_EVENT_TYPES.length)
  .describe('The event types to receive; absent (or null on PATCH): every type');
const description = z.string().max(500, 'must be at most 500 characters');

export const CreateWebhookEndpointBody = z.strictObject({
  url,
  events: events.optional(),
  description: description.optional(),
});

export const UpdateWebhookEndpointBody = z
  .strictObject({
    url: url.optional(),
    events: events.nullable().optional(),
    description: description.nullable().optional(),
    enabled: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('true re-enables a disabled endpoint: what it missed (within WEBHOOK_HELD_RETENTION) is delivered'),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one of url, events, description, enabled', path: ['(body)'] });

export const WebhookEndpointParams = z.object({ id: z.uuid('must be a webhook endpoint id (a UUID)') });
export const WebhookDeliveryParams = z.object({
  id: z.uuid('must be a webhook endpoint id (a UUID)'),
  deliveryId: z.uuid('must be a delivery id (a UUID)'),
});

export const WebhookEndpoint = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()).nullable().describe('null: every type'),
  enabled: z.boolean(),
  disabledReason: z
    .string()
    .nullable()
    .describe('Why it was disabled: "the receiver answered 410 Gone", "10 attempts of one delivery failed", "disabled by request"'),
  disabledAt: z.iso.datetime().nullable(),
  previousSecretUntil: z.iso.datetime().nullable().describe('After a rotation: until when the old secret still signs beside the new one'),
  pendingDeliveries: z.number().int().describe('Deliveries under way or held for this endpoint (its depth)'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const CreatedWebhookEndpoint = WebhookEndpoint.extend({
  secret: z.string().describe('The signing secret (`whsec_…`): shown once, stored encrypted'),
});
export const RotatedWebhookSecret = CreatedWebhookEndpoint;

export const WebhookEndpointList = z.object({ endpoints: z.array(WebhookEndpoint) });

export const WebhookDelivery = z.object({
  id: z.uuid(),
  eventId: z.string().describe('The `webhook-id` header of every attempt'),
  type: z.string(),
  status: z
    .enum(['pending', 'succeeded', 'failed', 'held', 'expired'])
    .describe('held: produced while the endpoint was disabled; expired: held longer than WEBHOOK_HELD_RETENTION'),
  attempts: z.array(
    z.object({
      attempt: z.number().int(),
      at: z.iso.datetime(),
      statusCode: z.number().int().nullable().describe('null: no answer (refused, timed out, unreachable)'),
      latencyMs: z.number().int(),
      error: z.string().nullable(),
    }),
  ),
  nextAttemptAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
});
export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDelivery) });
export const WebhookDeliveriesQuery = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 200' })
    .int('must be a whole number from 1 to 200')
    .min(1)
    .max(200)
    .optional()
    .describe('Default 50'),
});
export const WebhookTestSent = z.object({ eventId: z.string(), deliveryId: z.uuid() });
