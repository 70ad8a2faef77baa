import { z } from 'zod';
import {
  ROLE_FILTERS,
  ROLE_TYPE_FILTERS,
  ROLE_TYPE_NAMES,
  ROLES,
  SEATS,
  SORTS,
  TICKET_RESTRICTION_FILTERS,
  TICKET_RESTRICTIONS,
  USAGES,
  type RoleFilter,
  type RoleTypeFilter,
  type Seat,
  type SortParam,
  type TicketRestrictionFilter,
  type Usage,
} from '../reports/model';
import { DEFAULT_ACTIVITY_RETENTION_DAYS } from '../config';
import { SyncStreams } from './schemas';
import { booleanParam, instantParam, listParam, onceOr, wholeNumberParam } from './queryParams';

/**
 * Query parameters and response bodies of the reports (`/users`, `/users.csv`, `/utilization`). The same
 * schemas validate requests, type the responses and generate the OpenAPI document (src/api/openapi.ts).
 * Query values arrive as strings (Express's "simple" parser: a repeated parameter becomes an array,
 * which every parameter here rejects).
 */

const SEAT_TEXT =
  '`none` (end users, deleted users); `free` (light agents and contributors without a seat-requiring role in another product); `paid` (every other agent or admin, suspended ones included, and light agents or contributors whose entitlements give them a Chat agent, Guide agent/admin or Explore admin/editor role); `unknown` (Zendesk did not send the role, `active` or `suspended`, or sent a role or role type it does not document: such users are counted apart, never guessed into a class). `seatReason` says which case applies.';

/**
 * What a boolean filter does with unknowns: Zendesk may leave a field out (docs/zendesk.md), and an absent
 * field is stored as unknown (null), so `true` and `false` match only users Zendesk said it of.
 */
const STRICT = 'Users for whom Zendesk sent no value (null, unknown) match neither true nor false.';

/**
 * `inactiveDays`, capped by the activity retention: ticket events older than ACTIVITY_RETENTION_DAYS are
 * deleted by housekeeping, so a longer window would count less than it says.
 */
function inactiveDaysParam(maxDays: number) {
  return wholeNumberParam(
    1,
    maxDays,
    `Activity window in days for \`ticketInteractions\`, \`usage\` and the \`usage\` filter (default: the server's INACTIVE_AFTER_DAYS, 30 unless configured). At most the server's ACTIVITY_RETENTION_DAYS (${DEFAULT_ACTIVITY_RETENTION_DAYS} unless configured; this server: ${maxDays}): older ticket activity is not kept.`,
    `must be at most ${maxDays}: ticket activity is kept for ${maxDays} days (ACTIVITY_RETENTION_DAYS)`,
  );
}

