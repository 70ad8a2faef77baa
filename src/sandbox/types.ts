// Shared types of the Zendesk sandbox: the JSON shapes Zendesk returns and the knobs tests turn.

export type Role = 'end-user' | 'agent' | 'admin';
/** 0 custom agent, 1 light agent, 2 chat agent, 3 contributor, 4 admin, 5 billing admin. */
export type RoleType = 0 | 1 | 2 | 3 | 4 | 5 | null;
export type TicketRestriction = 'organization' | 'groups' | 'assigned' | 'requested' | null;

/** A user exactly as Zendesk's Users API serialises it (the fields we care about plus the usual extras). */
export interface ZendeskUser {
  id: number;
  url: string;
  name: string;
  email: string;
  created_at: string;
  updated_at: string;
  time_zone: string;
  iana_time_zone: string;
  phone: string | null;
  shared_phone_number: boolean | null;
  photo: null;
  locale_id: number;
  locale: string;
  organization_id: number | null;
  role: Role;
  verified: boolean;
  external_id: string | null;
  tags: string[];
  alias: string | null;
  active: boolean;
  shared: boolean;
  shared_agent: boolean;
  last_login_at: string | null;
  two_factor_auth_enabled: boolean | null;
  signature: string | null;
  details: string;
  notes: string;
  role_type: RoleType;
  custom_role_id: number | null;
  moderator: boolean;
  ticket_restriction: TicketRestriction;
  only_private_comments: boolean;
  restricted_agent: boolean;
  suspended: boolean;
  default_group_id: number | null;
  report_csv: boolean;
  chat_only: boolean;
  user_fields: Record<string, unknown>;
}

/** The stored part of a user: everything but the derived `url` and the indexed `updated_at`. */
export type UserData = Omit<ZendeskUser, 'url' | 'updated_at'>;

/** A patch tests may apply; `updated_at` may be given explicitly (ISO string), otherwise it becomes "now". */
export type UserPatch = Partial<Omit<ZendeskUser, 'id' | 'url'>>;

export type ConsentMode = 'manual' | 'allow' | 'deny';
export type Plan = 'team' | 'growth' | 'professional' | 'enterprise' | 'enterprise_plus';
export type BucketName = 'account' | 'incremental' | 'usersCursor';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** confidential (default) clients may authenticate with the secret, PKCE or both; public ones need PKCE. */
  kind?: 'confidential' | 'public';
}

/** Random faults applied to /api/v2 data endpoints (each rate is a probability in 0..1). */
export interface FaultConfig {
  rate503?: number;
  rate500?: number;
  rateSlow?: number;
  slowMs?: number;
  rateMalformed?: number;
  rate429?: number;
  /** Retry-After sent with 503 and 429 faults (default 1). */
  retryAfterSeconds?: number;
  seed?: number;
}

export type FaultKind = '503' | '500' | '429' | 'slow' | 'malformed' | 'reset';

/** One scripted fault: the next `count` requests whose path matches fail this way. */
export interface ScriptedFault {
  kind: FaultKind;
  /**
   * Which requests: a RegExp tested against the path below the subdomain (e.g. `/api/v2/users.json`),
   * or a string equal to that path with or without `.json`. Without it: any /api/v2 data endpoint.
   */
  path?: RegExp | string;
  count?: number;
  /** For 503 and 429; `null` sends a 503 without Retry-After (Zendesk's "maintenance" flavour). */
  retryAfterSeconds?: number | null;
  slowMs?: number;
  malformed?: 'truncated' | 'shape';
}

export interface RateLimitSettings {
  plan?: Plan;
  accountLimit?: number;
  /** false turns 429s and rate-limit headers off (requests are still counted). */
  enabled?: boolean;
  windowMs?: number;
  incrementalLimit?: number;
  usersCursorLimit?: number;
}

export interface TokenLifetimes {
  /** Access-token lifetime; null = never expires. When set explicitly it wins over the client's expires_in. */
  accessTokenTtlSeconds?: number | null;
  refreshTokenTtlSeconds?: number;
  codeTtlSeconds?: number;
}

/** What tests get back for one ticket event without materialising the whole JSON. */
export interface TicketEventSummary {
  id: number;
  ticket_id: number;
  timestamp: number;
  updater_id: number;
  /** Author of the comment carried by the event, or null when the update had no comment. */
  comment_author_id: number | null;
  comment_public: boolean | null;
}

/** How a test describes events it adds. Missing fields are filled in deterministically. */
export interface TicketEventSpec {
  ticket_id?: number;
  updater_id?: number;
  timestamp?: number;
  /** Comment author; null = an update without a comment. Defaults to the updater for agents' updates. */
  comment_author_id?: number | null;
  comment_public?: boolean;
}

export interface Logger {
  info: (...args: any[]) => void;
  warn: (...args: any[]) => void;
  error?: (...args: any[]) => void;
  debug?: (...args: any[]) => void;
}

export interface WorkspaceStats {
  /** Every request that reached this workspace (OAuth pages included). */
  requests: number;
  /** Requests under /api/v2. */
  apiRequests: number;
  /** "GET /api/v2/users" style keys, ids replaced by :id, `.json` stripped. */
  byEndpoint: Record<string, number>;
  byStatus: Record<string, number>;
  /** 429s sent (over a limit, plus injected 429 faults). */
  rateLimited429: number;
  rateLimited429ByBucket: Record<BucketName, number>;
  /** Requests sent into a bucket before that bucket's last Retry-After had passed. */
  earlyRequests: Record<BucketName, number>;
  /** Requests sent into each bucket. */
  bucketRequests: Record<BucketName, number>;
  faults: Record<FaultKind, number>;
  tokensIssued: number;
  refreshes: number;
  revocations: number;
}
