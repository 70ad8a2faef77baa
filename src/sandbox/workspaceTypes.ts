// What a sandbox workspace is made from (its options, its sandbox, its generated data) and what it keeps.

import type { Actors } from './eventGenerator';
import type { EventStore } from './eventStore';
import type { OAuthBehaviour, OAuthSnapshot } from './tokens';
import type { UserStore } from './userStore';
import type { ConsentMode, FaultConfig, Logger, OAuthClient, Plan } from './types';

export interface WorkspaceOptions {
  subdomain: string;
  /** Number of users including the owner (default 50). */
  users?: number;
  /**
   * Exactly this many active agents and admins (the owner included; 1 to `users`), spread over the id
   * range, instead of the default mix (~36 % agents and admins, some deleted). Generated seat holders are
   * never deleted; about 8 % of the agents are suspended. Unset: the default mix, unchanged.
   */
  seatHolders?: number;
  /** Number of ticket events (default 500). */
  ticketEvents?: number;
  /** Same seed, same data (default: derived from the subdomain). */
  seed?: number;
  /** Ticket events spread over this many past days (default 120). */
  days?: number;
  /** Generation anchor in ms (default: the sandbox clock). */
  now?: number;
  plan?: Plan;
  accountLimit?: number;
  /** false: no 429s and no rate-limit headers. */
  rateLimits?: boolean;
  rateLimitWindowMs?: number;
  incrementalLimit?: number;
  usersCursorLimit?: number;
  consentMode?: ConsentMode;
  /** Who approves consent (default: the owner, an admin). */
  consentingUserId?: number;
  faults?: FaultConfig;
  exclusionSeconds?: number;
  accessTokenTtlSeconds?: number | null;
  refreshTokenTtlSeconds?: number;
  codeTtlSeconds?: number;
  /** How the OAuth server answers where real accounts differ (tokens.ts; default: enforced-expiry global client). */
  oauth?: Partial<OAuthBehaviour>;
  /** OAuth clients known only to this workspace (the sandbox's clients are known to all). */
  clients?: OAuthClient[];
  /** Serialise `chat_only` on users, as accounts did until late 2023 (default: absent, as recorded since). */
  legacyChatOnly?: boolean;
  /**
   * Users cursor pages carry `meta.has_more` only with include_boundary_indicators=true, as older clients
   * reported (default: always, as recorded in 2025).
   */
  hasMoreOnlyWithBoundaryIndicators?: boolean;
  /** GET /api/v2/users/{id}/entitlements/full answers 403, as on plans without it (default: readable). */
  entitlementsForbidden?: boolean;
  /** Seats bought: an upgrade to a paid seat beyond it is refused with 422 (default: unlimited). */
  purchasedSeats?: number;
}

/** What a workspace needs from its sandbox. */
export interface WorkspaceEnv {
  now: () => number;
  /** e.g. http://127.0.0.1:4010/acme */
  baseUrl: string;
  sharedClients: Map<string, OAuthClient>;
  logger: Logger;
  /** Called after each change of the workspace's persisted state (see `snapshot`). */
  onChange?: () => void;
  defaults: {
    rateLimitWindowMs: number;
    exclusionSeconds: number;
    accessTokenTtlSeconds: number | null;
    refreshTokenTtlSeconds: number;
    codeTtlSeconds: number;
    /** Lifetimes set explicitly by the test win over what the client asks for. */
    accessExplicit: boolean;
    refreshExplicit: boolean;
  };
}

export interface GeneratedData {
  seed: number;
  users: UserStore;
  events: EventStore;
  actors: Actors;
  ownerId: number;
}

export interface TokenPolicy {
  accessTokenTtlSeconds: number | null;
  refreshTokenTtlSeconds: number;
  codeTtlSeconds: number;
  accessExplicit: boolean;
  refreshExplicit: boolean;
}

/**
 * What a sandbox keeps of a workspace across restarts (`SandboxOptions.statePath`): the options it was
 * generated from (seed and generation instant included, so it regenerates identically), the settings
 * changed since, and its OAuth state. Users and ticket events changed through the control methods are
 * not kept: they regenerate as first generated.
 */
export interface WorkspaceSnapshot {
  options: Omit<WorkspaceOptions, 'faults'> & { seed: number; now: number };
  consentMode: ConsentMode;
  consentingUserId: number;
  exclusionSeconds: number;
  tokens: TokenPolicy;
  oauth: OAuthSnapshot;
}

export interface GrantInfo {
  id: number;
  clientId: string;
  userId: number;
  scope: string;
  revoked: boolean;
  createdAt: string;
}
