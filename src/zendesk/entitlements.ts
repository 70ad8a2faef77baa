import type { EntitlementsResponse } from './schemas';

/**
 * What a light agent's or contributor's entitlements in other Zendesk products mean for their Support seat.
 * Zendesk: light agents and contributors take no seat, unless they also hold a Chat agent, Guide agent or
 * admin, or Explore admin or editor role; a Guide viewer does not (docs/zendesk.md, "Seats"). Talk is not in
 * that rule, and inactive entitlements (no access, or the product is off) do not count.
 */

export type EntitlementSeat = 'paid' | 'free' | 'unknown';

export interface EntitlementVerdict {
  seat: EntitlementSeat;
  /** Why, as the end of "light agent with …"; null for a plain free seat. */
  reason: string | null;
}

/** Roles that take a seat, by product, with how the report names them. */
const SEAT_ROLES: Record<string, Record<string, string>> = {
  chat: { agent: 'a Chat agent role', admin: 'a Chat admin role' },
  guide: { agent: 'a Guide agent role', admin: 'a Guide admin role' },
  explore: { admin: 'an Explore admin role', editor: 'an Explore editor role' },
};

/** Roles Zendesk documents as taking no seat. */
const FREE_ROLES: Record<string, readonly string[]> = {
  chat: [],
  guide: ['viewer'],
  explore: ['viewer'],
};

const PRODUCT_NAMES: Record<string, string> = { chat: 'Chat', guide: 'Guide', explore: 'Explore' };

export function classifyEntitlements(response: EntitlementsResponse): EntitlementVerdict {
  const paid: string[] = [];
  const unknown: string[] = [];
  for (const [product, seatRoles] of Object.entries(SEAT_ROLES)) {
    const entitlement = response.entitlements[product];
    if (!entitlement || entitlement.is_active === false) continue;
    const name = entitlement.name;
    if (name === null) {
      // Active (or not said) without a role name: only an active one makes the seat uncertain.
      if (entitlement.is_active === true) unknown.push(`an active ${PRODUCT_NAMES[product]} entitlement without a role name`);
      continue;
    }
    if (seatRoles[name] !== undefined) {
      if (entitlement.is_active === true) paid.push(seatRoles[name]);
      else unknown.push(`a ${PRODUCT_NAMES[product]} ${name} role whose activity Zendesk did not send`);
    } else if (!FREE_ROLES[product]!.includes(name) && entitlement.is_active === true) {
      unknown.push(`a ${PRODUCT_NAMES[product]} role Zendesk does not document ("${name.slice(0, 40)}")`);
    }
  }
  if (paid.length > 0) return { seat: 'paid', reason: paid.join(' and ') };
  if (unknown.length > 0) return { seat: 'unknown', reason: unknown.join(' and ') };
  return { seat: 'free', reason: null };
}
