// GET /api/v2/users/{id}/entitlements/full (OAS 2026-05): the user's role and status in Chat, Explore,
// Guide and Talk. Light agents and contributors need a paid seat when they also hold a Chat agent, Guide
// agent/admin or Explore admin/editor role, so these entitlements decide their seat.

import { authorize } from './auth';
import { forbidden, json, recordNotFound, type Reply, type RequestContext } from './http';
import { hash32 } from './prng';
import type { Entitlement, UserData, UserEntitlements } from './types';

const on = (name: string): Entitlement => ({ name, is_active: true });
/** No role in a product: the product's base role name, inactive (a sandbox choice; Zendesk does not document it). */
const off = (name: string): Entitlement => ({ name, is_active: false });

function entitlements(chat: Entitlement, explore: Entitlement, guide: Entitlement, talk: Entitlement): UserEntitlements {
  return { chat, explore, guide, talk };
}

const NONE = () => entitlements(off('agent'), off('viewer'), off('viewer'), off('agent'));

/**
 * The entitlements the generator gives a user: admins are admins everywhere, agents agents, end users
 * nothing. Light agents and contributors: most hold no paid product role, some do (deterministic by id).
 */
export function generatedEntitlements(seed: number, user: UserData): UserEntitlements {
  if (user.role === 'end-user') return NONE();
  if (user.role === 'admin') return entitlements(on('admin'), on('admin'), on('admin'), on('admin'));
  if (user.role_type === 2) return entitlements(on('agent'), off('viewer'), off('viewer'), off('agent'));
  if (user.role_type !== 1 && user.role_type !== 3) return entitlements(on('agent'), on('viewer'), on('agent'), on('agent'));
  const e = NONE();
  const roll = hash32(seed, 0xe417, user.id) % 100;
  if (roll < 55) return e; // no other product role
  if (roll < 67)
    e.guide = on('viewer'); // free for light agents
  else if (roll < 75) e.chat = on('agent');
  else if (roll < 81) e.guide = on('agent');
  else if (roll < 85) e.guide = on('admin');
  else if (roll < 90) e.explore = on('editor');
  else if (roll < 94) e.explore = on('admin');
  else e.explore = on('viewer'); // free as well
  return e;
}

/** Agents may read it (OAS "Allowed For: Agents"), with scope `read` or `users:read`. */
export function userEntitlements(ctx: RequestContext, id: number): Reply {
  const a = authorize(ctx, { role: 'staff', read: 'users' });
  if (!a.ok) return a.reply;
  // Plans without the endpoint (or a role without access) answer like any forbidden page.
  if (!ctx.ws.entitlementsReadable) return forbidden();
  const e = ctx.ws.entitlements(id);
  if (!e) return recordNotFound();
  return json(200, { entitlements: e });
}
