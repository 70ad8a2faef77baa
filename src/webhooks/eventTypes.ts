/**
 * Every event type an endpoint may subscribe to (README, "Webhooks"). The triggers of migration
 * 20261209T090000 emit them all but `integration.grant_expiring` (src/db/repositories/grantExpiry.ts),
 * `reclamation.user_notice` (src/db/repositories/reclamations.ts, announceUserNotices) and
 * `webhook.test`, which `POST /v1/webhook-endpoints/{id}/test` sends.
 * Pure: imported by the API's schemas and the OpenAPI document.
 */
export const WEBHOOK_EVENT_TYPES = [
  'integration.connected',
  'integration.status_changed',
  'integration.needs_reauth',
  'integration.grant_expiring',
  'sync.succeeded',
  'sync.failed',
  'utilization.changed',
  'reclamation.planned',
  'reclamation.awaiting_approval',
  'reclamation.user_notice',
  'reclamation.completed',
  'reclamation.failed',
  'reclamation.undone',
  'user.reupgraded',
  'webhook.test',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
