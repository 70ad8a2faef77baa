// Which users a users list or count matches, read in id order from the cheapest source: the staff id
// indexes when the filter asks only for agents and/or admins (the seat holders of a million-user account
// are a few thousand), the id order of all users otherwise. Every entry looked at is a store read, so a
// page costs O(page) reads in both cases (matches are dense in the id order whenever end users are asked
// for), never a scan of all users.

import { ROLE_CODE, STAFF_CODES, type StaffCode, type UserStore } from './userStore';
import type { Role } from './types';

/** Role codes a request asks for: null = no role filter; an empty set = only unknown roles (no match). */
export type RoleCodes = ReadonlySet<number> | null;

/** `role` and `role[]` as Zendesk reads them (both repeatable); names it does not know match nobody. */
export function roleCodes(q: URLSearchParams): RoleCodes {
  const names = [...q.getAll('role'), ...q.getAll('role[]')].filter((r) => r !== '');
  if (names.length === 0) return null;
  const codes = new Set<number>();
  for (const n of names) if (n in ROLE_CODE) codes.add(ROLE_CODE[n as Role]);
  return codes;
}

function staffOnly(codes: RoleCodes): boolean {
  return codes !== null && [...codes].every((c) => c === 1 || c === 2);
}

/**
 * Matching active users in id order, strictly after `afterId` (ascending) or strictly before `beforeId`
 * (descending), at most `limit`.
 */
export function matchingUsers(store: UserStore, codes: RoleCodes, from: { afterId?: number; beforeId?: number }, limit: number): number[] {
  const out: number[] = [];
  if (limit <= 0 || (codes !== null && codes.size === 0)) return out;
  const descending = from.beforeId !== undefined;
  if (codes !== null && staffOnly(codes)) {
    // A merge of the (at most two) staff indexes.
    const lists = STAFF_CODES.filter((c) => codes.has(c)).map((code: StaffCode) => {
      const index = store.staffIndex(code);
      const k = descending ? index.lowerBound(from.beforeId!) - 1 : from.afterId !== undefined ? index.upperBound(from.afterId) : 0;
      return { code, k, size: index.size };
    });
    while (out.length < limit) {
      let best: { code: StaffCode; k: number; size: number } | undefined;
      let bestId = 0;
      for (const l of lists) {
        if (l.k < 0 || l.k >= l.size) continue;
        const id = store.idAt(store.staffAt(l.code, l.k));
        if (best === undefined || (descending ? id > bestId : id < bestId)) {
          best = l;
          bestId = id;
        }
      }
      if (!best) break;
      out.push(store.staffIndex(best.code).at(best.k));
      best.k += descending ? -1 : 1;
    }
    return out;
  }
  const matches = (index: number) => store.isActive(index) && (codes === null || codes.has(store.roleCodeAt(index)));
  if (descending) {
    for (let k = store.lowerBoundId(from.beforeId!) - 1; k >= 0 && out.length < limit; k--) {
      const index = store.byIdAt(k);
      if (matches(index)) out.push(index);
    }
  } else {
    const start = from.afterId !== undefined ? store.upperBoundId(from.afterId) : 0;
    for (let k = start; k < store.size && out.length < limit; k++) {
      const index = store.byIdAt(k);
      if (matches(index)) out.push(index);
    }
  }
  return out;
}
