import { z } from 'zod';

/**
 * zod schemas of every Zendesk response the worker reads. Zendesk is read tolerantly (docs/zendesk.md):
 * only what the worker cannot do without is required; unknown extra fields are accepted (and dropped).
 * A page without what the worker needs (its list, its cursor) is a ZendeskBadResponseError; a broken record
 * inside a good page is quarantined by src/zendesk/records.ts, never the cause of refusing the page.
 */

/** Zendesk ids exceed 2^31; they stay below 2^53, so a JS number holds them exactly. */
const zendeskId = z.number().int().safe();
const isoTimestamp = z.iso.datetime({ offset: true });

// ---------------------------------------------------------------------------------------------- OAuth

/** A positive whole number of seconds, also as a numeric string; anything else reads as absent (null). */
const lifetimeSeconds = z
  .unknown()
  .optional()
  .transform((v): number | null => {
    const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
  });
/** A non-empty string, or null for anything else. */
const optionalText = z
  .unknown()
  .optional()
  .transform((v): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null));

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

// ---------------------------------------------------------------------------------------------- Users

/** PostgreSQL text cannot hold NUL; Zendesk strings are cleaned of it on the way in. */
const withoutNul = (s: string) => (s.includes('\u0000') ? s.replaceAll('\u0000', '') : s);

/**
 * An optional field: absent, null or of the wrong type all read as null (unknown). Never a default such
 * as `false`: absent is not "no". `recordAnomalies` (records.ts) reports the wrong-typed ones.
 */
function optional<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((v): z.output<T> | null => v ?? null)
    .catch(null);
}

const text = () => optional(z.string().transform(withoutNul));
const flag = () => optional(z.boolean());
const timestampText = () => optional(isoTimestamp);
/** Integers that fit the `integer` column; larger ones read as unknown. */
const smallInt = () => optional(z.number().int().min(-2_147_483_648).max(2_147_483_647));

/**
 * A Zendesk user object. Only `id` is required: real accounts leave fields out (no 2024–25 recording has
 * `chat_only`) and may add enum values. `role`, `role_type` and `ticket_restriction` keep Zendesk's value
 * whatever it is; the reports decide what an unknown one means.
 */
export const zendeskUserSchema = z.object({
  id: zendeskId,
  name: text(),
  email: text(),
  created_at: timestampText(),
  updated_at: timestampText(),
  last_login_at: timestampText(),
  role: text(),
  role_type: smallInt(),
  report_csv: flag(),
  chat_only: flag(),
  moderator: flag(),
  restricted_agent: flag(),
  shared: flag(),
  shared_agent: flag(),
  suspended: flag(),
  ticket_restriction: text(),
  two_factor_auth_enabled: flag(),
  verified: flag(),
  active: flag(),
});
export type ZendeskUserRecord = z.infer<typeof zendeskUserSchema>;

/**
 * GET and PUT /api/v2/users/{id} as a reclamation reads them: the user record plus what a seat change touches
 * and what exemptions look at (custom role, default group, tags). Tolerant like the rest: only `id` is required.
 */
export const seatUserResponseSchema = z.object({
  user: zendeskUserSchema.extend({
    custom_role_id: optional(zendeskId),
    default_group_id: optional(zendeskId),
    tags: optional(z.array(z.string())),
  }),
});
export type SeatUserRecord = z.infer<typeof seatUserResponseSchema>['user'];

/** GET /api/v2/custom_roles: only what finding the light-agent role needs. */
export const customRolesSchema = z.object({
  custom_roles: z.array(
    z
      .object({ id: zendeskId, role_type: z.number().int().nullish(), configuration: z.object({ light_agent: z.boolean().nullish() }).loose().nullish() })
      .loose(),
  ),
});

/**
 * A group membership (OAS GroupMembershipObject): the ids are required, `default` is kept as sent (absent or
 * not a boolean reads as null, never false), unknown fields are kept.
 */
const groupMembershipSchema = z.looseObject({ id: zendeskId, user_id: zendeskId, group_id: zendeskId, default: flag() });
export type GroupMembershipRecord = z.infer<typeof groupMembershipSchema>;

/** GET /api/v2/users/{id}/group_memberships, offset pages: the list and `next_page` (null or absent: the last page). */
export const groupMembershipsPageSchema = z.looseObject({
  group_memberships: z.array(groupMembershipSchema),
  next_page: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
});

/** POST /api/v2/group_memberships (201). */
export const groupMembershipResponseSchema = z.looseObject({ group_membership: groupMembershipSchema });

