// A workspace's group memberships: generated per agent or admin from the seed when first needed, then kept
// (so a downgrade's drop and a later re-add are exact), with a log of every change for tests.

import { hash32 } from './prng';

/** The account's groups (generated users' default_group_id is one of them). */
export const GROUP_IDS: readonly number[] = Array.from({ length: 12 }, (_, k) => 360_000_200_001 + k);

const GENERATED_ID_BASE = 370_000_000_000;
const CREATED_ID_BASE = 380_000_000_000;

export interface Membership {
  id: number;
  userId: number;
  groupId: number;
  createdMs: number;
  updatedMs: number;
}

export interface MembershipChange {
  at: number;
  userId: number;
  groupId: number;
  kind: 'added' | 'dropped';
}

/** What generation needs of the user at the moment the memberships are first read. */
export interface MemberSeed {
  id: number;
  /** The user's position in the store: stable, so generated membership ids never collide. */
  index: number;
  staff: boolean;
  defaultGroupId: number | null;
  createdMs: number;
}

export class GroupMemberships {
  private readonly byUser = new Map<number, Membership[]>();
  private readonly log: MembershipChange[] = [];
  private nextId = CREATED_ID_BASE;
  private readonly deleted = new Set<number>();

  constructor(private readonly seed: number) {}

  /** The user's memberships in creation order; an agent's first read generates 1–3, its default group among them. */
  of(user: MemberSeed): readonly Membership[] {
    let list = this.byUser.get(user.id);
    if (!list) {
      list = user.staff ? this.generate(user) : [];
      this.byUser.set(user.id, list);
    }
    return list;
  }

  has(user: MemberSeed, groupId: number): boolean {
    return this.of(user).some((m) => m.groupId === groupId);
  }

  add(user: MemberSeed, groupId: number, now: number): Membership {
    const list = this.of(user) as Membership[];
    const m: Membership = { id: this.nextId++, userId: user.id, groupId, createdMs: now, updatedMs: now };
    list.push(m);
    this.log.push({ at: now, userId: user.id, groupId, kind: 'added' });
    return m;
  }

  /** Zendesk drops every membership of an agent downgraded to end user. */
  dropAll(user: MemberSeed, now: number): void {
    for (const m of this.of(user)) this.log.push({ at: now, userId: user.id, groupId: m.groupId, kind: 'dropped' });
    this.byUser.set(user.id, []);
  }

  /** A deleted group loses its members and takes no new ones. */
  deleteGroup(groupId: number, now: number): void {
    this.deleted.add(groupId);
    for (const [userId, list] of this.byUser) {
      const kept = list.filter((m) => m.groupId !== groupId);
      if (kept.length === list.length) continue;
      this.log.push({ at: now, userId, groupId, kind: 'dropped' });
      this.byUser.set(userId, kept);
    }
  }

  isDeleted(groupId: number): boolean {
    return this.deleted.has(groupId);
  }

  /** Every membership added or dropped (the API, setRole, deleteGroup), in order (generation is not a change). */
  changes(userId?: number): MembershipChange[] {
    return userId === undefined ? [...this.log] : this.log.filter((c) => c.userId === userId);
  }

  clearChanges(): void {
    this.log.length = 0;
  }

  private generate(user: MemberSeed): Membership[] {
    const h = hash32(this.seed, 0x6b0e, user.id);
    const count = 1 + (h % 3);
    const groups: number[] = user.defaultGroupId !== null ? [user.defaultGroupId] : [];
    for (let k = 0; groups.length < count && k < 32; k++) {
      const g = GROUP_IDS[hash32(this.seed, 0x6b0f, user.id, k) % GROUP_IDS.length]!;
      if (!groups.includes(g)) groups.push(g);
    }
    return groups
      .filter((g) => !this.deleted.has(g))
      .map((groupId, k) => ({
        id: GENERATED_ID_BASE + user.index * 4 + k,
        userId: user.id,
        groupId,
        createdMs: user.createdMs,
        updatedMs: user.createdMs,
      }));
  }
}
