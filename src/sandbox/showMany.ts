// GET /api/v2/users/show_many?ids=…: up to 100 users by id in one request, what a sync uses to find out
// what became of seat holders that left the role-filtered list (an end user now → downgraded; absent →
// gone). Unknown ids are simply absent; deleted users (active: false) only with include_deleted=true.
// Shape: OAS ShowManyUsers (`{users: [...]}`); order and the 400 for too many ids are not documented.

import { apiWarning } from './apiWarn';
import { authorize } from './auth';
import { json, type Reply, type RequestContext } from './http';

const SHOW_MANY_MAX_IDS = 100;
const KNOWN_PARAMS = new Set(['ids', 'external_ids', 'include_deleted', 'include']);

function invalid(description: string): Reply {
  return json(400, { error: 'InvalidValue', description });
}

export function showManyUsers(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'staff', read: 'users' });
  if (!a.ok) return a.reply;
  const q = ctx.query;
  const raw = q.get('ids');
  if (raw === null || raw.trim() === '') {
    // external_ids lookups are not simulated: nothing in the product uses them.
    return invalid(q.has('external_ids') ? 'external_ids is not supported by the sandbox; use ids.' : 'ids is required.');
  }
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length > SHOW_MANY_MAX_IDS) return invalid(`Too many ids: at most ${SHOW_MANY_MAX_IDS} per request.`);
  const includeDeleted = q.get('include_deleted') === 'true';
  const store = ctx.ws.userStore;
  const indexes = new Set<number>();
  for (const p of parts) {
    // Not an id (or an id nobody has): absent from the answer, as an unknown id is.
    if (!/^\d+$/.test(p)) continue;
    const index = store.indexOf(Number(p));
    if (index === undefined) continue;
    if (!includeDeleted && !store.isActive(index)) continue;
    indexes.add(index);
  }
  const users = [...indexes].sort((x, y) => store.idAt(x) - store.idAt(y)).map((i) => ctx.ws.userJsonAt(i));
  return json(200, { users }, apiWarning(q, 'show_many', KNOWN_PARAMS));
}
