import type { ReclaimAction } from '../db/tables';
import type { Seat } from '../reports/model';
import { DEFAULT_NEW_HIRE_GRACE_DAYS, type ReclaimSettings } from './settings';

/**
 * Deciding who a reclamation proposes and who it leaves alone, from synced users alone (pure: no database,
 * no Zendesk). Every user considered ends up either a candidate with its reason and evidence, or excluded
 * with a documented reason (README, "Reclaiming seats"). What only the live record can show (custom role,
 * tags, a user shared from another account since the sync) is checked again before each change.
 */

/** A synced user as the plan sees it (from zendesk_users and the per-user activity). */
export interface PlanUser {
  id: number;
  email: string | null;
  role: string | null;
  roleType: number | null;
  suspended: boolean | null;
  shared: boolean | null;
  sharedAgent: boolean | null;
  deleted: boolean | null;
  createdAt: Date | null;
  lastLoginAt: Date | null;
  lastActivityAt: Date | null;
  seat: Seat;
  seatReason: string;
  /** The seat other products' roles give a light agent or contributor (entitlements), when read. */
  entitlementSeat: 'paid' | 'free' | 'unknown' | null;
}

export type CandidateReason = 'suspended' | 'inactive' | 'requested';

export const EXCLUSION_REASONS = {
  not_found: 'Not among the synced users (or no longer in Zendesk).',
  deleted: 'Deleted in Zendesk: holds no seat.',
  account_owner: 'The account owner (integration settings); Zendesk refuses to change the owner.',
  grant_admin: "The admin whose grant the integration uses: downgrading them would end the integration's access.",
  last_admin: 'The last remaining admin of the account.',
  shared_user: 'A shared user or shared agent (from another Zendesk account): Zendesk refuses to update them.',
  exempt: "On the integration's exemption list.",
  kept: "Kept by request during an earlier reclamation's notice period: not proposed again until its cooldown ends.",
  new_hire: 'Created within the new-hire grace period.',
  created_unknown: 'Zendesk did not say when the user was created, so the new-hire grace period cannot be checked.',
  free_seat: 'Already on a free seat (end user, light agent or contributor).',
  seat_unknown: 'What seat the user holds is unknown (Zendesk left out the fields that decide it).',
  already_light_agent: 'Already a light agent.',
  no_seat_freed: 'A light agent would still hold a paid seat through a Chat, Guide or Explore role: no seat is freed.',
  active: 'Active within the inactivity window.',
} as const;
export type ExclusionReason = keyof typeof EXCLUSION_REASONS;

export interface PlanEvidence {
  lastLoginAt: string | null;
  lastActivityAt: string | null;
  createdAt: string | null;
  seatReason: string;
  suspended: boolean | null;
}

export type PlanEntry =
  | { userId: number; decision: 'candidate'; reason: CandidateReason; evidence: PlanEvidence }
  | { userId: number; decision: 'excluded'; reason: ExclusionReason; detail: string; evidence: PlanEvidence | null };

export interface PlanInput {
  action: ReclaimAction;
  /** Explicit ids (reason `requested` unless suspended or inactive), or every paid seat matching the rule. */
  requestedIds: number[] | null;
  users: PlanUser[];
  /** Ids of the account's active, unsuspended admins (for the last-admin rule). */
  activeAdminIds: number[];
  grantAdminId: number | null;
  settings: ReclaimSettings;
  inactiveDays: number;
  now: Date;
  /** Users kept during an earlier notice period, still in their cooldown. */
  keptIds?: number[];
}

const DAY_MS = 86_400_000;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function evidenceOf(u: PlanUser): PlanEvidence {
  return {
    lastLoginAt: iso(u.lastLoginAt),
    lastActivityAt: iso(u.lastActivityAt),
    createdAt: iso(u.createdAt),
    seatReason: u.seatReason,
    suspended: u.suspended,
  };
}

function exclusion(u: PlanUser, input: PlanInput): ExclusionReason | null {
  const { settings, action } = input;
  if (u.deleted) return 'deleted';
  if (settings.accountOwnerUserId != null && u.id === settings.accountOwnerUserId) return 'account_owner';
  if (input.grantAdminId !== null && u.id === Number(input.grantAdminId)) return 'grant_admin';
  if (u.shared || u.sharedAgent) return 'shared_user';
  const exempt = settings.exemptions;
  if (exempt?.userIds?.includes(u.id)) return 'exempt';
  if (u.email && exempt?.emails?.some((e) => e.toLowerCase() === u.email?.toLowerCase())) return 'exempt';
  if (input.keptIds?.includes(u.id)) return 'kept';
  if (u.seat === 'unknown') return 'seat_unknown';
  if (u.seat !== 'paid') return action === 'light_agent' && u.roleType === 1 ? 'already_light_agent' : 'free_seat';
  // A light agent with a seat-requiring role elsewhere keeps a paid seat (entitlements say so).
  if (action === 'light_agent' && u.entitlementSeat === 'paid') return 'no_seat_freed';
  if (u.createdAt === null) return 'created_unknown';
  const graceDays = settings.newHireGraceDays ?? DEFAULT_NEW_HIRE_GRACE_DAYS;
  if (input.now.getTime() - u.createdAt.getTime() < graceDays * DAY_MS) return 'new_hire';
  if (!u.suspended && u.lastActivityAt !== null && input.now.getTime() - u.lastActivityAt.getTime() < input.inactiveDays * DAY_MS) return 'active';
  return null;
}

function candidateReason(u: PlanUser, requested: boolean): CandidateReason {
  if (u.suspended) return 'suspended';
  return requested ? 'requested' : 'inactive';
}

/** The plan: every considered user once, candidates first in id order, then the excluded. */
export function buildPlan(input: PlanInput): PlanEntry[] {
  const byId = new Map(input.users.map((u) => [u.id, u]));
  const ids = input.requestedIds ?? input.users.map((u) => u.id);
  const entries: PlanEntry[] = [];
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const u = byId.get(id);
    if (!u) {
      entries.push({ userId: id, decision: 'excluded', reason: 'not_found', detail: EXCLUSION_REASONS.not_found, evidence: null });
      continue;
    }
    const reason = exclusion(u, input);
    if (reason) entries.push({ userId: id, decision: 'excluded', reason, detail: EXCLUSION_REASONS[reason], evidence: evidenceOf(u) });
    else entries.push({ userId: id, decision: 'candidate', reason: candidateReason(u, input.requestedIds !== null), evidence: evidenceOf(u) });
  }
  // At least one active admin stays: admins are proposed only while others remain.
  const candidateAdmins = new Set(entries.filter((e) => e.decision === 'candidate' && byId.get(e.userId)?.role === 'admin').map((e) => e.userId));
  let remaining = input.activeAdminIds.filter((id) => !candidateAdmins.has(id)).length;
  for (let i = entries.length - 1; i >= 0 && remaining < 1; i--) {
    const e = entries[i]!;
    if (e.decision === 'candidate' && candidateAdmins.has(e.userId)) {
      entries[i] = { userId: e.userId, decision: 'excluded', reason: 'last_admin', detail: EXCLUSION_REASONS.last_admin, evidence: e.evidence };
      remaining++;
    }
  }
  return [...entries.filter((e) => e.decision === 'candidate'), ...entries.filter((e) => e.decision === 'excluded')];
}
