// Shared types of the Zendesk sandbox: the JSON shapes Zendesk returns and the knobs tests turn.

export type Role = 'end-user' | 'agent' | 'admin';
/** 0 custom agent, 1 light agent, 2 chat agent, 3 contributor, 4 admin, 5 billing admin. */
export type RoleType = 0 | 1 | 2 | 3 | 4 | 5 | null;
export type TicketRestriction = 'organization' | 'groups' | 'assigned' | 'requested' | null;

/** A profile photo as the Users API serialises it (an attachment with one thumbnail). */
interface ZendeskPhotoThumbnail {
  url: string;
  id: number;
  file_name: string;
  content_url: string;
  mapped_content_url: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
  inline: boolean;
  deleted: boolean;
}

export interface ZendeskPhoto extends ZendeskPhotoThumbnail {
  thumbnails: ZendeskPhotoThumbnail[];
}

/**
 * A user as the sandbox serialises it by default, in the field set and order of real 2024–25 recordings
 * (test/fixtures/zendesk/users.json). `chat_only` is absent unless the workspace has `legacyChatOnly`.
 * Raw edits (`setRawUserFields`, `removeUserFields`) can make a served record break this type on purpose.
 */
export interface ZendeskUser {
  id: number;
  url: string;
  name: string;
  /** Null for end users created without an address (recorded). */
  email: string | null;
  created_at: string;
  updated_at: string;
  time_zone: string;
  iana_time_zone: string;
  phone: string | null;
  shared_phone_number: boolean | null;
  photo: ZendeskPhoto | null;
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
  /** Null on most recorded users, sometimes "" or text. */
  details: string | null;
  notes: string | null;
  role_type: RoleType;
  /** Non-null on admins (the account's admin role) and custom-role agents. */
  custom_role_id: number | null;
  moderator: boolean;
  ticket_restriction: TicketRestriction;
  only_private_comments: boolean;
  restricted_agent: boolean;
  suspended: boolean;
  default_group_id: number | null;
  report_csv: boolean;
  /** Absent from every real record of 2024–25; only with the workspace option `legacyChatOnly`. */
  chat_only?: boolean;
  user_fields: Record<string, unknown>;
}

/**
 * The stored part of a user: everything but the derived `url` and the indexed `updated_at`. `chat_only` is
 * always modelled (role_type 2 agents) and only serialised for `legacyChatOnly` workspaces.
 */
export type UserData = Omit<ZendeskUser, 'url' | 'updated_at' | 'chat_only'> & { chat_only: boolean };

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
  /** Requests whose client hung up before the answer was sent (a cancelled request, a client timeout). */
  abandoned: number;
}

/** Products of `GET /api/v2/users/{id}/entitlements/full` (OAS 2026-05 `UserEntitlementsFullResponse`). */
type EntitlementProduct = 'chat' | 'explore' | 'guide' | 'talk';

export interface Entitlement {
  /** The product role, e.g. chat `agent`/`admin`, guide `viewer`/`agent`/`admin`, explore `viewer`/`editor`/`admin`. */
  name: string;
  /** Active only when the user has access and the product is active on the account. */
  is_active: boolean;
}

/** The `entitlements` object; tests may set any JSON here (missing products, odd names) to probe a reader. */
export type UserEntitlements = Partial<Record<EntitlementProduct, Entitlement>> & Record<string, unknown>;

/**
 * Broken entries a test can inject into export pages (`injectBrokenRecords`), among good records:
 * - `noId`: an object without `id`; `stringId`: `id` as a string; `unsafeId`: `id` beyond 2^53 (a JSON number
 *   no double can hold); those three never correspond to a real user or event;
 * - `string`, `null`, `array`: an entry that is not an object;
 * - `duplicateId`: the anchor record a second time in the same page;
 * - `nulInName`: a real record with U+0000 in a string (users: `name`; ticket events: the top-level `via`).
 */
export type BrokenRecordKind = 'noId' | 'stringId' | 'unsafeId' | 'string' | 'null' | 'array' | 'duplicateId' | 'nulInName';

/** Which export a broken entry goes into. */
export type ExportStream = 'users' | 'ticketEvents';
