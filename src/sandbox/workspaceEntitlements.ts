// What the entitlements endpoint answers for a workspace's users: generated, or set by a test.

import { generatedEntitlements } from './entitlements';
import type { UserEntitlements } from './types';
import { WorkspaceGroups } from './workspaceGroups';

export abstract class WorkspaceEntitlements extends WorkspaceGroups {
  private readonly entitlementOverrides = new Map<number, UserEntitlements>();

  /** What GET /api/v2/users/{id}/entitlements/full returns for the user (undefined: unknown user). */
  entitlements(id: number): UserEntitlements | undefined {
    const override = this.entitlementOverrides.get(id);
    if (override) return structuredClone(override);
    const data = this.userData(id);
    return data ? generatedEntitlements(this.seed, data) : undefined;
  }

  /**
   * Replaces a user's entitlements with this exact JSON (products may be left out or oddly named). Whether
   * Zendesk moves `updated_at` on such a change is not documented: by default it does not (`touch: true`
   * moves the user into the incremental export).
   */
  setEntitlements(id: number, entitlements: UserEntitlements, opts: { touch?: boolean } = {}): void {
    const i = this.requireUser(id);
    this.entitlementOverrides.set(id, structuredClone(entitlements));
    if (opts.touch) this.userStore.update(i, {}, this.now());
  }

  /** false: the entitlements endpoint answers 403 (a plan or account without it). */
  setEntitlementsReadable(readable: boolean): void {
    this.entitlementsReadable = readable;
  }
}
