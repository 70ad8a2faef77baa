/**
 * The vocabulary of the license-utilization reports, independent of HTTP: what a validated `/users`
 * query is, and the contract's derived notions (seat, usage, role type names).
 */

export const ROLES = ['end-user', 'agent', 'admin'] as const;
type Role = (typeof ROLES)[number];
/** How a role reads: one Zendesk documents, or `unknown` (an undocumented value; see `roleRaw`). */
export type RoleView = Role | 'unknown';
/** A role filter value: a documented role, or `unknown` (undocumented or absent). */
export type RoleFilter = Role | 'unknown';
export const ROLE_FILTERS = [...ROLES, 'unknown'] as const satisfies readonly RoleFilter[];

export function roleView(role: string | null): RoleView | null {
  if (role === null) return null;
  return (ROLES as readonly string[]).includes(role) ? (role as Role) : 'unknown';
}

/** Zendesk's `role_type` codes, by position: 0 custom agent … 5 billing admin. */
export const ROLE_TYPE_NAMES = ['custom_agent', 'light_agent', 'chat_agent', 'contributor', 'admin', 'billing_admin'] as const;
export type RoleTypeName = (typeof ROLE_TYPE_NAMES)[number];
/** A role type filter value: a name, `none` for users without one, `unknown` for an undocumented code. */
export type RoleTypeFilter = RoleTypeName | 'none' | 'unknown';
export const ROLE_TYPE_FILTERS = [...ROLE_TYPE_NAMES, 'none', 'unknown'] as const satisfies readonly RoleTypeFilter[];

/** A code's name, `unknown` for a code Zendesk does not document (kept as `roleTypeRaw`), null for none. */
export function roleTypeName(code: number | null): RoleTypeName | 'unknown' | null {
  if (code === null) return null;
  return ROLE_TYPE_NAMES[code] ?? 'unknown';
}

export function roleTypeCode(name: RoleTypeName): number {
  return ROLE_TYPE_NAMES.indexOf(name);
}

/** Role types whose agents and admins take a free seat (light agent, contributor); every other one is paid. */
export const FREE_ROLE_TYPE_CODES = [1, 3] as const;

export const TICKET_RESTRICTIONS = ['organization', 'groups', 'assigned', 'requested'] as const;
export type TicketRestriction = (typeof TICKET_RESTRICTIONS)[number];
export type TicketRestrictionFilter = TicketRestriction | 'none' | 'unknown';
export const TICKET_RESTRICTION_FILTERS = [...TICKET_RESTRICTIONS, 'none', 'unknown'] as const satisfies readonly TicketRestrictionFilter[];

export function ticketRestrictionView(value: string | null): TicketRestriction | 'unknown' | null {
  if (value === null) return null;
  return (TICKET_RESTRICTIONS as readonly string[]).includes(value) ? (value as TicketRestriction) : 'unknown';
}

/**
 * `unknown`: Zendesk did not send what decides the seat (role, active, suspended) or sent an undocumented
 * role or role type. Such users are counted apart, never guessed into a class.
 */
export const SEATS = ['none', 'free', 'paid', 'unknown'] as const;
export type Seat = (typeof SEATS)[number];

export const USAGES = ['active', 'inactive'] as const;
export type Usage = (typeof USAGES)[number];

const SORT_FIELDS = ['name', 'createdAt', 'lastLoginAt', 'lastActivityAt', 'ticketInteractions'] as const;
type SortField = (typeof SORT_FIELDS)[number];
export const SORTS = SORT_FIELDS.flatMap((f) => [f, `-${f}`] as const);
export type SortParam = SortField | `-${SortField}`;

export interface Sort {
  field: SortField;
  desc: boolean;
}

export function parseSort(param: SortParam): Sort {
  return param.startsWith('-') ? { field: param.slice(1) as SortField, desc: true } : { field: param as SortField, desc: false };
}

export function sortParam(sort: Sort): SortParam {
  return sort.desc ? `-${sort.field}` : sort.field;
}

export const DEFAULT_SORT: Sort = { field: 'name', desc: false };

/** Every filter of `/users` and `/users.csv`; absent means "any". Lists mean "one of". */
export interface UserFilters {
  role?: RoleFilter[];
  roleType?: RoleTypeFilter[];
  canReportCsv?: boolean;
  chatOnly?: boolean;
  moderator?: boolean;
  restrictedAgent?: boolean;
  shared?: boolean;
  sharedAgent?: boolean;
  suspended?: boolean;
  ticketRestriction?: TicketRestrictionFilter[];
  twoFactorAuthEnabled?: boolean;
  verified?: boolean;
  /** Inclusive: created at or after this instant. */
  createdAfter?: Date;
  /** Exclusive: created before this instant. */
  createdBefore?: Date;
  seat?: Seat[];
  usage?: Usage[];
  /** Case-insensitive substring of the name or the email. */
  q?: string;
  includeDeleted: boolean;
}

/**
 * The activity window: `ticketInteractions` counts events in [asOf − inactiveDays, asOf], and a user is
 * active when their last activity is at or after asOf − inactiveDays. `asOf` is fixed by the first page
 * and carried by the cursor, so every page of one listing judges users at the same instant.
 */
export interface ActivityWindow {
  inactiveDays: number;
  asOf: Date;
}

const DAY_MS = 86_400_000;

export function windowStart(window: ActivityWindow): Date {
  return new Date(window.asOf.getTime() - window.inactiveDays * DAY_MS);
}

/**
 * What a user's `usage` rests on: the last sign-in always, and the ticket activity as far as it is complete
 * (fetched newest first, so the recent window is whole before the older ones).
 */
export function usageBasis(activityDaysComplete: number, inactiveDays: number): string {
  if (activityDaysComplete >= inactiveDays) return `last sign-in and ticket activity (complete for the last ${inactiveDays} days)`;
  if (activityDaysComplete > 0) return `last sign-in and ticket activity of the last ${activityDaysComplete} days only (older activity is still being fetched)`;
  return 'last sign-in only (ticket activity is still being fetched)';
}