/** The filters of `/users` and `/users.csv`: one per user-metadata field, plus the derived ones. */
const userFilterParams = {
  role: listParam<RoleFilter>(ROLE_FILTERS, 'Zendesk role (`unknown`: Zendesk sent none, or a value it does not document).'),
  roleType: listParam<RoleTypeFilter>(
    ROLE_TYPE_FILTERS,
    'Zendesk role type (`none`: users without one, including users whose record did not carry the field; `unknown`: a code Zendesk does not document, see `roleTypeRaw`).',
  ),
  canReportCsv: booleanParam(`Zendesk \`report_csv\`: can use the CSV report on the Search tab of Reporting (an inert field Zendesk may deprecate). ${STRICT}`),
  chatOnly: booleanParam(
    `Zendesk \`chat_only\`: \`true\` matches only users Zendesk says are chat-only agents. ${STRICT} Live accounts of 2024–25 do not send this field at all, so it is usually null. It is not derived from \`role_type\` 2 (chat agent): no public recording shows the two together, so a derived value would be a guess; filter \`roleType=chat_agent\` for what Zendesk does say.`,
  ),
  moderator: booleanParam(`Can moderate forums. ${STRICT}`),
  restrictedAgent: booleanParam(`Agent with restrictions (false for admins and unrestricted agents). ${STRICT}`),
  shared: booleanParam(`Shared from a different Zendesk Support instance. ${STRICT}`),
  sharedAgent: booleanParam(`Shared agent from a different Zendesk Support instance. ${STRICT}`),
  suspended: booleanParam(`Suspended. ${STRICT}`),
  ticketRestriction: listParam<TicketRestrictionFilter>(
    TICKET_RESTRICTION_FILTERS,
    'Which tickets the user may access (`none`: no restriction, Zendesk null or absent; `unknown`: a value Zendesk does not document, see `ticketRestrictionRaw`).',
  ),
  twoFactorAuthEnabled: booleanParam(`Two-factor authentication enabled (Zendesk often reports null, admins included). ${STRICT}`),
  verified: booleanParam(`Primary identity verified. ${STRICT}`),
  createdAfter: instantParam('Created at or after this instant (a date means its midnight UTC).'),
  createdBefore: instantParam('Created strictly before this instant (a date means its midnight UTC).'),
  seat: listParam<Seat>(SEATS, `Seat (see \`User.seat\`): ${SEAT_TEXT}`),
  usage: listParam<Usage>(USAGES, '`active`: last activity within `inactiveDays` days; `inactive` otherwise (never active included).'),
  inactiveDays: inactiveDaysParam(DEFAULT_ACTIVITY_RETENTION_DAYS),
  q: z
    .string({ error: onceOr('must be text') })
    .max(200, 'must be at most 200 characters')
    // PostgreSQL text cannot hold NUL: `q=%00` used to be a 500 (found by test/chaos/bad-input).
    .refine((q) => !q.includes('\u0000'), 'must not contain NUL characters')
    .optional()
    .describe('Case-insensitive substring of the name or the email (empty: no filter).'),
  includeDeleted: booleanParam(
    'Include deleted users (Zendesk `active: false`); default false. Users whose `active` Zendesk did not send are always listed (`deleted: null`).',
  ),
  sort: z
    .enum(SORTS as unknown as [SortParam, ...SortParam[]], { error: onceOr(`must be one of ${SORTS.join(', ')}`) })
    .optional()
    .describe(
      'Order (default `name`); `-` for descending. Ties are broken by id in the same direction. `name` is byte (code point) order; users without a `lastLoginAt` / `lastActivityAt` come last in both directions.',
    ),
};

/** `limit` and `cursor` of a paginated listing; `sameAs` says what a cursor must be passed back with. */
function pageParams(sameAs: string) {
  return {
    limit: wholeNumberParam(1, 500, 'Page size (default 100).'),
    cursor: z
      .string({ error: onceOr('is not a cursor issued by this API') })
      .min(1, 'must not be empty')
      .max(4096, 'is not a cursor issued by this API')
      .optional()
      .describe(`\`nextCursor\` of the previous page, with ${sameAs}: 400).`),
  };
}

/** The query schemas of the reports for a server whose ACTIVITY_RETENTION_DAYS is `maxInactiveDays`. */
export function reportQuerySchemas(maxInactiveDays: number) {
  const filters = { ...userFilterParams, inactiveDays: inactiveDaysParam(maxInactiveDays) };
  return {
    UsersQuery: z.strictObject({
      ...filters,
      ...pageParams('the same other parameters (another sort or other filters'),
    }),
    UsersCsvQuery: z.strictObject({
      ...filters,
      raw: booleanParam(
        "`true`: every value exactly as Zendesk sent it, for programs that parse the file. By default (`false`) a text value that a spreadsheet would evaluate as a formula — it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, or a full-width `＝` `＋` `－` `＠` — is written with a leading `'` (OWASP's advice against CSV injection: Zendesk end users choose their own names, e.g. `=HYPERLINK(…)`), which spreadsheets display as text. This applies to text fields only (a name or email that reads `-5` becomes `'-5`); numbers such as `id`, `ticketInteractions` and `roleTypeRaw` are never changed.",
      ),
    }),
    UtilizationQuery: z.strictObject({ inactiveDays: filters.inactiveDays }),
    ReclaimableQuery: z.strictObject({
      inactiveDays: filters.inactiveDays,
      ...pageParams('the same `inactiveDays` (another value'),
    }),
  };
}

/** With the default retention (the router and the OpenAPI document use the server's own: reportRoutes in routes/reports.ts). */
export const { UsersQuery, UsersCsvQuery, UtilizationQuery, ReclaimableQuery } = reportQuerySchemas(DEFAULT_ACTIVITY_RETENTION_DAYS);

// ------------------------------------------------------------------------------------------ responses

const timestamp = z.iso.datetime().describe('ISO-8601 UTC timestamp');

const unknownText = 'null when Zendesk did not send it (unknown, never a default)';
const flag = (what: string) => z.boolean().nullable().describe(`${what}; ${unknownText}`);

