import { roleTypeName, type RoleTypeName, type Role, type Seat, type TicketRestriction, type Usage } from './model';
import type { UserReportRow } from './userQuery';

/** A user as the API answers it (the contract's `User`): camelCase, ids as numbers, ISO-8601 UTC times. */
export interface UserView {
  id: number;
  name: string;
  email: string | null;
  createdAt: string;
  lastLoginAt: string | null;
  role: Role;
  roleType: RoleTypeName | null;
  canReportCsv: boolean;
  chatOnly: boolean;
  moderator: boolean;
  restrictedAgent: boolean;
  shared: boolean;
  sharedAgent: boolean;
  suspended: boolean;
  ticketRestriction: TicketRestriction | null;
  twoFactorAuthEnabled: boolean | null;
  verified: boolean;
  deleted: boolean;
  seat: Seat;
  ticketInteractions: number;
  lastTicketInteractionAt: string | null;
  lastActivityAt: string | null;
  usage: Usage;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function userView(row: UserReportRow): UserView {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: row.created_at.toISOString(),
    lastLoginAt: iso(row.last_login_at),
    role: row.role,
    roleType: roleTypeName(row.role_type),
    canReportCsv: row.report_csv,
    chatOnly: row.chat_only,
    moderator: row.moderator,
    restrictedAgent: row.restricted_agent,
    shared: row.shared,
    sharedAgent: row.shared_agent,
    suspended: row.suspended,
    ticketRestriction: row.ticket_restriction,
    twoFactorAuthEnabled: row.two_factor_auth_enabled,
    verified: row.verified,
    deleted: row.deleted,
    seat: row.seat,
    ticketInteractions: row.ticket_interactions,
    lastTicketInteractionAt: iso(row.last_event_at),
    lastActivityAt: iso(row.last_activity_at),
    usage: row.usage,
  };
}

/** The field order of the JSON object, which is also the CSV's column order. */
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
] as const satisfies ReadonlyArray<keyof UserView>;

// Every field of UserView is a column, and only those: a compile error here means USER_FIELDS is stale.
type MissingField = Exclude<keyof UserView, (typeof USER_FIELDS)[number]>;
const fieldsComplete: [MissingField] extends [never] ? true : MissingField = true;
void fieldsComplete;
