import { z } from 'zod';

/**
 * zod schemas of every Zendesk response the worker reads. Unknown extra fields are accepted (and
 * dropped); a missing or mistyped field the worker needs makes the whole page a ZendeskBadResponseError.
 */

/** Zendesk ids exceed 2^31; they stay below 2^53, so a JS number holds them exactly. */
const zendeskId = z.number().int().safe();
const isoTimestamp = z.iso.datetime({ offset: true });
const nullableIsoTimestamp = isoTimestamp.nullish().transform((v) => v ?? null);

// ---------------------------------------------------------------------------------------------- OAuth

/** A positive whole number of seconds, also as a numeric string; anything else reads as absent (null). */
const lifetimeSeconds = z.unknown().optional().transform((v): number | null => {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
});
/** A non-empty string, or null for anything else. */
const optionalText = z.unknown().optional().transform((v): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null));

/**
 * POST /oauth/tokens. Only `access_token` is required: when Zendesk answers a refresh, the refresh token we
 * sent is already dead, so a missing `scope`, an odd `token_type` or an unreadable lifetime must never make us
 * drop the rotated pair. Optional fields that are absent or malformed read as null and fall back (tokenSetFromResponse):
 * the requested scope, the JWT's `exp`, the old refresh token (RFC 6749 §6).
 */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: optionalText,
  scope: optionalText,
  refresh_token: optionalText,
  expires_in: lifetimeSeconds,
  refresh_token_expires_in: lifetimeSeconds,
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** GET /api/v2/oauth/tokens/current.json */
export const currentTokenSchema = z.object({ token: z.object({ id: zendeskId }) });
export type CurrentToken = z.infer<typeof currentTokenSchema>;

// ---------------------------------------------------------------------------------------------- Users

export const userRoleSchema = z.enum(['end-user', 'agent', 'admin']);
export const ticketRestrictionSchema = z.enum(['organization', 'groups', 'assigned', 'requested']);

/** A full Zendesk user object, every field of the product contract. */
export const zendeskUserSchema = z.object({
  id: zendeskId,
  name: z.string(),
  email: z.string().nullish().transform((v) => v ?? null),
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
  last_login_at: nullableIsoTimestamp,
  role: userRoleSchema,
  role_type: z.number().int().min(0).max(5).nullish().transform((v) => v ?? null),
  report_csv: z.boolean(),
  chat_only: z.boolean(),
  moderator: z.boolean(),
  restricted_agent: z.boolean(),
  shared: z.boolean(),
  shared_agent: z.boolean(),
  suspended: z.boolean(),
  ticket_restriction: ticketRestrictionSchema.nullish().transform((v) => v ?? null),
  two_factor_auth_enabled: z.boolean().nullish().transform((v) => v ?? null),
  verified: z.boolean(),
  active: z.boolean(),
});
export type ZendeskUserRecord = z.infer<typeof zendeskUserSchema>;

/**
 * GET /api/v2/users/me. Zendesk answers anonymous callers too, with `id: null`: a 200 here proves
 * nothing until `user.id` is checked.
 */
export const meResponseSchema = z.object({
  user: z.object({
    id: zendeskId.nullable(),
    name: z.string().nullish().transform((v) => v ?? null),
    email: z.string().nullish().transform((v) => v ?? null),
    role: userRoleSchema.nullish().transform((v) => v ?? null),
    role_type: z.number().int().min(0).max(5).nullish().transform((v) => v ?? null),
    active: z.boolean().nullish().transform((v) => v ?? null),
    suspended: z.boolean().nullish().transform((v) => v ?? null),
  }),
});
export type MeResponse = z.infer<typeof meResponseSchema>;
export type ZendeskMe = MeResponse['user'];

/** GET /api/v2/incremental/users/cursor: top-level cursors, no meta/links. */
export const usersCursorPageSchema = z.object({
  users: z.array(zendeskUserSchema),
  after_cursor: z.string().min(1).nullish().transform((v) => v ?? null),
  before_cursor: z.string().min(1).nullish().transform((v) => v ?? null),
  end_of_stream: z.boolean(),
});
export type UsersCursorPage = z.infer<typeof usersCursorPageSchema>;

// ---------------------------------------------------------------------------------------- Ticket events

export const ticketChildEventSchema = z.looseObject({
  id: zendeskId.optional(),
  event_type: z.string().optional(),
  type: z.string().optional(),
  author_id: zendeskId.nullish(),
  public: z.boolean().nullish(),
});

export const ticketEventSchema = z.object({
  id: zendeskId,
  ticket_id: zendeskId,
  /** Epoch seconds. */
  timestamp: z.number().int().nonnegative(),
  /** The user who made the update; -1 for system updates. */
  updater_id: zendeskId,
  created_at: isoTimestamp,
  event_type: z.string().optional(),
  child_events: z.array(ticketChildEventSchema).optional(),
});
export type TicketEvent = z.infer<typeof ticketEventSchema>;

/** GET /api/v2/incremental/ticket_events: time-based; continue with start_time = end_time. */
export const ticketEventsPageSchema = z.object({
  ticket_events: z.array(ticketEventSchema),
  end_time: z.number().int().nonnegative(),
  end_of_stream: z.boolean(),
  count: z.number().int().nonnegative(),
});
export type TicketEventsPage = z.infer<typeof ticketEventsPageSchema>;
