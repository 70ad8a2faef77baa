// One simulated Zendesk account: its users, ticket events, OAuth state, rate limits, faults and
// statistics, plus the control methods tests use to change it while the product talks to it.

import { EVENT_ID_STEP, randomEvent, type Actors } from './eventGenerator';
import { EventKind, type EventStore, type NewEvent } from './eventStore';
import { FaultController } from './faults';
import { hash32, Prng } from './prng';
import { RateLimiter } from './rateLimiter';
import { Stats } from './stats';
import { OAuthState, type Grant, type OAuthBehaviour, type OAuthSnapshot } from './tokens';
import { blankUser } from './userGenerator';
import type { UserStore } from './userStore';
import type {
  ConsentMode,
  FaultConfig,
  Logger,
  OAuthClient,
  Plan,
  RateLimitSettings,
  Role,
  RoleType,
  ScriptedFault,
  TicketEventSpec,
  TicketEventSummary,
  TokenLifetimes,
  UserData,
  UserPatch,
  WorkspaceStats,
  ZendeskUser,
} from './types';

export interface WorkspaceOptions {
  subdomain: string;
  /** Number of users including the owner (default 50). */
  users?: number;
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

export class SandboxWorkspace {
  readonly subdomain: string;
  readonly seed: number;
  /** The account owner: an admin, the default consenting user. */
  readonly ownerId: number;
  readonly baseUrl: string;

  /** @internal */ readonly userStore: UserStore;
  /** @internal */ readonly eventStore: EventStore;
  /** @internal */ readonly oauth: OAuthState;
  /** @internal */ readonly limiter: RateLimiter;
  /** @internal */ readonly faults = new FaultController();
  /** @internal */ readonly counters = new Stats();

  consentMode: ConsentMode;
  exclusionSeconds: number;
  private consentingUserId: number;
  private readonly actors: Actors;
  private readonly localClients = new Map<string, OAuthClient>();
  private tokens: TokenPolicy;
  private readonly eventRng: Prng;
  private readonly options: WorkspaceOptions;

  constructor(
    opts: WorkspaceOptions,
    data: GeneratedData,
    private readonly env: WorkspaceEnv,
  ) {
    this.subdomain = opts.subdomain;
    this.options = opts;
    this.seed = data.seed;
    this.ownerId = data.ownerId;
    this.baseUrl = env.baseUrl;
    this.userStore = data.users;
    this.eventStore = data.events;
    this.actors = data.actors;
    this.oauth = new OAuthState(400_000_000_000 + (hash32(data.seed, 0x70c) % 1_000_000) * 1000);
    this.limiter = new RateLimiter({
      windowMs: opts.rateLimitWindowMs ?? env.defaults.rateLimitWindowMs,
      plan: opts.plan,
      accountLimit: opts.accountLimit,
      enabled: opts.rateLimits ?? true,
      incrementalLimit: opts.incrementalLimit,
      usersCursorLimit: opts.usersCursorLimit,
    });
    this.faults.set(opts.faults);
    this.consentMode = opts.consentMode ?? 'manual';
    this.consentingUserId = opts.consentingUserId ?? data.ownerId;
    this.exclusionSeconds = opts.exclusionSeconds ?? env.defaults.exclusionSeconds;
    this.tokens = {
      accessTokenTtlSeconds: opts.accessTokenTtlSeconds !== undefined ? opts.accessTokenTtlSeconds : env.defaults.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: opts.refreshTokenTtlSeconds ?? env.defaults.refreshTokenTtlSeconds,
      codeTtlSeconds: opts.codeTtlSeconds ?? env.defaults.codeTtlSeconds,
      accessExplicit: opts.accessTokenTtlSeconds !== undefined || env.defaults.accessExplicit,
      refreshExplicit: opts.refreshTokenTtlSeconds !== undefined || env.defaults.refreshExplicit,
    };
    for (const c of opts.clients ?? []) this.addClient(c);
    this.eventRng = new Prng(hash32(data.seed, 0xadde));
    this.oauth.configure(opts.oauth);
    this.oauth.onChange = () => this.changed();
  }

  private changed(): void {
    this.env.onChange?.();
  }

  // ------------------------------------------------------------ persistence

  /** @internal What a sandbox restart needs to serve this workspace as it is (see WorkspaceSnapshot). */
  snapshot(): WorkspaceSnapshot {
    const { faults: _faults, clients: _clients, ...options } = this.options;
    return {
      options: { ...options, seed: this.seed, now: this.options.now ?? this.now(), clients: [...this.localClients.values()] },
      consentMode: this.consentMode,
      consentingUserId: this.consentingUserId,
      exclusionSeconds: this.exclusionSeconds,
      tokens: { ...this.tokens },
      oauth: this.oauth.snapshot(this.now()),
    };
  }

