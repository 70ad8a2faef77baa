// PUT /api/v2/users/{id} (the fields a seat change touches) and GET /api/v2/custom_roles, with Zendesk's
// refusals, and a log of every change so tests can judge "changed exactly once" and "restored exactly".

import { authorize } from './auth';
import { forbidden, json, recordNotFound, type Reply, type RequestContext } from './http';
import { scopeAllowsWrite } from './tokens';
import type { Role, RoleType, UserData } from './types';
import { ADMIN_ROLE_ID, CUSTOM_ROLE_IDS } from './userGenerator';

/** The account's "Light agent" role (role_type 1): a custom role on Enterprise accounts, fixed here. */
export const LIGHT_AGENT_ROLE_ID = 360_000_100_011;

/** The fields a seat change reads and writes: what the change log records before and after. */
export interface SeatFields {
  role: Role;
  role_type: RoleType;
  custom_role_id: number | null;
  default_group_id: number | null;
}

export interface UserChange {
  at: number;
  userId: number;
  before: SeatFields;
  after: SeatFields;
}

/** Every PUT that changed a seat field, in order (a PUT that changed nothing is not logged). */
export class UserChangeLog {
  private readonly entries: UserChange[] = [];
  record(change: UserChange): void {
    this.entries.push(change);
  }
  all(): readonly UserChange[] {
    return this.entries;
  }
  forUser(userId: number): UserChange[] {
    return this.entries.filter((c) => c.userId === userId);
  }
  clear(): void {
    this.entries.length = 0;
  }
}

export function seatFields(u: Pick<UserData, 'role' | 'role_type' | 'custom_role_id' | 'default_group_id'>): SeatFields {
  return { role: u.role, role_type: u.role_type, custom_role_id: u.custom_role_id, default_group_id: u.default_group_id };
}

function recordInvalid(field: string, description: string): Reply {
  return json(422, { error: 'RecordInvalid', description: 'Record validation errors', details: { [field]: [{ description }] } });
}

/** Whether these fields hold a paid Support seat (agents and admins but light agents and contributors). */
export function holdsPaidSeat(u: { role: Role; role_type: RoleType; active: boolean }): boolean {
  return u.active && u.role !== 'end-user' && u.role_type !== 1 && u.role_type !== 3;
}

const ROLES: readonly Role[] = ['end-user', 'agent', 'admin'];

/**
 * PUT /api/v2/users/{id} with `{user: {role?, custom_role_id?, default_group_id?}}`. Needs `write` or
 * `users:write` and an admin grant. Refuses, as Zendesk does: the account owner's role (422), shared users
 * and shared agents (403: they belong to another account), an unknown custom role (422), and an upgrade to a
 * paid seat when every purchased seat is taken (422, `purchasedSeats` workspace option).
 */
export function updateUserHandler(ctx: RequestContext, id: number): Reply {
  const a = authorize(ctx, { role: 'admin' });
  if (!a.ok) return a.reply;
  if (!scopeAllowsWrite(a.auth.grant.scope, 'users')) return forbidden();
  const ws = ctx.ws;
  const current = ws.userData(id);
  if (!current) return recordNotFound();
  const patch = (ctx.body?.user ?? null) as Record<string, unknown> | null;
  if (patch === null || typeof patch !== 'object') return json(400, { error: 'InvalidValue', description: 'user is required' });
  if (current.shared || current.shared_agent) return forbidden();
  const before = seatFields(current);
  let next: SeatFields = { ...before };
  if ('role' in patch) {
    const role = patch.role as Role;
    if (!ROLES.includes(role)) return recordInvalid('role', `${String(patch.role)} is not a valid role`);
    if (id === ws.ownerId && role !== current.role) return recordInvalid('role', 'The account owner must be an admin');
    next = { ...next, role };
    if (role === 'end-user') next = { role, role_type: null, custom_role_id: null, default_group_id: null };
    else if (role === 'admin') next = { ...next, role_type: 4, custom_role_id: ADMIN_ROLE_ID };
    else if (current.role !== 'agent') next = { ...next, role_type: null, custom_role_id: null };
  }
  if ('custom_role_id' in patch && next.role === 'agent') {
    const roleId = patch.custom_role_id;
    if (roleId === null) next = { ...next, custom_role_id: null, role_type: null };
    else if (roleId === LIGHT_AGENT_ROLE_ID) next = { ...next, custom_role_id: roleId, role_type: 1 };
    else if (typeof roleId === 'number' && CUSTOM_ROLE_IDS.includes(roleId)) next = { ...next, custom_role_id: roleId, role_type: 0 };
    else return recordInvalid('custom_role_id', 'is not a role of this account');
  }
  if ('default_group_id' in patch && next.role !== 'end-user') {
    const group = patch.default_group_id;
    if (group !== null && (typeof group !== 'number' || !Number.isInteger(group) || group <= 0)) return recordInvalid('default_group_id', 'is invalid');
    next = { ...next, default_group_id: group };
  }
  const gainsSeat = holdsPaidSeat({ ...next, active: current.active }) && !holdsPaidSeat(current);
  if (gainsSeat && ws.purchasedSeats !== undefined && ws.paidSeatsInUse() >= ws.purchasedSeats) {
    return recordInvalid('role', 'You have no available agent seats. Purchase more seats to upgrade this user.');
  }
  const changed = (Object.keys(next) as Array<keyof SeatFields>).some((k) => next[k] !== before[k]);
  if (changed) {
    // Read before the role changes (an upgrade must not generate memberships); a downgrade to end user drops them.
    ws.membershipsOf(id);
    if (next.role === 'end-user' && before.role !== 'end-user') ws.dropGroupMemberships(id, ctx.now);
    ws.updateUser(id, {
      ...next,
      ...(next.role === 'end-user' ? { restricted_agent: true, ticket_restriction: 'requested', shared_agent: false, only_private_comments: false } : {}),
      ...(next.role !== 'end-user' && current.role === 'end-user' ? { restricted_agent: false, ticket_restriction: null } : {}),
    });
    ws.userChanges.record({ at: ctx.now, userId: id, before, after: next });
  }
  return json(200, { user: ws.userJson(id) });
}

/** GET /api/v2/custom_roles: the account's agent roles (Enterprise), the light-agent role among them. */
export function listCustomRoles(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'admin' });
  if (!a.ok) return a.reply;
  // The shape of test/fixtures/zendesk/custom-roles.json (OAS CustomRolesResponse), configuration trimmed.
  const role = (id: number, name: string, roleType: number) => ({
    configuration: {
      assign_tickets_to_any_group: false,
      chat_access: roleType !== 1,
      end_user_list_access: roleType === 1 ? 'none' : 'full',
      end_user_profile_access: 'readonly',
      explore_access: roleType === 1 ? 'none' : 'edit',
      light_agent: roleType === 1,
      ticket_access: 'within-groups',
      ticket_editing: roleType !== 1,
    },
    created_at: '2021-03-12T16:32:22Z',
    description: roleType === 1 ? 'Can view and add private comments to tickets.' : `Agents with the ${name} role.`,
    id,
    name,
    role_type: roleType,
    team_member_count: 0,
    updated_at: '2024-09-02T10:11:12Z',
  });
  return json(200, {
    custom_roles: [...CUSTOM_ROLE_IDS.map((id, i) => role(id, `Custom role ${i + 1}`, 0)), role(LIGHT_AGENT_ROLE_ID, 'Light agent', 1)],
    next_page: null,
    previous_page: null,
    count: CUSTOM_ROLE_IDS.length + 1,
  });
}
