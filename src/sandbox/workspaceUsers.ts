// A workspace's users: read as the API serves them, changed as tests need, and its seats.

import { holdsPaidSeat } from './userWrites';
import { ADMIN_ROLE_ID, blankUser, customRoleIdFor } from './userGenerator';
import { ROLE_CODE, type StaffCode } from './userStore';
import type { UserCountEstimate } from './userCount';
import { matchingUsers } from './userQuery';
import type { Role, RoleType, UserData, UserPatch, ZendeskUser } from './types';
import { WorkspaceBase } from './workspaceBase';

export abstract class WorkspaceUsers extends WorkspaceBase {
  /**
   * All users, deleted ones included, as the API serves them (raw edits included), in id order.
   * After `setRawUserFields`/`removeUserFields` a record may not match the ZendeskUser type.
   */
  users(): ZendeskUser[] {
    const out: ZendeskUser[] = [];
    for (let k = 0; k < this.userStore.size; k++) out.push(this.userJsonAt(this.userStore.byIdAt(k)));
    return out;
  }

  user(id: number): ZendeskUser | undefined {
    return this.userJson(id);
  }

  userCount(): number {
    return this.userStore.size;
  }

  /** Ids of users with the given role and role_type (deleted ones included unless activeOnly). */
  userIds(filter: { role?: Role; roleType?: RoleType; activeOnly?: boolean } = {}): number[] {
    const out: number[] = [];
    if (filter.activeOnly && (filter.role === 'agent' || filter.role === 'admin')) {
      // The staff index: cheap in a million-user workspace.
      const code = ROLE_CODE[filter.role] as StaffCode;
      const index = this.userStore.staffIndex(code);
      for (let k = 0; k < index.size; k++) {
        const i = index.at(k);
        if (filter.roleType !== undefined && this.userStore.data(i).role_type !== filter.roleType) continue;
        out.push(this.userStore.idAt(i));
      }
      return out;
    }
    for (let k = 0; k < this.userStore.size; k++) {
      const i = this.userStore.byIdAt(k);
      if (filter.role && this.userStore.roleAt(i) !== filter.role) continue;
      if (filter.activeOnly && !this.userStore.isActive(i)) continue;
      if (filter.roleType !== undefined && this.userStore.data(i).role_type !== filter.roleType) continue;
      out.push(this.userStore.idAt(i));
    }
    return out;
  }

  /** Active users holding a paid Support seat (agents and admins but light agents and contributors). */
  paidSeatsInUse(): number {
    return this.seatHolderIds().filter((id) => {
      const u = this.userData(id);
      return u !== undefined && holdsPaidSeat(u);
    }).length;
  }

  setPurchasedSeats(seats: number | undefined): void {
    this.purchasedSeats = seats;
  }

  /** Ids of the active agents and admins (the seat holders the role-filtered list returns), in id order. */
  seatHolderIds(): number[] {
    return matchingUsers(this.userStore, new Set([1, 2]), {}, Infinity).map((i) => this.userStore.idAt(i));
  }

  /**
   * Makes GET /api/v2/users/count answer an estimate as real Zendesk does for big accounts (a stale value,
   * `refreshedAt: null` while it is refreshed, a value capped at 100,000); null: the exact count again.
   */
  setUserCountEstimate(estimate: UserCountEstimate | null): void {
    this.userCountEstimate = estimate === null ? null : { ...estimate };
  }

  /**
   * Entries the endpoints have read from the stores since generation or the last reset (positions in an
   * order, staff-index entries, records built, events compared or serialised): the cost of requests,
   * counted rather than timed. Binary-search steps are not included.
   */
  storeReads(): { users: number; events: number } {
    return { users: this.userStore.reads, events: this.eventStore.reads };
  }

  resetStoreReads(): void {
    this.userStore.reads = 0;
    this.eventStore.reads = 0;
  }

  /** @internal */
  userData(id: number): UserData | undefined {
    const i = this.userStore.indexOf(id);
    return i === undefined ? undefined : this.userStore.data(i);
  }

