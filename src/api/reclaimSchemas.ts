import { z } from 'zod';

/** Request and response shapes of the reclamation routes (src/api/routes/reclamations.ts). */

const zendeskUserId = z.number({ error: 'must be a Zendesk user id' }).int('must be a Zendesk user id').positive('must be a Zendesk user id');
const userIds = z.array(zendeskUserId).min(1, 'must name at least one user').max(10_000, 'at most 10,000 users');

export const CreateReclamationBody = z
  .strictObject({
    action: z
      .enum(['end_user', 'light_agent'], { error: 'must be end_user or light_agent' })
      .describe('`end_user` frees the seat; `light_agent` keeps read access (Enterprise: the account must have the light-agent role)'),
    userIds: userIds.optional().describe('These users (each checked against the guardrails)'),
    rule: z
      .strictObject({
        reasons: z
          .array(z.enum(['inactive', 'suspended'], { error: 'must be inactive or suspended' }))
          .min(1)
          .optional()
          .describe('Default both'),
        inactiveDays: z.number().int('must be a whole number of days').min(1).max(3650).optional().describe("Default the integration's INACTIVE_AFTER_DAYS"),
      })
      .optional()
      .describe('Every paid seat that is suspended and/or inactive'),
    approvalExpiresInDays: z.number().int().min(1).max(90).optional().describe('Days the plan waits for approval before it expires. Default 7'),
    undoWindowDays: z.number().int().min(1).max(90).optional().describe('Days after execution during which undo restores users. Default 30'),
    noticeDays: z
      .number()
      .int('must be a whole number of days')
      .min(0)
      .max(30)
      .optional()
      .describe(
        'Days of notice after approval before anyone is changed (default 0: none). Each approved user is announced (`reclamation.user_notice` webhook and audit event), can be kept with POST …/users/{userId}/keep, and is re-checked daily: a user active again since the plan is dropped.',
      ),
  })
  .refine((b) => (b.userIds === undefined) !== (b.rule === undefined), { message: 'give exactly one of userIds or rule', path: ['userIds'] });

export const ReclamationParams = z.object({
  id: z.uuid('must be an integration id (a UUID)'),
  rid: z.uuid('must be a reclamation id (a UUID)'),
});

export const ReclamationUserParams = ReclamationParams.extend({
  userId: z
    .string()
    .regex(/^[1-9]\d{0,17}$/, 'must be a Zendesk user id')
    .transform(Number),
});

export const ApproveBody = z.strictObject({ userIds: userIds.optional().describe('Approve only these planned users; default all') });
export const UndoBody = z.strictObject({ userIds: userIds.optional().describe('Undo only these downgraded users; default all') });

export const AuditQuery = z.strictObject({
  reclamationId: z.uuid('must be a reclamation id (a UUID)').optional(),
  userId: z
    .string()
    .regex(/^[1-9]\d{0,17}$/, 'must be a Zendesk user id')
    .transform(Number)
    .optional(),
  kind: z.string().max(100).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, 'must be an integer from 1 to 1000')
    .optional(),
  after: z.string().regex(/^\d+$/, 'must be an event id from a previous page').optional(),
});

/** The platform may name the person behind a request (`Actor` header); kept in the audit log as given. */
export const ActorHeader = z.string().max(200, 'must be at most 200 characters').optional();

// ------------------------------------------------------------------------------------------ responses

const iso = z.iso.datetime().describe('ISO-8601 UTC timestamp');
const STATES = [
  'planned',
  'excluded',
  'not_approved',
  'kept',
  'downgrading',
  'downgraded',
  'skipped',
  'failed',
  'restoring',
  'restored',
  'undo_failed',
] as const;

export const ReclamationUser = z.object({
  userId: z.number().int(),
  state: z
    .enum(STATES)
    .describe(
      '`planned` (a candidate), `excluded` (a guardrail: `reason` says which), `not_approved`, `kept` (taken out during the notice period; not proposed again until `keptUntil`), `downgrading` (snapshot stored, change under way), `downgraded`, `skipped` (the live record showed a guardrail, or the user was active during the notice period: `outcome`), `failed` (Zendesk refused: `outcome`), `restoring`, `restored`, `undo_failed`',
    ),
  reason: z
    .string()
    .describe(
      'Candidates: `inactive`, `suspended`, `requested`. Excluded: `not_found`, `deleted`, `account_owner`, `grant_admin`, `last_admin`, `shared_user`, `exempt`, `kept`, `new_hire`, `created_unknown`, `free_seat`, `seat_unknown`, `already_light_agent`, `no_seat_freed`, `active`',
    ),
  evidence: z.record(z.string(), z.unknown()).describe('`lastLoginAt`, `lastActivityAt`, `createdAt`, `seatReason`, `suspended` as synced'),
  outcome: z.string().nullable().describe("Why excluded or skipped, or Zendesk's answer"),
  changedAt: iso.nullable(),
  restoredAt: iso.nullable(),
  reupgradedAt: iso.nullable().describe('When a later sync showed the downgraded user on a paid seat again (upgraded in Zendesk since)'),
  keptUntil: iso.nullable().describe('A kept user is not proposed again until then (the keep cooldown)'),
});

export const Reclamation = z.object({
  id: z.uuid(),
  integrationId: z.uuid(),
  action: z.enum(['end_user', 'light_agent']),
  status: z.enum(['awaiting_approval', 'rejected', 'expired', 'notice', 'executing', 'completed', 'undone']),
  workflowId: z.string().describe('The Temporal workflow of this reclamation'),
  createdAt: iso,
  expiresAt: iso.describe('When the plan expires unless approved'),
  decidedAt: iso.nullable(),
  completedAt: iso.nullable(),
  undoUntil: iso.nullable().describe('Undo is possible until then; the snapshots are dropped after'),
  noticeUntil: iso.nullable().describe('With a notice period: nobody is changed before then'),
  requestedBy: z.object({ apiKeyId: z.string().nullable(), actor: z.string().nullable() }),
  request: z.record(z.string(), z.unknown()).describe('The request as validated'),
  notes: z.array(z.string()).describe('What the plan does not do, in words'),
  counts: z.record(z.string(), z.number().int()).describe('Users per state'),
  users: z.array(ReclamationUser),
});

export const ReclamationList = z.object({
  reclamations: z.array(
    z.object({ id: z.uuid(), action: z.enum(['end_user', 'light_agent']), status: Reclamation.shape.status, createdAt: iso, expiresAt: iso }),
  ),
});

export const UndoResult = z.object({
  restored: z.array(z.number().int()),
  failed: z.array(z.number().int()).describe("Zendesk refused (e.g. no free seat): see each user's `outcome`; undo again later"),
  skipped: z.array(z.number().int()),
  reclamation: Reclamation,
});

export const AuditPage = z.object({
  events: z.array(
    z.object({
      id: z.string().describe('Increasing; pass the last one as `after` for the next page'),
      at: iso,
      kind: z
        .string()
        .describe('e.g. `reclamation.planned`, `reclamation.approved`, `user.downgrade_started`, `user.downgraded`, `user.restored`, `user.undo_failed`'),
      reclamationId: z.uuid().nullable(),
      userId: z.number().int().nullable(),
      apiKeyId: z.string().nullable().describe('The tenant key that asked'),
      actor: z.string().nullable().describe('The `Actor` header the platform sent'),
      before: z.unknown().describe('The seat fields before the step (role, role_type, custom_role_id, default_group_id)'),
      after: z.unknown(),
      detail: z.unknown(),
    }),
  ),
  next: z.string().nullable().describe('`after` for the next page; null on the last'),
});
