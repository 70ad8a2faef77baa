import { z } from 'zod';
import {
  ROLE_TYPE_NAMES,
  ROLES,
  SEATS,
  SORTS,
  TICKET_RESTRICTIONS,
  USAGES,
  type Role,
  type RoleTypeFilter,
  type Seat,
  type SortParam,
  type TicketRestriction,
  type Usage,
} from '../reports/model';

/**
 * Query parameters and response bodies of the reports (`/users`, `/users.csv`, `/utilization`). The same
 * schemas validate requests, type the responses and generate the OpenAPI document (src/api/openapi.ts).
 * Query values arrive as strings (Express's "simple" parser: a repeated parameter becomes an array,
 * which every parameter here rejects).
 */

const ONCE = 'must be given only once';

/** The message of a failed string check, or ONCE when the parameter was repeated. */
const onceOr = (message: string) => (issue: { input?: unknown }) => (Array.isArray(issue.input) ? ONCE : message);

/** Escapes regex syntax outside character classes (`-` needs none, and JSON Schema's unicode regexes reject `\-`). */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function booleanParam(description: string) {
  return z
    .enum(['true', 'false'], { error: onceOr('must be true or false') })
    .transform((v) => v === 'true')
    .optional()
    .describe(description);
}

/** A comma-separated list of known values (duplicates ignored). */
function listParam<T extends string>(values: readonly T[], description: string) {
  const item = `(?:${values.map(escapeRegex).join('|')})`;
  const pattern = new RegExp(`^${item}(?:,${item})*$`);
  const expected = `one or more of ${values.join(', ')}, separated by commas`;
  return z
    .string({ error: onceOr(`must be ${expected}`) })
    .regex(pattern, {
      error: (issue) => {
        const unknown = String(issue.input)
          .split(',')
          .filter((v) => !(values as readonly string[]).includes(v));
        return unknown.length > 0 ? `has unknown value${unknown.length > 1 ? 's' : ''} ${unknown.map((v) => JSON.stringify(v)).join(', ')}: must be ${expected}` : `must be ${expected}`;
      },
    })
    .transform((s) => [...new Set(s.split(','))] as T[])
    .optional()
    .describe(`${description} Comma-separated list of: ${values.join(', ')}.`);
}

function wholeNumberParam(min: number, max: number, description: string) {
  const message = `must be a whole number from ${min} to ${max}`;
  return z
    .string({ error: onceOr(message) })
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message))
    .optional()
    .describe(description);
}

function instantParam(description: string) {
  const message = 'must be an ISO-8601 date (2024-05-01) or date-time with a zone (2024-05-01T12:00:00Z)';
  return z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: onceOr(message) })
    .transform((s) => new Date(s))
    .optional()
    .describe(description);
}

const ROLE_TYPE_FILTERS = [...ROLE_TYPE_NAMES, 'none'] as const satisfies readonly RoleTypeFilter[];

/** The filters of `/users` and `/users.csv`: one per user-metadata field, plus the derived ones. */
export const userFilterParams = {
  role: listParam<Role>(ROLES, 'Zendesk role.'),
  roleType: listParam<RoleTypeFilter>(ROLE_TYPE_FILTERS, 'Zendesk role type (`none`: users without one).'),
  canReportCsv: booleanParam('Zendesk `report_csv`: can use the CSV report on the Search tab of Reporting.'),
  chatOnly: booleanParam('Chat-only agent.'),
  moderator: booleanParam('Can moderate forums.'),
  restrictedAgent: booleanParam('Agent with restrictions (false for admins and unrestricted agents).'),
  shared: booleanParam('Shared from a different Zendesk Support instance.'),
  sharedAgent: booleanParam('Shared agent from a different Zendesk Support instance.'),
  suspended: booleanParam('Suspended.'),
  ticketRestriction: listParam<TicketRestriction | 'none'>([...TICKET_RESTRICTIONS, 'none'], 'Which tickets the user may access (`none`: no restriction, Zendesk null).'),
  twoFactorAuthEnabled: booleanParam('Two-factor authentication enabled. Users for whom Zendesk reports null match neither true nor false.'),
  verified: booleanParam("Primary identity verified."),
  createdAfter: instantParam('Created at or after this instant (a date means its midnight UTC).'),
  createdBefore: instantParam('Created strictly before this instant (a date means its midnight UTC).'),
  seat: listParam<Seat>(SEATS, 'Seat: `none` (end users, deleted users), `free` (light agents, contributors), `paid` (every other agent or admin, suspended ones included).'),
  usage: listParam<Usage>(USAGES, '`active`: last activity within `inactiveDays` days; `inactive` otherwise (never active included).'),
  inactiveDays: wholeNumberParam(1, 3650, 'Activity window in days for `ticketInteractions`, `usage` and the `usage` filter (default: the server\'s INACTIVE_AFTER_DAYS, 30 unless configured).'),
  q: z
    .string({ error: onceOr('must be text') })
    .max(200, 'must be at most 200 characters')
    // PostgreSQL text cannot hold NUL: `q=%00` used to be a 500 (found by test/chaos/bad-input).
    .refine((q) => !q.includes('\u0000'), 'must not contain NUL characters')
    .optional()
    .describe('Case-insensitive substring of the name or the email (empty: no filter).'),
  includeDeleted: booleanParam('Include deleted users (Zendesk `active: false`); default false.'),
  sort: z
    .enum(SORTS as unknown as [SortParam, ...SortParam[]], { error: onceOr(`must be one of ${SORTS.join(', ')}`) })
    .optional()
    .describe(
      'Order (default `name`); `-` for descending. Ties are broken by id in the same direction. `name` is byte (code point) order; users without a `lastLoginAt` / `lastActivityAt` come last in both directions.',
    ),
};

