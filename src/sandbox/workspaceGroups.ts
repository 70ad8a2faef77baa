// A workspace's group memberships as the API and tests see them: read, added, and dropped when an agent
// becomes an end user (Zendesk's rule: end users cannot be group members; light agents can).

import { GroupMemberships, type MemberSeed, type Membership, type MembershipChange } from './groupMemberships';
import type { Role, RoleType, ZendeskUser } from './types';
import { WorkspaceUsers } from './workspaceUsers';

export abstract class WorkspaceGroups extends WorkspaceUsers {
  /** @internal Not kept across a sandbox restart (like users changed by the control methods). */
  readonly memberships = new GroupMemberships(this.seed);

  /** The ids of the user's groups, sorted (empty for end users and unknown users). */
  groupIdsOf(userId: number): number[] {
    return this.membershipsOf(userId)
      .map((m) => m.groupId)
      .sort((a, b) => a - b);
  }

  /** Memberships added (POST group_memberships) or dropped (a downgrade to end user), in order. */
  membershipChanges(userId?: number): MembershipChange[] {
    return this.memberships.changes(userId);
  }

  /** Deletes a group, as an admin would in Zendesk: its members leave it, and POSTs to it are refused (422). */
  deleteGroup(groupId: number): void {
    this.memberships.deleteGroup(groupId, this.now());
  }

  clearMembershipChanges(): void {
    this.memberships.clearChanges();
  }

  /** Demoting to end user drops the memberships, as through the API; read first, so an upgrade does not invent any. */
  override setRole(id: number, role: Role, roleType?: RoleType): ZendeskUser {
    this.membershipsOf(id);
    if (role === 'end-user' && this.userData(id)?.role !== 'end-user') this.dropGroupMemberships(id);
    return super.setRole(id, role, roleType);
  }

  /** @internal */
  membershipsOf(userId: number): readonly Membership[] {
    const seed = this.memberSeed(userId);
    return seed ? this.memberships.of(seed) : [];
  }

  /** @internal Called before the user's role becomes end-user. */
  dropGroupMemberships(userId: number, now = this.now()): void {
    const seed = this.memberSeed(userId);
    if (seed) this.memberships.dropAll(seed, now);
  }

  /** @internal */
  memberSeed(userId: number): MemberSeed | undefined {
    const index = this.userStore.indexOf(userId);
    if (index === undefined) return undefined;
    const u = this.userStore.data(index);
    const created = Date.parse(u.created_at);
    return { id: userId, index, staff: u.role !== 'end-user', defaultGroupId: u.default_group_id, createdMs: Number.isFinite(created) ? created : 0 };
  }
}
