import { UserChangeLog } from './userWrites';
import { BrokenRecords } from './brokenRecords';
import type { Actors } from './eventGenerator';
import type { EventStore } from './eventStore';
import { ExportQuirks } from './exportQuirks';
import { FaultController } from './faults';
import { hash32, Prng } from './prng';
import { RateLimiter } from './rateLimiter';
import { Stats } from './stats';
import { OAuthState } from './tokens';
import { RawUserEdits } from './rawUserEdits';
import type { UserStore } from './userStore';
import type { UserCountEstimate } from './userCount';
import type { ConsentMode, OAuthClient } from './types';
import type { GeneratedData, TokenPolicy, WorkspaceEnv, WorkspaceOptions, WorkspaceSnapshot } from './workspaceTypes';

/**
 * The state of one simulated Zendesk account and what every part of it needs (the clock, change notices,
 * persistence). The control methods tests use are layered on it, one concern a file, up to SandboxWorkspace
 * (workspace.ts): a single chain, so a workspace keeps one flat API (`ws.updateUser`, `ws.injectFaults`…).
 */
export abstract class WorkspaceBase {
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

  consentMode: ConsentMode;
  exclusionSeconds: number;
  protected consentingUserId: number;
  protected readonly actors: Actors;
  protected readonly localClients = new Map<string, OAuthClient>();
  protected tokens: TokenPolicy;
  protected readonly eventRng: Prng;
  protected readonly options: WorkspaceOptions;

  constructor(
    opts: WorkspaceOptions,
    data: GeneratedData,
    protected readonly env: WorkspaceEnv,
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

  protected changed(): void {
    this.env.onChange?.();
  }

  protected requireUser(id: number): number {
    const i = this.userStore.indexOf(id);
    if (i === undefined) throw new Error(`no user ${id} in workspace ${this.subdomain}`);
    return i;
  }

  /** Here, not with the rest of OAuth: the constructor registers the options' own clients. */
  addClient(c: OAuthClient): void {
    this.localClients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
    this.changed();
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
}