export const User = z
  .object({
    id: z.number().int().describe('Zendesk user id'),
    name: z.string().nullable().describe(`Zendesk \`name\`; ${unknownText}`),
    email: z.string().nullable(),
    createdAt: timestamp.nullable().describe(`Zendesk \`created_at\`; ${unknownText}`),
    lastLoginAt: timestamp
      .nullable()
      .describe(
        "Zendesk `last_login_at`: the last sign-in to Zendesk Support **or the last request made with one of the user's API tokens** (Zendesk counts both), so a service account driven by an API token looks active. Null if never (or not sent)",
      ),
    role: z
      .enum([...ROLES, 'unknown'])
      .nullable()
      .describe(`Zendesk \`role\`; \`unknown\` for a value Zendesk does not document (see \`roleRaw\`); ${unknownText}`),
    roleType: z
      .enum([...ROLE_TYPE_NAMES, 'unknown'])
      .nullable()
      .describe(
        'Zendesk `role_type` by name; `unknown` for a code Zendesk does not document (see `roleTypeRaw`); null when Zendesk has none or did not send it',
      ),
    canReportCsv: flag('Zendesk `report_csv`'),
    chatOnly: flag('Zendesk `chat_only` (live accounts of 2024–25 do not send it; not derived from the role type)'),
    moderator: flag('Zendesk `moderator`'),
    restrictedAgent: flag('Zendesk `restricted_agent`'),
    shared: flag('Zendesk `shared`'),
    sharedAgent: flag('Zendesk `shared_agent`'),
    suspended: flag('Zendesk `suspended`'),
    ticketRestriction: z
      .enum([...TICKET_RESTRICTIONS, 'unknown'])
      .nullable()
      .describe('Zendesk `ticket_restriction`; `unknown` for a value Zendesk does not document (see `ticketRestrictionRaw`); null for none or not sent'),
    twoFactorAuthEnabled: flag('Zendesk `two_factor_auth_enabled`'),
    verified: flag('Zendesk `verified`'),
    deleted: flag('Zendesk `active: false`'),
    seat: z.enum(SEATS).describe(SEAT_TEXT),
    ticketInteractions: z
      .number()
      .int()
      .min(0)
      .describe(
        "Ticket updates made by the user (ticket events with the user as updater, each counted once) in the last `inactiveDays` days, up to the listing's as-of instant",
      ),
    lastTicketInteractionAt: timestamp
      .nullable()
      .describe('The newest ticket update by the user among all synced events (not limited to the window); null if none'),
    lastActivityAt: timestamp.nullable().describe('The later of lastLoginAt and lastTicketInteractionAt; null if both are null'),
    usage: z.enum(USAGES).describe('`active` when lastActivityAt is within `inactiveDays` days of the as-of instant, else `inactive`'),
    seatReason: z
      .string()
      .describe(
        'Why the seat is what it is, in words: e.g. "admin", "suspended agent with a custom role", "light agent with a Chat agent role", "Zendesk did not send the role"',
      ),
    roleRaw: z.string().nullable().describe('Zendesk `role` exactly as sent'),
    roleTypeRaw: z.number().int().nullable().describe('Zendesk `role_type` exactly as sent'),
    ticketRestrictionRaw: z.string().nullable().describe('Zendesk `ticket_restriction` exactly as sent'),
    usageBasis: z
      .string()
      .describe(
        'What `usage` rests on: the last sign-in, and the ticket activity as far as it is complete (fetched newest first: while the backfill runs, only its recent days), e.g. "last sign-in and ticket activity (complete for the last 30 days)"',
      ),
  })
  .describe(
    'A Zendesk user of the integration with its seat and activity. Only `id` is certain: Zendesk may leave any other field out, and the API then says null rather than guess.',
  );

