// One simulated Zendesk account: its users, ticket events, OAuth state, rate limits, faults and
// statistics, plus the control methods tests use to change it while the product talks to it.

import { holdsPaidSeat, UserChangeLog } from './userWrites';
import { BrokenRecords } from './brokenRecords';
import { generatedEntitlements } from './entitlements';
import { EVENT_ID_STEP, randomEvent, type Actors } from './eventGenerator';
import { EventKind, type EventStore, type NewEvent } from './eventStore';
import { ExportQuirks, type ErrorDialect } from './exportQuirks';
import { FaultController } from './faults';
import { hash32, Prng } from './prng';
import { RateLimiter } from './rateLimiter';
import { Stats } from './stats';
import { OAuthState, type Grant, type OAuthBehaviour, type OAuthSnapshot } from './tokens';
import { RawUserEdits } from './rawUserEdits';
import { ADMIN_ROLE_ID, blankUser, customRoleIdFor } from './userGenerator';
import { ROLE_CODE, type StaffCode, type UserStore } from './userStore';
import type { UserCountEstimate } from './userCount';
import { matchingUsers } from './userQuery';
import { MAX_EXPORT_PAGE } from './incremental';
import { eventsPageCount } from './ticketEvents';
import type {
  BrokenRecordKind,
  ConsentMode,
  ExportStream,
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
  UserEntitlements,
  UserPatch,
  WorkspaceStats,
  ZendeskUser,
} from './types';

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
  /** @internal */ readonly rawEdits = new RawUserEdits();
  /** @internal */ readonly brokenRecords = new BrokenRecords();
  /** @internal */ readonly exportQuirks = new ExportQuirks();
  /** Every seat change made through PUT /api/v2/users/{id} (userWrites.ts); not kept across a sandbox restart. */
  readonly userChanges = new UserChangeLog();
  /** Seats bought (undefined: unlimited): an upgrade beyond them is refused (setPurchasedSeats). */
  purchasedSeats: number | undefined;
  readonly legacyChatOnly: boolean;
  readonly hasMoreOnlyWithBoundaryIndicators: boolean;
  /** @internal false: the entitlements endpoint answers 403. */
  entitlementsReadable: boolean;
  /** @internal What users/count answers instead of the exact count (setUserCountEstimate). */
  userCountEstimate: UserCountEstimate | null = null;
  private readonly entitlementOverrides = new Map<number, UserEntitlements>();

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
    this.legacyChatOnly = opts.legacyChatOnly ?? false;
    this.hasMoreOnlyWithBoundaryIndicators = opts.hasMoreOnlyWithBoundaryIndicators ?? false;
    this.entitlementsReadable = !(opts.entitlementsForbidden ?? false);
    this.purchasedSeats = opts.purchasedSeats;
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

  /** Ids of the active agents and admins (the seat holders the role-filtered list returns), in id order. */
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

  // ------------------------------------------------------------ raw records (tolerant-reader tests)

  /**
   * Sets fields of a user's served JSON to exact values, even ones no model produces (`role: 'superhero'`,
   * `role_type: 9`, `ticket_restriction: 'team'`, `updated_at: 'yesterday'`). Only the JSON changes: the
   * sandbox still treats the user by its model (auth, role filters). Unless `touch: false`, the user moves
   * into the incremental export like an update (now). Returns the served JSON.
   */
  setRawUserFields(id: number, fields: Record<string, unknown>, opts: { touch?: boolean } = {}): Record<string, unknown> {
    const i = this.requireUser(id);
    this.rawEdits.set(id, fields);
    if (opts.touch ?? true) this.userStore.update(i, {}, this.now());
    return this.rawUser(id)!;
  }

  /** Leaves fields out of a user's served JSON (`updated_at`, `active`, `suspended`, `role`, even `id`); like setRawUserFields. */
  removeUserFields(id: number, fields: string[], opts: { touch?: boolean } = {}): Record<string, unknown> {
    const i = this.requireUser(id);
    this.rawEdits.remove(id, fields);
    if (opts.touch ?? true) this.userStore.update(i, {}, this.now());
    return this.rawUser(id)!;
  }

  /** Drops raw edits (of one user, or all); the user serves its model again (its export position stays). */
  clearRawUserEdits(id?: number): void {
    this.rawEdits.clear(id);
  }

  /** The user's JSON exactly as served, raw edits included. */
  rawUser(id: number): Record<string, unknown> | undefined {
    return this.userJson(id) as Record<string, unknown> | undefined;
  }

  /**
   * Injects broken entries into an export, right after a real record (`after`: a user id for 'users', an
   * event id for 'ticketEvents'; default: the second record of the export), so they sit among good records
   * of the same page every time that page is read. See BrokenRecordKind for each kind. Returns the anchor.
   */
  injectBrokenRecords(stream: ExportStream, kinds: BrokenRecordKind[], opts: { after?: number } = {}): { after: number } {
    let after = opts.after;
    if (after === undefined) {
      if (stream === 'users') {
        if (this.userStore.size === 0) throw new Error('no users to anchor broken records to');
        after = this.userStore.idAt(this.userStore.byUpdatedAt(Math.min(1, this.userStore.size - 1)));
      } else {
        if (this.eventStore.size === 0) throw new Error('no ticket events to anchor broken records to');
        after = this.eventStore.idAt(Math.min(1, this.eventStore.size - 1));
      }
    } else if (stream === 'users') {
      this.requireUser(after);
    }
    this.brokenRecords.add(stream, after, kinds);
    return { after };
  }

  clearBrokenRecords(stream?: ExportStream): void {
    this.brokenRecords.clear(stream);
  }

  // ------------------------------------------------------------ refused positions, stuck pagination

  /**
   * Every users-export cursor issued so far is refused from now on (default 400 InvalidCursor in Zendesk's
   * `errors[]` dialect; `dialect: 'InvalidValue'` for `{error, description}`); a fresh export from a
   * start_time works, and the cursors it issues are accepted.
   */
  refuseExportCursors(opts: { status?: 400 | 422; dialect?: ErrorDialect } = {}): void {
    this.exportQuirks.refuseIssuedCursors(opts);
  }

  /** Accepts every cursor again. */
  acceptExportCursors(): void {
    this.exportQuirks.minCursorEpoch = 0;
  }

  /**
   * Ticket-events requests are refused by start_time: 'tooOld' (default) refuses start_time < boundary,
   * 'tooRecent' refuses start_time >= boundary (epoch seconds). Default 422 `{error: "InvalidValue", …}`.
   */
  refuseTicketEventStartTimes(
    boundary: number,
    opts: { reason?: 'tooOld' | 'tooRecent'; status?: 400 | 422; dialect?: ErrorDialect; exact?: boolean; times?: number } = {},
  ): void {
    this.exportQuirks.startTimeRefusal = {
      boundary,
      exact: opts.exact,
      times: opts.times,
      reason: opts.reason ?? 'tooOld',
      status: opts.status ?? 422,
      dialect: opts.dialect ?? 'InvalidValue',
    };
  }

  acceptTicketEventStartTimes(): void {
    this.exportQuirks.startTimeRefusal = null;
  }

  /** The users export answers a cursor with that same cursor again and end_of_stream false (the first page still advances). */
  stallUsersExportCursor(on = true): void {
    this.exportQuirks.stallUsersCursor = on;
  }

  /** Ticket-events pages answer end_time = start_time - seconds with end_of_stream false; null turns it off. */
  rewindTicketEventsEndTime(seconds: number | null = 3600): void {
    this.exportQuirks.eventsEndTimeRewindSeconds = seconds;
  }

  /** Turns off refusals and stuck pagination (cursor epochs stay, so old cursors work again). */
  resetExportQuirks(): void {
    this.exportQuirks.reset();
  }

  // ------------------------------------------------------------ entitlements

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

  /**
   * Requests the ticket-events export needs from `startTime` (epoch s) to `end_of_stream`, following
   * `next_page` at `perPage` (default 1000), as the sandbox answers now: a same-run reference for benches.
   */
  ticketEventsPageCount(startTime: number, perPage = MAX_EXPORT_PAGE): number {
    const maxTs = Math.floor((this.now() - this.exclusionSeconds * 1000) / 1000);
    const reads = this.eventStore.reads;
    const pages = eventsPageCount(this.eventStore, startTime, perPage, maxTs);
    this.eventStore.reads = reads;
    return pages;
  }

  /** Requests the users export needs from `startTime` (epoch s, default 0) to `end_of_stream` at `perPage`. */
  usersExportPageCount(startTime = 0, perPage = MAX_EXPORT_PAGE): number {
    const store = this.userStore;
    const horizonMs = this.now() - this.exclusionSeconds * 1000;
    const n = store.firstAfter({ ms: horizonMs, id: Number.MAX_SAFE_INTEGER }) - store.firstAfter({ ms: startTime * 1000, id: -1 });
    return Math.max(1, Math.ceil(Math.max(0, n) / perPage));
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

  /**
   * An access token without the consent dance, for a direct client (a bench's reference walk, a script):
   * a new grant of `userId` (default the owner) with `scope` (default `read`) for `clientId` (default
   * `sandbox-direct`, which needs no registration), expiring like the workspace's tokens. It is listed by
   * issuedTokens() and grants() like any other.
   */
  issueAccessToken(opts: { userId?: number; scope?: string; clientId?: string } = {}): string {
    const userId = opts.userId ?? this.ownerId;
    this.requireUser(userId);
    const now = this.now();
    const grant = this.oauth.createGrant(opts.clientId ?? 'sandbox-direct', userId, opts.scope ?? 'read', now);
    return this.oauth.issuePair(grant, this.tokens.accessTokenTtlSeconds, this.tokens.refreshTokenTtlSeconds, now).access.token;
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
