// GET /api/v2/users/{id}/group_memberships (offset pages) and POST /api/v2/group_memberships, with the
// refusals a reclamation's undo meets: an end user cannot be a member, nor a member twice.

import { authorize } from './auth';
import type { Membership } from './groupMemberships';
import { forbidden, json, recordNotFound, type Reply, type RequestContext } from './http';
import { scopeAllowsWrite } from './tokens';
import { isoSeconds } from './userGenerator';

const MAX_PAGE_SIZE = 100;

function membershipJson(ctx: RequestContext, m: Membership, defaultGroupId: number | null): Record<string, unknown> {
  // The field set of the OAS GroupMembershipObject (test/fixtures/zendesk/group-memberships.json).
  return {
    id: m.id,
    url: `${ctx.baseUrl}/api/v2/group_memberships/${m.id}.json`,
    user_id: m.userId,
    group_id: m.groupId,
    default: m.groupId === defaultGroupId,
    created_at: isoSeconds(m.createdMs),
    updated_at: isoSeconds(m.updatedMs),
  };
}

function recordInvalid(field: string, description: string): Reply {
  return json(422, { error: 'RecordInvalid', description: 'Record validation errors', details: { [field]: [{ description }] } });
}

/** GET /api/v2/users/{id}/group_memberships: agents and admins, scope `read` or `users:read`; `page`, `per_page` ≤ 100. */
export function listUserGroupMemberships(ctx: RequestContext, userId: number): Reply {
  const a = authorize(ctx, { role: 'staff', read: 'users' });
  if (!a.ok) return a.reply;
  const user = ctx.ws.userData(userId);
  if (!user) return recordNotFound();
  const q = ctx.query;
  const page = q.has('page') ? Number(q.get('page')) : 1;
  const perPageAsked = q.has('per_page') ? Number(q.get('per_page')) : MAX_PAGE_SIZE;
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPageAsked) || perPageAsked < 1) {
    return json(400, { error: 'InvalidPaginationParameter', description: 'page and per_page must be positive integers.' });
  }
  const perPage = Math.min(perPageAsked, MAX_PAGE_SIZE);
  const all = [...ctx.ws.membershipsOf(userId)].sort((x, y) => x.id - y.id);
  const skip = (page - 1) * perPage;
  const link = (p: number) => `${ctx.baseUrl}/api/v2/users/${userId}/group_memberships.json?page=${p}&per_page=${perPage}`;
  return json(200, {
    group_memberships: all.slice(skip, skip + perPage).map((m) => membershipJson(ctx, m, user.default_group_id)),
    next_page: skip + perPage < all.length ? link(page + 1) : null,
    previous_page: page > 1 ? link(page - 1) : null,
    count: all.length,
  });
}

/** POST /api/v2/group_memberships `{group_membership: {user_id, group_id}}`: admins, scope `write` or `users:write`; 201. */
export function createGroupMembership(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'admin' });
  if (!a.ok) return a.reply;
  if (!scopeAllowsWrite(a.auth.grant.scope, 'users')) return forbidden();
  const body = (ctx.body?.group_membership ?? null) as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return json(400, { error: 'InvalidValue', description: 'group_membership is required' });
  const userId = Number(body.user_id);
  const groupId = Number(body.group_id);
  const user = Number.isSafeInteger(userId) ? ctx.ws.userData(userId) : undefined;
  if (!user || !user.active) return recordInvalid('user', 'User cannot be blank');
  // Any positive id is a group, as default_group_id is for the users PUT (tests set their own).
  if (!Number.isSafeInteger(groupId) || groupId <= 0 || ctx.ws.memberships.isDeleted(groupId)) return recordInvalid('group', 'Group cannot be blank');
  if (user.role === 'end-user') return recordInvalid('user_id', 'is not an agent; only agents can be members of a group');
  const seed = ctx.ws.memberSeed(userId)!;
  if (ctx.ws.memberships.has(seed, groupId)) return recordInvalid('user_id', 'is already a member of this group');
  const m = ctx.ws.memberships.add(seed, groupId, ctx.now);
  return json(201, { group_membership: membershipJson(ctx, m, user.default_group_id) });
}
