import type { WebhookEventType } from './eventTypes';

/**
 * What each event carries (`data`), as an example of each, for the OpenAPI document's `webhooks` section.
 * The triggers of migration 20261209T090000 build these objects; test/e2e/webhooks.test.ts checks that what
 * a receiver gets has exactly these keys. Ids and figures only: no names or emails.
 */
const integration = { integrationId: '0b8e6c2e-4f0a-4a43-9d4b-6f1f3c2f9a10', workspace: 'acme' };
const reclamation = {
  integrationId: integration.integrationId,
  reclamationId: '5f2d0c9e-1b7a-4e55-8a2b-3c4d5e6f7a8b',
  action: 'end_user',
  counts: { planned: 12, excluded: 3 },
};
const seats = { total: 120, active: 96, inactive: 20, suspended: 4 };

export const WEBHOOK_EVENT_EXAMPLES: Record<WebhookEventType, { summary: string; data: Record<string, unknown> }> = {
  'integration.connected': {
    summary: 'An integration was connected (or reconnected after a lost grant)',
    data: { ...integration, zendeskUserId: 3_720_458_211 },
  },
  'integration.status_changed': {
    summary: "An integration's status changed; `error` is the sentence the API shows with it",
    data: { ...integration, previousStatus: 'connected', status: 'needs_reauth', error: 'Zendesk refused the stored grant: reconnect the integration.' },
  },
  'integration.needs_reauth': {
    summary: 'The grant no longer works: an admin must reconnect',
    data: { ...integration, error: 'Zendesk refused the stored grant: reconnect the integration.' },
  },
  'integration.grant_expiring': {
    summary: "The grant's refresh token lapses within days and could not be renewed: have it reconnected before then (sent once per expiry)",
    data: { ...integration, refreshExpiresAt: '2026-12-24T06:00:00.000Z', daysLeft: 2 },
  },
  'sync.succeeded': {
    summary: 'A sync run finished',
    data: {
      integrationId: integration.integrationId,
      syncRunId: 'a1c3e5f7-0b2d-4f6a-8c0e-2a4c6e8a0c2e',
      startedAt: '2026-12-03T06:00:00.123+00:00',
      finishedAt: '2026-12-03T06:04:12.456+00:00',
      usersSynced: 1520,
      ticketEventsSynced: 48210,
      requests: 97,
      skippedRecords: 0,
      error: null,
    },
  },
  'sync.failed': {
    summary: 'A sync run failed; the next scheduled one carries on from its checkpoint',
    data: {
      integrationId: integration.integrationId,
      syncRunId: 'a1c3e5f7-0b2d-4f6a-8c0e-2a4c6e8a0c2e',
      startedAt: '2026-12-03T06:00:00.123+00:00',
      finishedAt: '2026-12-03T06:09:40.001+00:00',
      usersSynced: 300,
      ticketEventsSynced: 0,
      requests: 41,
      skippedRecords: 0,
      error: 'Zendesk kept answering 503 Service Unavailable.',
    },
  },
  'utilization.changed': {
    summary: 'Paid seats or the reclaimable count changed since the previous sync (`previous` is null after the first)',
    data: {
      integrationId: integration.integrationId,
      syncRunId: 'a1c3e5f7-0b2d-4f6a-8c0e-2a4c6e8a0c2e',
      asOf: '2026-12-03T06:04:12.456Z',
      paidSeats: seats,
      reclaimable: { count: 24, suspended: 4, inactive: 20 },
      previous: { paidSeats: { ...seats, total: 118, active: 95, inactive: 19 }, reclaimable: { count: 23, suspended: 4, inactive: 19 } },
    },
  },
  'reclamation.planned': { summary: 'A reclamation plan was made (nothing changed in Zendesk yet)', data: { ...reclamation, status: 'awaiting_approval' } },
  'reclamation.awaiting_approval': {
    summary: 'A reclamation waits for approval until `expiresAt`',
    data: { ...reclamation, status: 'awaiting_approval', expiresAt: '2026-12-10T09:00:00+00:00' },
  },
  'reclamation.user_notice': {
    summary:
      'One person of an approved reclamation is given notice: they will be changed after `noticeUntil` unless kept (POST …/users/{userId}/keep) or active again',
    data: {
      integrationId: integration.integrationId,
      reclamationId: reclamation.reclamationId,
      action: 'end_user',
      userId: 3_720_458_999,
      noticeUntil: '2026-12-10T09:00:00.000Z',
    },
  },
  'reclamation.completed': {
    summary: 'Every approved user was downgraded (or skipped with a reason); undo is possible until `undoUntil`',
    data: { ...reclamation, status: 'completed', counts: { downgraded: 11, skipped: 1, excluded: 3 }, undoUntil: '2027-01-02T09:00:00+00:00' },
  },
  'reclamation.failed': {
    summary: 'A reclamation ended with at least one user it could not downgrade (`counts.failed`); the others were downgraded',
    data: { ...reclamation, status: 'completed', counts: { downgraded: 10, failed: 2, excluded: 3 }, undoUntil: '2027-01-02T09:00:00+00:00' },
  },
  'reclamation.undone': {
    summary: 'A reclamation was undone: its users were restored',
    data: { ...reclamation, status: 'undone', counts: { restored: 11, excluded: 3 } },
  },
  'user.reupgraded': {
    summary: 'A user a reclamation downgraded has a paid seat again (seen by a sync)',
    data: {
      integrationId: integration.integrationId,
      reclamationId: reclamation.reclamationId,
      userId: 3_720_458_999,
      reupgradedAt: '2026-12-20T06:04:12.456+00:00',
    },
  },
  'webhook.test': { summary: 'Sent by POST /v1/webhook-endpoints/{id}/test', data: { endpointId: '9d7c5b3a-1e2f-4a6b-8c9d-0e1f2a3b4c5d' } },
};