  /** @internal */
  userJson(id: number): ZendeskUser | undefined {
    const i = this.userStore.indexOf(id);
    return i === undefined ? undefined : this.userJsonAt(i);
  }

  /** @internal The user as every endpoint serves it: the model, `chat_only` if legacy, then raw edits. */
  userJsonAt(index: number): ZendeskUser {
    const json = this.userStore.toJson(index, this.baseUrl, { chatOnly: this.legacyChatOnly });
    return this.rawEdits.apply(this.userStore.idAt(index), json);
  }

  /** Changes fields of a user; updated_at becomes now unless the patch sets it. */
  updateUser(id: number, patch: UserPatch): ZendeskUser {
    const i = this.requireUser(id);
    const { updated_at, ...rest } = patch as UserPatch & { url?: unknown; id?: unknown };
    delete (rest as { url?: unknown }).url;
    delete (rest as { id?: unknown }).id;
    const changes = rest as Partial<UserData>;
    const updatedMs = updated_at !== undefined ? Date.parse(updated_at) : this.now();
    if (!Number.isFinite(updatedMs)) throw new Error(`invalid updated_at ${updated_at}`);
    this.userStore.update(i, changes, updatedMs);
    return this.userJsonAt(i);
  }

  suspendUser(id: number): ZendeskUser {
    return this.updateUser(id, { suspended: true });
  }

  unsuspendUser(id: number): ZendeskUser {
    return this.updateUser(id, { suspended: false });
  }

  /** Soft delete, as Zendesk does: the user stays, with active=false. */
  deleteUser(id: number): ZendeskUser {
    return this.updateUser(id, { active: false });
  }

  /** Promotes or demotes a user, keeping the dependent fields consistent. */
  setRole(id: number, role: Role, roleType?: RoleType): ZendeskUser {
    const current = this.userStore.data(this.requireUser(id));
    const patch: UserPatch = { role };
    if (role === 'end-user') {
      Object.assign(patch, {
        role_type: null,
        restricted_agent: true,
        ticket_restriction: 'requested',
        chat_only: false,
        shared_agent: false,
        custom_role_id: null,
        default_group_id: null,
        only_private_comments: false,
      });
    } else if (role === 'agent') {
      const restriction = current.ticket_restriction === 'requested' ? null : current.ticket_restriction;
      const rt = roleType === undefined ? null : roleType;
      Object.assign(patch, {
        role_type: rt,
        ticket_restriction: restriction,
        restricted_agent: restriction !== null,
        chat_only: rt === 2,
        custom_role_id: customRoleIdFor('agent', rt, current.custom_role_id),
      });
    } else {
      const rt = roleType === undefined ? 4 : roleType;
      Object.assign(patch, {
        role_type: rt,
        ticket_restriction: null,
        restricted_agent: false,
        chat_only: false,
        custom_role_id: customRoleIdFor('admin', rt, null),
      });
    }
    return this.updateUser(id, patch);
  }

  /** Adds a user (created and updated now); returns it as Zendesk JSON. */
  addUser(partial: UserPatch & { id?: number } = {}): ZendeskUser {
    const now = this.now();
    const id = partial.id ?? this.userStore.highestId + 7919;
    const base = blankUser(id, now);
    if (partial.role === 'admin') Object.assign(base, { role_type: 4, custom_role_id: ADMIN_ROLE_ID, restricted_agent: false, ticket_restriction: null });
    if (partial.role === 'agent') Object.assign(base, { role_type: null, restricted_agent: false, ticket_restriction: null });
    const { updated_at, ...rest } = partial as UserPatch & { id?: number; url?: unknown };
    delete (rest as { url?: unknown }).url;
    const data: UserData = { ...base, ...rest, id };
    const updatedMs = updated_at !== undefined ? Date.parse(updated_at) : now;
    const index = this.userStore.add(data, updatedMs);
    return this.userJsonAt(index);
  }
}
