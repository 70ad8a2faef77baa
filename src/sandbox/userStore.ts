// Users kept columnar: only the columns the endpoints filter and sort on live in typed arrays (about
// 26 bytes a user, no per-user object or Map entry), plus an id index of the active agents and admins per
// role; the full record is regenerated from the generator (plus a small map of test overrides) when served.

import { IdIndex } from './idIndex';
import { generateUser, generateUserColumns, isoSeconds, type UserGenContext } from './userGenerator';
import type { Role, UserData, ZendeskUser } from './types';

export const ROLE_CODE: Record<Role, number> = { 'end-user': 0, agent: 1, admin: 2 };
const ROLE_OF_CODE: readonly Role[] = ['end-user', 'agent', 'admin'];
/** Role codes of seat holders: those with an IdIndex. */
export const STAFF_CODES = [1, 2] as const;
export type StaffCode = (typeof STAFF_CODES)[number];
const SORT_INDEX_BITS = 2 ** 24;

function grow<T extends Float64Array | Uint8Array | Uint32Array>(arr: T, needed: number): T {
  if (needed <= arr.length) return arr;
  const next = new (arr.constructor as new (n: number) => T)(Math.max(needed, arr.length * 2, 16));
  next.set(arr);
  return next;
}

/** Position of a user in the incremental export order: (updated_at ms, id). */
export interface UpdatedPosition {
  ms: number;
  id: number;
}

export class UserStore {
  private count = 0;
  private ids = new Float64Array(0);
  private updated = new Float64Array(0);
  private roles = new Uint8Array(0);
  private actives = new Uint8Array(0);
  /** Indexes sorted by id (the Users API order). */
  private byId = new Uint32Array(0);
  /** Indexes sorted by (updated_at, id) (the incremental export order). */
  private byUpdated = new Uint32Array(0);
  /** Active agents (code 1) and admins (code 2) by id: what the role-filtered list walks. */
  private readonly staff: Record<StaffCode, IdIndex> = { 1: new IdIndex((i) => this.ids[i]!), 2: new IdIndex((i) => this.ids[i]!) };
  /** Active users per role code (users/count). */
  private readonly activeCounts = [0, 0, 0];
  /**
   * Entries the endpoints read (a position in an order, a staff-index entry, a regenerated record): a cost
   * counter for tests, independent of timing. Binary-search steps are not counted.
   */
  reads = 0;
  /** Test mutations of generated users, by index. */
  private readonly overrides = new Map<number, Partial<UserData>>();
  /** Users added by tests have no generator base: their whole record lives here. */
  private readonly added = new Map<number, UserData>();
  private maxId = 0;

  constructor(private readonly gen: UserGenContext | null) {}

  static generate(ctx: UserGenContext): UserStore {
    const store = new UserStore(ctx);
    store.reserve(ctx.count);
    for (let i = 0; i < ctx.count; i++) {
      // Only the columns: building the whole record of a million users would take seconds and garbage.
      const c = generateUserColumns(ctx, i);
      const code = ROLE_CODE[c.role];
      store.ids[i] = c.id;
      store.updated[i] = c.updatedMs;
      store.roles[i] = code;
      store.actives[i] = c.active ? 1 : 0;
      store.byId[i] = i; // generated ids grow with the index
      if (c.active) store.joinIndexes(i, code, true);
    }
    store.count = ctx.count;
    store.maxId = ctx.count > 0 ? store.ids[ctx.count - 1]! : 0;
    store.sortUpdatedOrder();
    return store;
  }

  /**
   * Sorts the generated users into (updated_at, id) order. Generated updated_at are whole seconds and ids
   * grow with the index, so (second, index) packed into one double sorts natively, without a comparator
   * (a comparator sort of a million entries takes seconds); otherwise, or past 2^24 users, it falls back.
   */
  private sortUpdatedOrder(): void {
    const n = this.count;
    let min = Infinity;
    let max = -Infinity;
    let wholeSeconds = true;
    for (let i = 0; i < n; i++) {
      const ms = this.updated[i];
      if (ms! < min) min = ms!;
      if (ms! > max) max = ms!;
      if (ms! % 1000 !== 0) wholeSeconds = false;
    }
    const order = this.byUpdated.subarray(0, n);
    if (n === 0) return;
    if (!wholeSeconds || n > SORT_INDEX_BITS || (max - min) / 1000 >= 2 ** 28) {
      order.sort((a, b) => this.compareIdx(a, b));
      return;
    }
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = ((this.updated[i]! - min) / 1000) * SORT_INDEX_BITS + i;
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = keys[k]! % SORT_INDEX_BITS;
  }

