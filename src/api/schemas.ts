import { ReclaimSettings } from '../reclaim/settings';
import { z } from 'zod';
import { listParam, onceOr, wholeNumberParam } from './queryParams';

/**
 * Request and response shapes of the HTTP API. The same schemas validate requests, shape responses
 * and generate the OpenAPI document.
 */

const isoDateTime = z.iso.datetime().describe('ISO-8601 UTC timestamp');

export const CreateTenantBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    // PostgreSQL text cannot hold NUL: without this check such a name was a 500 (found by test/chaos/bad-input).
    .refine((name) => !name.includes('\u0000'), 'must not contain NUL characters'),
});

export const Tenant = z.object({
  id: z.uuid(),
  name: z.string(),
  apiKey: z.string().describe('Shown once; stored hashed'),
  keyId: z.uuid().describe("The key's id, to revoke it or tell it apart in `/v1/tenants/{id}/keys`"),
});

export const IntegrationAccessSchema = z
  .enum(['read', 'reclaim'])
  .describe(
    '`read` (default): reports only, scope `read`. `reclaim`: reports and seat reclamation, the scopes of `ZENDESK_RECLAIM_SCOPES` (default `read write`).',
  );

export const CreateIntegrationBody = z.strictObject({
  workspace: z.string().max(2048, 'must be at most 2048 characters').describe('`acme`, `acme.zendesk.com` or `https://acme.zendesk.com/...`'),
  access: IntegrationAccessSchema.optional(),
});

export const ReconnectBody = z.strictObject({ access: IntegrationAccessSchema.optional() });

const IntegrationStatus = z.enum([
  'awaiting_consent',
  'connecting',
  'connected',
  'consent_denied',
  'expired',
  'needs_reauth',
  'failed',
  'disconnecting',
  'disconnected',
]);

export const LastSync = z.object({
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: isoDateTime,
  finishedAt: isoDateTime.nullable(),
  usersSynced: z.number().int(),
  ticketEventsSynced: z.number().int(),
  requests: z.number().int(),
  rateLimited: z.number().int(),
  skippedRecords: z
    .number()
    .int()
    .describe(
      'Zendesk records this run could not use at all (not an object, no usable id, a ticket event without its ticket, time or updater) and skipped; the rest of their pages was kept. The worker logs each with its position and id',
    ),
  notes: z
    .array(z.string())
    .describe('What the run had to work around, one sentence each (e.g. a saved position Zendesk refused, so the stream started again)'),
  error: z.string().nullable(),
});

const Revocation = z
  .object({
    outcome: z
      .enum(['revoked', 'already_invalid', 'refused', 'failed', 'no_tokens'])
      .describe(
        '`revoked`: Zendesk confirmed it. `already_invalid`: the grant was already revoked or expired. `refused`: Zendesk answered 403 ' +
          '(revoking needs the `write` scope; the worker holds `read`), so the grant is still live. `failed`: Zendesk could not be reached. `no_tokens`: nothing was stored.',
      ),
    revokedAtZendesk: z.boolean().describe('True only when Zendesk confirmed the revocation'),
    grantMayBeLive: z.boolean().describe('The grant may still work at Zendesk: `message` says how a Zendesk admin removes it'),
    message: z.string().describe('What happened, and how to remove the grant by hand when needed'),
  })
  .describe('What became of the Zendesk grant. The stored tokens are deleted whatever the outcome.');

const ReconnectAttemptStatus = z.enum(['pending', 'denied', 'not_admin', 'expired', 'failed', 'completed']);

export const ReconnectAttempt = z
  .object({
    status: ReconnectAttemptStatus.describe(
      '`pending`: the consent link waits for an admin (or their consent is being completed); `completed`: an admin approved and the new grant replaced the old one, which is then revoked at Zendesk (`revocation`); `denied`, `not_admin` (the approving user is not a Zendesk admin: their new grant is revoked, see `revocation`), `expired` (nobody approved within CONSENT_TIMEOUT), `failed`: the old grant was kept as it was',
    ),
    requestedAt: isoDateTime,
    expiresAt: isoDateTime.describe('When the consent link stops working'),
    finishedAt: isoDateTime.nullable(),
    error: z.string().nullable().describe('Why the attempt did not replace the grant, a sentence a person can act on; null while pending and once completed'),
    revocation: Revocation.nullable().describe(
      "What became of the grant the attempt let go: once `completed`, the replaced (old) grant; for `not_admin`, the non-admin's new grant. null when it let none go (pending, denied, expired)",
    ),
  })
  .describe(
    "The newest reconnect of a connected integration. The integration stays `connected` and keeps syncing with its current grant while it is pending and whatever its outcome; only an admin's approval replaces the grant",
  );

/** Per-integration settings (PATCH /v1/integrations/{id}/settings). */
const IntegrationSettings = z
  .object({
    syncEndUsers: z
      .boolean()
      .describe(
        'Also sync end users (the full users export, after the seat report). `false`: only agents and admins are synced, which is all the seat report needs',
      ),
    maxBudgetShare: z
      .number()
      .gt(0)
      .max(1)
      .describe(
        "The share of the Zendesk account's API budget (per rate-limit window, every bucket) the worker may use; the rest stays free for the customer's other apps. Default 0.8",
      ),
    reclaim: ReclaimSettings.describe('Reclaim settings (account owner, exemptions, new-hire grace)'),
  })
  .describe('Settings of the integration');

export const UpdateIntegrationSettingsBody = z
  .strictObject({
    syncEndUsers: z.boolean({ error: 'must be true or false' }).optional(),
    maxBudgetShare: z.number({ error: 'must be a number' }).gt(0, 'must be more than 0').max(1, 'must be at most 1').optional(),
    reclaim: ReclaimSettings.optional().describe('Reclaim settings; replaces the stored ones as a whole'),
  })
  .refine((b) => Object.keys(b).length > 0, 'must set at least one of syncEndUsers, maxBudgetShare, reclaim');

