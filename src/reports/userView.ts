import { roleTypeName, roleView, ticketRestrictionView, type RoleTypeName, type RoleView, type Seat, type TicketRestriction, type Usage } from './model';
import type { ListingRow, UserReportRow } from './userQuery';

/**
 * A user as the API answers it (the contract's `User`): camelCase, ids as numbers, ISO-8601 UTC times.
 * Every Zendesk field is `null` when Zendesk did not send it (unknown, never a default); an undocumented
 * enum value reads `unknown`, with Zendesk's value in the `…Raw` field beside it.
 */
export interface UserView {
  id: number;
  name: string | null;
  email: string | null;
  createdAt: string | null;
  lastLoginAt: string | null;
  role: RoleView | null;
  roleType: RoleTypeName | 'unknown' | null;
  canReportCsv: boolean | null;
  chatOnly: boolean | null;
  moderator: boolean | null;
  restrictedAgent: boolean | null;
  shared: boolean | null;
  sharedAgent: boolean | null;
  suspended: boolean | null;
  ticketRestriction: TicketRestriction | 'unknown' | null;
  twoFactorAuthEnabled: boolean | null;
  verified: boolean | null;
  deleted: boolean | null;
  seat: Seat;
  ticketInteractions: number;
  lastTicketInteractionAt: string | null;
  lastActivityAt: string | null;
  usage: Usage;
  seatReason: string;
  roleRaw: string | null;
  roleTypeRaw: number | null;
  ticketRestrictionRaw: string | null;
  usageBasis: string;
}

/** A timestamp as ISO-8601 UTC (a listing row has it as that text already: src/reports/userQuery.ts listingSql). */
const iso = (d: Date | string | null): string | null => (d === null ? null : typeof d === 'string' ? d : d.toISOString());

/** `basis`: what `usage` rests on for the whole listing (usageBasis in model.ts). */
export function userView(row: UserReportRow | ListingRow, basis: string): UserView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: iso(row.created_at),
    lastLoginAt: iso(row.last_login_at),
    role: roleView(row.role),
    roleType: roleTypeName(row.role_type),
    canReportCsv: row.report_csv,
    chatOnly: row.chat_only,
    moderator: row.moderator,
    restrictedAgent: row.restricted_agent,
    shared: row.shared,
    sharedAgent: row.shared_agent,
    suspended: row.suspended,
    ticketRestriction: ticketRestrictionView(row.ticket_restriction),
    twoFactorAuthEnabled: row.two_factor_auth_enabled,
    verified: row.verified,
    deleted: row.deleted,
    seat: row.seat,
    ticketInteractions: row.ticket_interactions,
    lastTicketInteractionAt: iso(row.last_event_at),
    lastActivityAt: iso(row.last_activity_at),
    usage: row.usage,
    seatReason: row.seat_reason,
    roleRaw: row.role,
    roleTypeRaw: row.role_type,
    ticketRestrictionRaw: row.ticket_restriction,
    usageBasis: basis,
  };
}

/** The CSV's column order (and the JSON object's, for the contract's fields). */
export const USER_FIELDS = [
  'id',
  'name',
  'email',
  'createdAt',
  'lastLoginAt',
  'role',
  'roleType',
  'canReportCsv',
  'chatOnly',
  'moderator',
  'restrictedAgent',
  'shared',
  'sharedAgent',
  'suspended',
  'ticketRestriction',
  'twoFactorAuthEnabled',
  'verified',
  'deleted',
  'seat',
  'ticketInteractions',
  'lastTicketInteractionAt',
  'lastActivityAt',
  'usage',
  // Added after the first contract: appended, so the earlier columns keep their positions in CSV files.
  'seatReason',
  'roleRaw',
  'roleTypeRaw',
  'ticketRestrictionRaw',
  'usageBasis',
] as const satisfies ReadonlyArray<keyof UserView>;

// Every field of UserView is a column, and only those: a compile error here means USER_FIELDS is stale.
type MissingField = Exclude<keyof UserView, (typeof USER_FIELDS)[number]>;
const fieldsComplete: [MissingField] extends [never] ? true : MissingField = true;
void fieldsComplete;