  get size(): number {
    return this.count;
  }

  get highestId(): number {
    return this.maxId;
  }

  /** The store index of a user id (binary search over the id order: no Map of a million entries). */
  indexOf(id: number): number | undefined {
    const k = this.lowerBoundId(id);
    if (k >= this.count) return undefined;
    const index = this.byId[k];
    return this.ids[index!] === id ? index : undefined;
  }

  idAt(index: number): number {
    return this.ids[index]!;
  }

  updatedMsAt(index: number): number {
    return this.updated[index]!;
  }

  isActive(index: number): boolean {
    return this.actives[index] === 1;
  }

  roleAt(index: number): Role {
    return ROLE_OF_CODE[this.roles[index]!]!;
  }

  data(index: number): UserData {
    this.reads++;
    const added = this.added.get(index);
    if (added) return structuredClone(added);
    if (!this.gen) throw new Error(`user index ${index} has no record`);
    const base = generateUser(this.gen, index).data;
    const patch = this.overrides.get(index);
    return patch ? { ...base, ...patch } : base;
  }

  /**
   * The user as the API serialises it, fields in the order of the recordings. `chat_only` only for
   * `legacyChatOnly` workspaces: accounts stopped sending it at the end of 2023.
   */
  toJson(index: number, baseUrl: string, opts: { chatOnly?: boolean } = {}): ZendeskUser {
    const d = this.data(index);
    const user: ZendeskUser = {
      id: d.id,
      url: `${baseUrl}/api/v2/users/${d.id}.json`,
      name: d.name,
      email: d.email,
      created_at: d.created_at,
      updated_at: isoSeconds(this.updated[index]!),
      time_zone: d.time_zone,
      iana_time_zone: d.iana_time_zone,
      phone: d.phone,
      shared_phone_number: d.shared_phone_number,
      photo: d.photo,
      locale_id: d.locale_id,
      locale: d.locale,
      organization_id: d.organization_id,
      role: d.role,
      verified: d.verified,
      external_id: d.external_id,
      tags: d.tags,
      alias: d.alias,
      active: d.active,
      shared: d.shared,
      shared_agent: d.shared_agent,
      last_login_at: d.last_login_at,
      two_factor_auth_enabled: d.two_factor_auth_enabled,
      signature: d.signature,
      details: d.details,
      notes: d.notes,
      role_type: d.role_type,
      custom_role_id: d.custom_role_id,
      moderator: d.moderator,
      ticket_restriction: d.ticket_restriction,
      only_private_comments: d.only_private_comments,
      restricted_agent: d.restricted_agent,
      suspended: d.suspended,
      default_group_id: d.default_group_id,
      report_csv: d.report_csv,
      user_fields: d.user_fields,
    };
    if (!opts.chatOnly) return user;
    const { user_fields, ...rest } = user;
    return { ...rest, chat_only: d.chat_only, user_fields };
  }

  add(data: UserData, updatedMs: number): number {
    if (this.indexOf(data.id) !== undefined) throw new Error(`user id ${data.id} already exists`);
    const index = this.count;
    this.reserve(index + 1);
    this.count++;
    this.ids[index] = data.id;
    this.updated[index] = updatedMs;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- tests store roles Zendesk does not document
    this.roles[index] = ROLE_CODE[data.role] ?? 0;
    this.actives[index] = data.active ? 1 : 0;
    this.added.set(index, { ...data });
    if (data.id > this.maxId) this.maxId = data.id;
    this.insertSorted(this.byId, index, index, (a, b) => this.ids[a]! - this.ids[b]!);
    this.insertSorted(this.byUpdated, index, index, (a, b) => this.compareIdx(a, b));
    if (data.active) this.joinIndexes(index, this.roles[index], false);
    return index;
  }