/** The contract's user fields (every field of zendeskUserSchema but the id). */
export const USER_RECORD_FIELDS = Object.keys(zendeskUserSchema.shape).filter((k) => k !== 'id') as Array<Exclude<keyof ZendeskUserRecord, 'id'>>;

export const KNOWN_ROLES = ['end-user', 'agent', 'admin'] as const;
export const KNOWN_TICKET_RESTRICTIONS = ['organization', 'groups', 'assigned', 'requested'] as const;
/** role_type codes Zendesk documents: 0 custom agent … 5 billing admin. */
export const KNOWN_ROLE_TYPE_MAX = 5;

/**
 * GET /api/v2/users/me. Zendesk answers anonymous callers too, with `id: null`: a 200 here proves
 * nothing until `user.id` is checked.
 */
export const meResponseSchema = z.object({
  user: z.object({
    id: zendeskId.nullish().transform((v) => v ?? null),
    name: text(),
    email: text(),
    role: text(),
    role_type: smallInt(),
    active: flag(),
    suspended: flag(),
  }),
});
type MeResponse = z.infer<typeof meResponseSchema>;
export type ZendeskMe = MeResponse['user'];

const cursorText = z
  .string()
  .min(1)
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);

/**
 * GET /api/v2/incremental/users/cursor: top-level cursors, no meta/links. `users` entries are read one by
 * one (records.ts). Without `end_of_stream` the stream ends where no next cursor is given.
 */
export const usersCursorPageSchema = z
  .object({
    users: z.array(z.unknown()),
    after_cursor: cursorText,
    before_cursor: cursorText,
    end_of_stream: z.boolean().nullish().catch(null),
  })
  .transform((p) => ({ ...p, end_of_stream: p.end_of_stream ?? p.after_cursor === null }));

/**
 * GET /api/v2/users (cursor pagination): `meta.{has_more, after_cursor}`, `links.next`. A recorded page without
 * `include_boundary_indicators` had `has_more: false` and a non-null `links.next`, so `has_more` is trusted
 * when present and `links.next`/the cursor only when it is not (docs/zendesk.md §4).
 */
export const usersListPageSchema = z
  .object({
    users: z.array(z.unknown()),
    meta: z
      .object({ has_more: z.boolean().nullish().catch(null), after_cursor: cursorText })
      .nullish()
      .catch(null),
    links: z
      .object({ next: z.string().nullish().catch(null) })
      .nullish()
      .catch(null),
  })
  .transform((p) => {
    const after = p.meta?.after_cursor ?? null;
    const hasMore = p.meta?.has_more ?? (after !== null && !!p.links?.next);
    return { users: p.users, afterCursor: after, hasMore };
  });

/** GET /api/v2/users/count: `{count: {value, refreshed_at}}` (Zendesk's count is an estimate, refreshed periodically). */
export const usersCountSchema = z.object({ count: z.object({ value: z.number().int().nonnegative() }) });

/** GET /api/v2/users/show_many: the users found among the ids asked for (unknown ids are simply absent). */
export const showManyUsersSchema = z.object({ users: z.array(z.unknown()) });

// ---------------------------------------------------------------------------------------- Ticket events

/**
 * A ticket event, requiring only what the sync uses. `created_at`, `via` and `child_events` are not read:
 * they may be absent or shaped otherwise (`via` is a string at the top level, an object on comments).
 */
export const ticketEventSchema = z.object({
  id: zendeskId,
  ticket_id: zendeskId,
  /** Epoch seconds. */
  timestamp: z.number().int().nonnegative(),
  /** The user who made the update; -1 for system updates. */
  updater_id: zendeskId,
});
export type TicketEvent = z.infer<typeof ticketEventSchema>;

/** GET /api/v2/incremental/ticket_events: time-based; continue with start_time = end_time. */
export const ticketEventsPageSchema = z.object({
  ticket_events: z.array(z.unknown()),
  end_time: z.number().int().nonnegative(),
  end_of_stream: z.boolean(),
  count: z.number().int().nonnegative().optional().catch(undefined),
});

// ---------------------------------------------------------------------------------------- Entitlements

/** One product's entitlement as sent; both fields may be missing (read as unknown). */
const entitlementSchema = z.looseObject({
  name: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
  is_active: z
    .boolean()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
});

/**
 * GET /api/v2/users/{id}/entitlements/full (2026-05 OpenAPI file): `{entitlements: {chat, explore, guide,
 * talk: {name, is_active}}}`. Products are read by name, unknown ones kept; an entry that is not an object
 * reads as no entitlement.
 */
export const entitlementsResponseSchema = z.object({
  entitlements: z.record(z.string(), entitlementSchema.nullable().catch(null)),
});
export type EntitlementsResponse = z.output<typeof entitlementsResponseSchema>;