  /** @internal Takes over a snapshot's settings and OAuth state (the workspace was generated from its options). */
  restore(s: WorkspaceSnapshot): void {
    this.consentMode = s.consentMode;
    if (this.userStore.indexOf(s.consentingUserId) !== undefined) this.consentingUserId = s.consentingUserId;
    this.exclusionSeconds = s.exclusionSeconds;
    this.tokens = { ...s.tokens };
    this.oauth.restore(s.oauth);
  }

  /** The sandbox clock (ms). */
  now(): number {
    return this.env.now();
  }

  // ------------------------------------------------------------ users

  /** All users, deleted ones included, as Zendesk JSON, in id order. */
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

  /** Ids of users with the given role (deleted ones included unless activeOnly). */
  userIds(filter: { role?: Role; activeOnly?: boolean } = {}): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.userStore.size; k++) {
      const i = this.userStore.byIdAt(k);
      if (filter.role && this.userStore.roleAt(i) !== filter.role) continue;
      if (filter.activeOnly && !this.userStore.isActive(i)) continue;
      out.push(this.userStore.idAt(i));
    }
    return out;
  }

  /** @internal */
  userData(id: number): UserData | undefined {
    const i = this.userStore.indexOf(id);
    return i === undefined ? undefined : this.userStore.data(i);
  }

  /** @internal */
  userJson(id: number): ZendeskUser | undefined {
    const i = this.userStore.indexOf(id);
    return i === undefined ? undefined : this.userStore.toJson(i, this.baseUrl);
  }

  /** @internal */
  userJsonAt(index: number): ZendeskUser {
    return this.userStore.toJson(index, this.baseUrl);
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
    return this.userStore.toJson(i, this.baseUrl);
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
      Object.assign(patch, { role_type: rt, ticket_restriction: restriction, restricted_agent: restriction !== null, chat_only: rt === 2 });
    } else {
      Object.assign(patch, { role_type: roleType === undefined ? 4 : roleType, ticket_restriction: null, restricted_agent: false, chat_only: false });
    }
    return this.updateUser(id, patch);
  }

  /** Adds a user (created and updated now); returns it as Zendesk JSON. */
  addUser(partial: UserPatch & { id?: number } = {}): ZendeskUser {
    const now = this.now();
    const id = partial.id ?? this.userStore.highestId + 7919;
    const base = blankUser(id, now);
    if (partial.role === 'admin') Object.assign(base, { role_type: 4, restricted_agent: false, ticket_restriction: null });
    if (partial.role === 'agent') Object.assign(base, { role_type: null, restricted_agent: false, ticket_restriction: null });
    const { updated_at, ...rest } = partial as UserPatch & { id?: number; url?: unknown };
    delete (rest as { url?: unknown }).url;
    const data: UserData = { ...base, ...rest, id };
    const updatedMs = updated_at !== undefined ? Date.parse(updated_at) : now;
    const index = this.userStore.add(data, updatedMs);
    return this.userStore.toJson(index, this.baseUrl);
  }

  private requireUser(id: number): number {
    const i = this.userStore.indexOf(id);
    if (i === undefined) throw new Error(`no user ${id} in workspace ${this.subdomain}`);
    return i;
  }

  // ------------------------------------------------------------ ticket events

  /**
   * Adds events. By default they are stamped just outside the excluded recent window
   * (now - exclusionSeconds - 1), so the next export sees them.
   */
  addTicketEvents(arg: number | TicketEventSpec[]): TicketEventSummary[] {
    const specs: TicketEventSpec[] = typeof arg === 'number' ? Array.from({ length: arg }, () => ({})) : arg;
    const defaultTs = Math.floor(this.now() / 1000) - this.exclusionSeconds - 1;
    let id = this.eventStore.maxId + EVENT_ID_STEP;
    const created: NewEvent[] = [];
    for (const spec of specs) {
      const ts = spec.timestamp ?? defaultTs;
      const ticketId = spec.ticket_id ?? this.eventRng.int(1, 1000);
      const e = randomEvent(id, ticketId, ts, this.actors, this.eventRng);
      if (spec.updater_id !== undefined) {
        e.updaterId = spec.updater_id;
        e.authorId = spec.updater_id === -1 ? NaN : spec.updater_id;
        e.kind = spec.updater_id === -1 ? EventKind.System : EventKind.AgentComment;
      }
      if (spec.comment_author_id !== undefined) e.authorId = spec.comment_author_id === null ? NaN : spec.comment_author_id;
      if (Number.isNaN(e.authorId) && e.kind !== EventKind.System) e.kind = EventKind.AgentChange;
      if (spec.comment_public !== undefined) e.isPublic = spec.comment_public;
      created.push(e);
      id += EVENT_ID_STEP;
    }
    this.eventStore.insert(created);
    return created.map((e) => ({
      id: e.id,
      ticket_id: e.ticketId,
      timestamp: e.timestamp,
      updater_id: e.updaterId,
      comment_author_id: Number.isNaN(e.authorId) ? null : e.authorId,
      comment_public: Number.isNaN(e.authorId) ? null : e.isPublic,
    }));
  }

  /** Every event in (timestamp, id) order, without building the JSON. */
  ticketEvents(): IterableIterator<TicketEventSummary> {
    return this.eventStore.summaries();
  }

  ticketEventCount(): number {
    return this.eventStore.size;
  }

  // ------------------------------------------------------------ OAuth

  /** @internal */
  client(clientId: string): OAuthClient | undefined {
    return this.localClients.get(clientId) ?? this.env.sharedClients.get(clientId);
  }

  addClient(c: OAuthClient): void {
    this.localClients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
    this.changed();
  }

  setConsentMode(mode: ConsentMode): void {
    this.consentMode = mode;
    this.changed();
  }

  /** Who clicks Allow: e.g. a non-admin agent to test "consent by a non-admin". */
  setConsentingUser(id: number): void {
    this.requireUser(id);
    this.consentingUserId = id;
    this.changed();
  }

  /** @internal */
  consentingUser(): UserData | undefined {
    return this.userData(this.consentingUserId);
  }

  /** Simulates an admin revoking the app's access in Zendesk's UI: every token dies. */
  revokeAllGrants(): number {
    const n = this.oauth.revokeAll();
    if (n > 0) this.counters.revoked();
    return n;
  }

  /** Every access and refresh token string ever issued (to scan logs and databases for leaks). */
  issuedTokens(): string[] {
    return this.oauth.allIssuedTokens();
  }

  /** Every authorization code ever issued. */
  issuedAuthorizationCodes(): string[] {
    return this.oauth.allIssuedCodes();
  }

  grants(): GrantInfo[] {
    return this.oauth.allGrants().map((g: Grant) => ({
      id: g.id,
      clientId: g.clientId,
      userId: g.userId,
      scope: g.scope,
      revoked: g.revoked,
      createdAt: new Date(g.createdAt).toISOString(),
    }));
  }

  setTokenLifetimes(t: TokenLifetimes): void {
    if (t.accessTokenTtlSeconds !== undefined) {
      this.tokens.accessTokenTtlSeconds = t.accessTokenTtlSeconds;
      this.tokens.accessExplicit = true;
    }
    if (t.refreshTokenTtlSeconds !== undefined) {
      this.tokens.refreshTokenTtlSeconds = t.refreshTokenTtlSeconds;
      this.tokens.refreshExplicit = true;
    }
    if (t.codeTtlSeconds !== undefined) this.tokens.codeTtlSeconds = t.codeTtlSeconds;
    this.changed();
  }

  /** Changes how the OAuth server answers (expires_in, token format, revocation scope); see OAuthBehaviour. */
  setOAuthBehaviour(behaviour: Partial<OAuthBehaviour>): void {
    this.oauth.configure(behaviour);
  }

  /** @internal */
  tokenPolicy(): TokenPolicy {
    return { ...this.tokens };
  }

  // ------------------------------------------------------------ limits, faults, stats

  setRateLimits(s: RateLimitSettings): void {
    this.limiter.configure(s);
  }

  rateLimits(): ReturnType<RateLimiter['limits']> {
    return this.limiter.limits();
  }

  /** Clears the current windows and Retry-After deadlines (not the stats). */
  resetRateLimits(): void {
    this.limiter.reset();
  }

  setExclusionSeconds(seconds: number): void {
    this.exclusionSeconds = seconds;
    this.changed();
  }

  setFaults(config: FaultConfig | null): void {
    this.faults.set(config);
  }

  injectFaults(faults: ScriptedFault[]): void {
    this.faults.inject(faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(): number {
    return this.faults.pending();
  }

  /** Request counts, 429s, early requests per bucket, faults, tokens issued. */
  stats(): WorkspaceStats {
    return this.counters.snapshot();
  }

  resetStats(): void {
    this.counters.reset();
  }
}