  /** Applies a patch and moves the user to its new (updated_at, id) position. */
  update(index: number, patch: Partial<UserData>, updatedMs: number): void {
    this.removeFromUpdatedOrder(index);
    const added = this.added.get(index);
    if (added) this.added.set(index, { ...added, ...patch, id: added.id });
    else this.overrides.set(index, { ...this.overrides.get(index), ...patch, id: this.ids[index] });
    const merged = this.data(index);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- tests store roles Zendesk does not document
    const code = ROLE_CODE[merged.role] ?? 0;
    const active = merged.active ? 1 : 0;
    // Role changes, deletions and reactivations keep the staff index and the counts in step.
    if (code !== this.roles[index] || active !== this.actives[index]) {
      if (this.actives[index] === 1) this.leaveIndexes(index, this.roles[index]!);
      this.roles[index] = code;
      this.actives[index] = active;
      if (active === 1) this.joinIndexes(index, code, false);
    }
    this.updated[index] = updatedMs;
    this.insertSorted(this.byUpdated, index, this.count - 1, (a, b) => this.compareIdx(a, b));
  }

  // ---- active users by role (role-filtered list, users/count) ----

  /** The id index of the active users of a staff role. */
  staffIndex(code: StaffCode): IdIndex {
    return this.staff[code];
  }

  /** Store index of the k-th active user of a staff role, in id order (counted as a read). */
  staffAt(code: StaffCode, k: number): number {
    this.reads++;
    return this.staff[code].at(k);
  }

  roleCodeAt(index: number): number {
    return this.roles[index]!;
  }

  /** Active users with one of these role codes (all roles when null). */
  activeCount(codes: ReadonlySet<number> | null): number {
    let n = 0;
    for (let c = 0; c < this.activeCounts.length; c++) if (codes === null || codes.has(c)) n += this.activeCounts[c]!;
    return n;
  }

  private joinIndexes(index: number, code: number, inOrder: boolean): void {
    this.activeCounts[code]!++;
    if (code === 1 || code === 2) {
      if (inOrder) this.staff[code].push(index);
      else this.staff[code].insert(index);
    }
  }

  private leaveIndexes(index: number, code: number): void {
    this.activeCounts[code]!--;
    if (code === 1 || code === 2) this.staff[code].remove(index);
  }

  // ---- id order (Users API) ----

  /** Index of the k-th user in id order (counted as a read). */
  byIdAt(k: number): number {
    this.reads++;
    return this.byId[k]!;
  }

  /** First k with id(byId[k]) > id. */
  upperBoundId(id: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[this.byId[mid]!]! <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First k with id(byId[k]) >= id. */
  lowerBoundId(id: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[this.byId[mid]!]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- (updated_at, id) order (incremental export) ----

  /** Index of the k-th user in export order (counted as a read). */
  byUpdatedAt(k: number): number {
    this.reads++;
    return this.byUpdated[k]!;
  }

  positionOf(index: number): UpdatedPosition {
    return { ms: this.updated[index]!, id: this.ids[index]! };
  }

  /** First k whose (updated_at, id) is strictly after pos. */
  firstAfter(pos: UpdatedPosition): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.comparePos(this.byUpdated[mid]!, pos) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First k whose (updated_at, id) is at or after pos. */
  firstAtOrAfter(pos: UpdatedPosition): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.comparePos(this.byUpdated[mid]!, pos) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- internals ----

  private compareIdx(a: number, b: number): number {
    return this.updated[a]! - this.updated[b]! || this.ids[a]! - this.ids[b]!;
  }

  private comparePos(index: number, pos: UpdatedPosition): number {
    return this.updated[index]! - pos.ms || this.ids[index]! - pos.id;
  }

  private reserve(n: number): void {
    this.ids = grow(this.ids, n);
    this.updated = grow(this.updated, n);
    this.roles = grow(this.roles, n);
    this.actives = grow(this.actives, n);
    this.byId = grow(this.byId, n);
    this.byUpdated = grow(this.byUpdated, n);
  }

  private removeFromUpdatedOrder(index: number): void {
    const k = this.firstAtOrAfter(this.positionOf(index));
    if (this.byUpdated[k] !== index) throw new Error('user order index out of sync');
    this.byUpdated.copyWithin(k, k + 1, this.count);
  }

  /** Inserts `index` into the first `len` entries of `order` (which has room for one more). */
  private insertSorted(order: Uint32Array, index: number, len: number, cmp: (a: number, b: number) => number): void {
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(order[mid]!, index) < 0) lo = mid + 1;
      else hi = mid;
    }
    order.copyWithin(lo + 1, lo, len);
    order[lo] = index;
  }
}
