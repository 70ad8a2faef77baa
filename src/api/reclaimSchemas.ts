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
  })
  .refine((b) => (b.userIds === undefined) !== (b.rule === undefined), { message: 'give exactly one of userIds or rule', path: ['userIds'] });

export const ReclamationParams = z.object({
  id: z.uuid('must be an integration id (a UUID)'),
  rid: z.uuid('must be a reclamation id (a UUID)'),
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