export const UsersQuery = z.strictObject({
  ...userFilterParams,
  limit: wholeNumberParam(1, 500, 'Page size (default 100).'),
  cursor: z
    .string({ error: onceOr('is not a cursor issued by this API') })
    .min(1, 'must not be empty')
    .max(4096, 'is not a cursor issued by this API')
    .optional()
    .describe('`nextCursor` of the previous page, with the same other parameters (another sort or other filters: 400).'),
});

export const UsersCsvQuery = z.strictObject(userFilterParams);

export const UtilizationQuery = z.strictObject({ inactiveDays: userFilterParams.inactiveDays });

// ------------------------------------------------------------------------------------------ responses

const timestamp = z.iso.datetime().describe('ISO-8601 UTC timestamp');

export const User = z
  .object({
    id: z.number().int().describe('Zendesk user id'),
    name: z.string(),
    email: z.string().nullable(),
    createdAt: timestamp.describe('Zendesk `created_at`'),
    lastLoginAt: timestamp.nullable().describe('Zendesk `last_login_at`; null if the user never signed in'),
    role: z.enum(ROLES),
    roleType: z.enum(ROLE_TYPE_NAMES).nullable().describe('Zendesk `role_type` by name; null when Zendesk has none'),
    canReportCsv: z.boolean().describe('Zendesk `report_csv`'),
    chatOnly: z.boolean(),
    moderator: z.boolean(),
    restrictedAgent: z.boolean(),
    shared: z.boolean(),
    sharedAgent: z.boolean(),
    suspended: z.boolean(),
    ticketRestriction: z.enum(TICKET_RESTRICTIONS).nullable(),
    twoFactorAuthEnabled: z.boolean().nullable(),
    verified: z.boolean(),
    deleted: z.boolean().describe('Zendesk `active: false`'),
    seat: z.enum(SEATS).describe('`none` for end users and deleted users, `free` for light agents and contributors, `paid` for every other agent or admin (suspended included)'),
    ticketInteractions: z
      .number()
      .int()
      .min(0)
      .describe('Ticket updates made by the user (ticket events with the user as updater, each counted once) in the last `inactiveDays` days, up to the listing\'s as-of instant'),
    lastTicketInteractionAt: timestamp
      .nullable()
      .describe('The newest ticket update by the user among all synced events (not limited to the window); null if none'),
    lastActivityAt: timestamp.nullable().describe('The later of lastLoginAt and lastTicketInteractionAt; null if both are null'),
    usage: z.enum(USAGES).describe('`active` when lastActivityAt is within `inactiveDays` days of the as-of instant, else `inactive`'),
  })
  .describe('A Zendesk user of the integration with its seat and activity');

export const UserList = z.object({
  users: z.array(User),
  total: z.number().int().min(0).describe('Number of users matching the filters (all pages)'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
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
    paidSeats: SeatSplit.describe('Paid seats (agents and admins other than light agents and contributors). A suspended agent still holds its paid seat until downgraded to end user.'),
    freeSeats: z
      .object({ total: z.number().int().min(0), active: z.number().int().min(0), inactive: z.number().int().min(0) })
      .describe('Free seats (light agents, contributors), by activity; total = active + inactive'),
    byRoleType: z
      .object(Object.fromEntries([...ROLE_TYPE_NAMES, 'none'].map((k) => [k, SeatSplit])) as Record<RoleTypeFilter, typeof SeatSplit>)
      .describe('Agents and admins (not deleted) by role type (`none`: no role type), suspended ones counted as suspended only'),
    reclaimable: z.object({
      count: z.number().int().min(0).describe('paidSeats.suspended + paidSeats.inactive'),
      users: z
        .array(
          z.object({
            id: z.number().int(),
            name: z.string(),
            email: z.string().nullable(),
            reason: z.enum(['suspended', 'inactive']).describe('`suspended` wins when both apply'),
            lastActivityAt: timestamp.nullable(),
          }),
        )
        .describe('Every suspended or inactive paid seat, least recently active first (never active first), then by id'),
    }),
  })
  .describe('License utilization of the integration\'s Zendesk (agents and admins that are not deleted)');

export type UsersQueryOutput = z.output<typeof UsersQuery>;
export type UsersCsvQueryOutput = z.output<typeof UsersCsvQuery>;
