import { z } from 'zod';

/**
 * An integration's reclaim settings (PATCH /v1/integrations/{id}/settings), stored as JSON on its row. Every
 * field is optional; what a reclamation uses when one is absent is documented on each.
 */
const zendeskUserId = z.number({ error: 'must be a Zendesk user id' }).int('must be a Zendesk user id').positive('must be a Zendesk user id');

export const ReclaimExemptions = z
  .strictObject({
    userIds: z.array(zendeskUserId).max(10_000, 'at most 10,000 ids').optional().describe('Users never proposed'),
    emails: z
      .array(z.email({ error: 'must be an email address' }).max(320))
      .max(10_000, 'at most 10,000 emails')
      .optional()
      .describe('Users never proposed, by email (case-insensitive)'),
    customRoleIds: z
      .array(zendeskUserId)
      .max(1_000)
      .optional()
      .describe('Agents with one of these custom roles are never changed (checked on the live record before each change)'),
    tags: z
      .array(z.string().min(1).max(255))
      .max(1_000)
      .optional()
      .describe('Users with one of these tags are never changed (checked on the live record before each change)'),
  })
  .describe('Who a reclamation never touches');

export const ReclaimSettings = z.strictObject({
  accountOwnerUserId: zendeskUserId
    .nullable()
    .optional()
    .describe("The account owner's Zendesk user id (never proposed; Zendesk also refuses to change the owner)"),
  exemptions: ReclaimExemptions.optional(),
  newHireGraceDays: z
    .number()
    .int('must be a whole number of days')
    .min(0)
    .max(3650)
    .optional()
    .describe('Users created within this many days are never proposed. Default 30'),
  seatPrice: z
    .strictObject({
      amount: z.number({ error: 'must be a number' }).positive('must be more than 0').max(1_000_000),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
      per: z.enum(['month', 'year'], { error: 'must be month or year' }),
    })
    .optional()
    .describe("The price of one paid agent seat: `/utilization`'s `savings` are computed from it"),
  purchasedSeats: z.number().int('must be a whole number').min(0).max(1_000_000).optional().describe('Paid seats the customer buys'),
  renewalDate: z.iso
    .date('must be a date such as 2027-03-31')
    .optional()
    .describe('When the Zendesk subscription renews: `savings.renewal` recommends a seat count for it'),
});
export type ReclaimSettings = z.infer<typeof ReclaimSettings>;

export const DEFAULT_NEW_HIRE_GRACE_DAYS = 30;

/** The stored JSON read back tolerantly: a value that no longer validates is dropped, never trusted. */
export function readReclaimSettings(stored: unknown): ReclaimSettings {
  const parsed = ReclaimSettings.safeParse(stored ?? {});
  return parsed.success ? parsed.data : {};
}

/** Seats kept free above those in use when recommending a count at renewal: 5 %, at least one (documented in the OpenAPI). */
export function renewalBuffer(seatsInUse: number): number {
  return Math.max(1, Math.ceil(seatsInUse * 0.05));
}