const StreamState = z.object({
  complete: z.boolean().describe('The stream has been complete at least once: its data is whole as of `completedAt`'),
  completedAt: isoDateTime.nullable().describe('When it was last complete; null if never yet'),
  estimatedCompletionAt: isoDateTime
    .nullable()
    .describe('While it has never been complete: an estimate of when it will be, from the rate seen so far (null when not yet known)'),
});

export const SyncStreams = z
  .object({
    seatHolders: StreamState.describe('Agents and admins and their entitlements: the seat report is final once this is complete'),
    endUsers: StreamState.extend({ enabled: z.boolean().describe('`syncEndUsers`') }).describe(
      'Every user (the incremental users export), after the seat holders',
    ),
    ticketEvents: StreamState.extend({
      coveredSince: isoDateTime
        .nullable()
        .describe('Ticket activity is stored without gaps from this instant to the last sync; null until the newest window is in'),
      coveredDays: z.number().int().min(0).describe('Days of ticket activity complete up to now'),
    }).describe('Ticket activity, fetched newest first (7 days, 30 days, then the backfill)'),
  })
  .describe('How complete the synced data is, stream by stream');

export const Integration = z.object({
  id: z.uuid(),
  provider: z.literal('zendesk'),
  workspace: z.string(),
  status: IntegrationStatus,
  createdAt: isoDateTime,
  connectedAt: isoDateTime.nullable(),
  lastSync: LastSync.nullable(),
  nextSyncAt: isoDateTime.nullable(),
  error: z.string().nullable().describe('A sentence a person can act on'),
  entitlements: z
    .enum(['unknown', 'available', 'forbidden'])
    .describe(
      "Whether the worker can read user entitlements (`GET /api/v2/users/{id}/entitlements/full`) to tell light agents and contributors who hold a paid seat through a Chat, Guide or Explore role: `available`; `forbidden` (Zendesk refused, e.g. an older plan: those users are counted as free seats, Zendesk's Support rule); `unknown` until a sync has tried",
    ),
  refreshExpiresAt: isoDateTime
    .nullable()
    .describe(
      "When Zendesk's grant lapses unless renewed: the refresh token's expiry (about 30 days after the last refresh; " +
        'every sync renews it ahead of time, and the worker logs a warning when it is days away). null when Zendesk did not say, or no tokens are stored.',
    ),
  capabilities: z
    .object({
      reclaim: z.object({
        enabled: z
          .boolean()
          .describe('The integration may change seats: connected, with a grant holding the `write` scope (connect or reconnect with `access: "reclaim"`)'),
        reason: z.string().nullable().describe('Why not, when not; null when enabled'),
      }),
    })
    .describe('What the grant lets the worker do besides reading'),
  settings: IntegrationSettings,
  streams: SyncStreams,
  reconnect: ReconnectAttempt.nullable().describe(
    'A reconnect requested while the integration was connected (POST /v1/integrations/{id}/reconnect), as long as it is the newest consent attempt; null otherwise (a reconnect of an integration that is not connected shows in `status`)',
  ),
});

export const DisconnectedIntegration = Integration.extend({
  revocation: Revocation.nullable().describe(
    'null while the disconnect is still under way (202), and for a disconnect recorded before revocations were reported',
  ),
  workflowId: z.string().describe('The disconnect workflow (`zendesk-disconnect-<id>`), to follow in the Temporal Web UI'),
});

export const CreatedIntegration = z.object({
  id: z.uuid(),
  workspace: z.string(),
  status: z.literal('awaiting_consent'),
  authorizeUrl: z.url(),
});

/** The statuses `GET /v1/integrations` lists: every one but `disconnected` (a deleted integration is gone). */
const LISTED_STATUSES = IntegrationStatus.options.filter((s): s is Exclude<typeof s, 'disconnected'> => s !== 'disconnected');

export const IntegrationListQuery = z.strictObject({
  limit: wholeNumberParam(1, 200, 'Page size (default 50).'),
  cursor: z
    .string({ error: onceOr('is not a cursor issued by this API') })
    .min(1, 'must not be empty')
    .max(1024, 'is not a cursor issued by this API')
    .optional()
    .describe('`nextCursor` of the previous page, with the same `status` (another filter: 400).'),
  status: listParam(LISTED_STATUSES, 'Only integrations in these states (default: all; disconnected integrations are never listed).'),
});

export const IntegrationList = z.object({
  integrations: z.array(Integration).describe('Newest first (by `createdAt`, then id)'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});
export const Reconnect = z.object({ authorizeUrl: z.url() });
export const SyncStarted = z.object({ workflowId: z.string(), runId: z.string() });

export const IntegrationIdParams = z.object({ id: z.uuid('must be an integration id (a UUID)') });
export const DeleteQuery = z.strictObject({ purge: z.enum(['true', 'false']).optional() });

export const OAuthCallbackQuery = z.object({
  state: z.string().max(512).optional(),
  code: z.string().max(2048).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ name: z.string(), reason: z.string() })),
});

/** 500: `detail` says nothing of the error; `reference` finds it in our logs (the tenant quotes it to support). */
export const InternalProblem = Problem.extend({ reference: z.string().regex(/^ref-[0-9a-f]{12}$/) });

/** 409 problems may name the integration that already exists. */
export const ConflictProblem = Problem.extend({ existingId: z.uuid().optional().describe('The integration that already exists') });

export const Health = z.object({ status: z.literal('ok') });
