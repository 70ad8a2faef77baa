// GET /api/v2/users/count: `{count: {refreshed_at, value}}` with the role filters of the users list. Real
// Zendesk answers an estimate: above 100,000 users it is refreshed once a day, and while it is refreshed
// `refreshed_at` may be null and `value` capped at 100,000 (OAS CountUsers). The sandbox counts the active
// users exactly, refreshed now; `setUserCountEstimate` makes it answer a stale or capped estimate instead.

import { apiWarning } from './apiWarn';
import { authorize } from './auth';
import { json, type Reply, type RequestContext } from './http';
import { roleCodes } from './userQuery';
import { isoSeconds } from './userGenerator';

const KNOWN_PARAMS = new Set(['role', 'role[]', 'permission_set']);

/** What a test makes users/count answer instead of the exact count (see SandboxWorkspace.setUserCountEstimate). */
export interface UserCountEstimate {
  value?: number;
  /** ISO time, or null ("being updated in the background"). */
  refreshedAt?: string | null;
}

export function countUsers(ctx: RequestContext): Reply {
  const a = authorize(ctx, { role: 'staff', read: 'users' });
  if (!a.ok) return a.reply;
  const q = ctx.query;
  const estimate = ctx.ws.userCountEstimate;
  const value = estimate?.value ?? ctx.ws.userStore.activeCount(roleCodes(q));
  const refreshedAt = estimate && estimate.refreshedAt !== undefined ? estimate.refreshedAt : isoSeconds(ctx.now);
  // Key order of the OAS example (UserCountResponseExample).
  return json(200, { count: { refreshed_at: refreshedAt, value } }, apiWarning(q, 'count', KNOWN_PARAMS));
}