export const UserList = z.object({
  users: z.array(User),
  total: z.number().int().min(0).describe('Number of users matching the filters (all pages)'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  completeness: SyncStreams.describe(
    "How complete the listing's data is, stream by stream (the seat holders come first, end users and older ticket activity later)",
  ),
});

const SeatSplit = z.object({
  total: z.number().int().min(0).describe('active + inactive + suspended'),
  active: z.number().int().min(0),
  inactive: z.number().int().min(0),
  suspended: z.number().int().min(0).describe('Counted here only, whatever their activity'),
});

export const Utilization = z
  .object({
    asOf: timestamp.describe('The instant activity is judged at'),
    inactiveDays: z.number().int().min(1),
    lastSyncedAt: timestamp.nullable().describe('End of the last successful sync; null if none yet'),
    paidSeats: SeatSplit.describe(
      'Paid seats (agents and admins other than light agents and contributors). A suspended agent still holds its paid seat until downgraded to end user.',
    ),
    freeSeats: z
      .object({ total: z.number().int().min(0), active: z.number().int().min(0), inactive: z.number().int().min(0) })
      .describe('Free seats (light agents, contributors), by activity; total = active + inactive'),
    byRoleType: z
      .object(Object.fromEntries(ROLE_TYPE_FILTERS.map((k) => [k, SeatSplit])) as Record<RoleTypeFilter, typeof SeatSplit>)
      .describe(
        'Agents and admins (not deleted) whose seat is known, by role type (`none`: no role type; `unknown`: an undocumented code whose seat is nonetheless known — always 0 today, as such users have an unknown seat), suspended ones counted as suspended only',
      ),
    unknownSeats: z
      .object({
        total: z.number().int().min(0),
        byReason: z.record(z.string(), z.number().int().min(0)).describe('How many, by `seatReason`'),
      })
      .describe(
        'Users not known to be end users or deleted whose seat cannot be told (`seat: unknown`): Zendesk left out the role, `active` or `suspended`, or sent values it does not document. Counted here only, in no other figure.',
      ),
    reclaimable: z
      .object({
        count: z.number().int().min(0).describe('paidSeats.suspended + paidSeats.inactive'),
        suspended: z.number().int().min(0),
        inactive: z.number().int().min(0),
      })
      .describe(
        'How many paid seats can be reclaimed. The seats themselves: `GET /v1/integrations/{id}/reclaimable` (paginated; before, they were listed here in full)',
      ),
    usageBasis: z.string().describe('What active and inactive rest on (see `User.usageBasis`)'),
    savings: z
      .object({
        seatPrice: z.object({ amount: z.number(), currency: z.string(), per: z.enum(['month', 'year']) }),
        potential: z.object({ seats: z.number().int(), amount: z.number() }).describe('Reclaimable paid seats × price (per `seatPrice.per`)'),
        realized: z
          .object({ seats: z.number().int(), amount: z.number() })
          .describe('Seats freed by reclamations and still free (not undone, not upgraded again) × price'),
        renewal: z
          .object({
            date: z.string(),
            purchasedSeats: z.number().int().nullable(),
            seatsInUse: z.number().int().describe('Paid seats that are not reclaimable'),
            buffer: z.number().int().describe('5 % of the seats in use, at least 1'),
            recommendedSeats: z.number().int().describe('seatsInUse + buffer: buy this many at renewal, after reclaiming the rest'),
            seatsToDrop: z.number().int().nullable().describe('purchasedSeats − recommendedSeats (at least 0); null without purchasedSeats'),
            keep: z
              .object({
                users: z.string().describe('`/users` filtered to the seats in use (paid, not suspended, active within the same `inactiveDays`), by name'),
                csv: z.string().describe('The same list as `users.csv`'),
              })
              .describe(
                'The agents to keep at renewal, `seatsInUse` of them as of the request. Choose them in Zendesk when lowering the seat count: without a choice Zendesk downgrades agents alphabetically.',
              ),
          })
          .nullable()
          .describe('Set when the settings have a renewalDate'),
      })
      .nullable()
      .optional()
      .describe("From the integration's `seatPrice` (PATCH …/settings); null without one"),
    completeness: SyncStreams.describe(
      'How complete the data behind these figures is, stream by stream: a final answer once `seatHolders` and `ticketEvents` are complete',
    ),
  })
  .describe("License utilization of the integration's Zendesk (agents and admins that are not deleted)");

const ReclaimableSeat = z.object({
  id: z.number().int(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  reason: z.enum(['suspended', 'inactive']).describe('`suspended` wins when both apply'),
  seatReason: z.string().describe('Why the seat is paid (see `User.seatReason`)'),
  lastActivityAt: timestamp.nullable(),
});

export const ReclaimableList = z
  .object({
    users: z.array(ReclaimableSeat).describe('Suspended or inactive paid seats, least recently active first (never active first), then by id'),
    total: z.number().int().min(0),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  })
  .describe('The reclaimable paid seats, a page at a time');
