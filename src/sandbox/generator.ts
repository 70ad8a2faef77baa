// Builds a workspace's data deterministically from (subdomain, seed, sizes, now).

import { actorsFrom, generateEvents } from './eventGenerator';
import { hash32 } from './prng';
import { validSeatHolders } from './seats';
import { UserStore } from './userStore';
import { SandboxWorkspace } from './workspace';
import type { GeneratedData, WorkspaceEnv, WorkspaceOptions } from './workspaceTypes';

const SUBDOMAIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const DEFAULT_USERS = 50;
const DEFAULT_TICKET_EVENTS = 500;
const DEFAULT_DAYS = 120;

function seedFor(subdomain: string): number {
  return hash32(...[...subdomain].map((c) => c.codePointAt(0) ?? 0));
}

function generateData(opts: WorkspaceOptions, nowMs: number, baseUrl?: string): GeneratedData {
  if (!SUBDOMAIN_RE.test(opts.subdomain)) throw new Error(`invalid subdomain ${JSON.stringify(opts.subdomain)}`);
  const seed = opts.seed ?? seedFor(opts.subdomain);
  const count = Math.max(1, Math.floor(opts.users ?? DEFAULT_USERS)); // there is always an owner
  const users = UserStore.generate({
    seed,
    count,
    nowMs,
    subdomain: opts.subdomain,
    baseUrl,
    idBase: 360_000_000_000 + (hash32(seed, 0x1dba) % 1_000_000) * 1000,
    seatHolders: validSeatHolders(opts.seatHolders, count),
  });
  const ownerId = users.idAt(0);
  const actors = actorsFrom(users, seed, ownerId);
  const events = generateEvents(
    { seed, count: Math.max(0, Math.floor(opts.ticketEvents ?? DEFAULT_TICKET_EVENTS)), nowMs, days: opts.days ?? DEFAULT_DAYS },
    actors,
  );
  // Reads made while generating are not the endpoints' cost.
  users.reads = 0;
  events.reads = 0;
  return { seed, users, events, actors, ownerId };
}

/** Defaults for a workspace that is not attached to a running sandbox (determinism tests, scripts). */
function detachedEnv(subdomain: string, now: () => number = Date.now): WorkspaceEnv {
  return {
    now,
    baseUrl: `https://${subdomain}.zendesk.com`,
    sharedClients: new Map(),
    logger: { info() {}, warn() {} },
    defaults: {
      rateLimitWindowMs: 60_000,
      exclusionSeconds: 60,
      accessTokenTtlSeconds: 1800,
      refreshTokenTtlSeconds: 2_592_000,
      codeTtlSeconds: 120,
      accessExplicit: false,
      refreshExplicit: false,
    },
  };
}

/**
 * Generates a workspace: same options and seed ⇒ same users and events. Without `env` the
 * workspace is detached (its URLs point at <subdomain>.zendesk.com and nothing serves it).
 */
export function generateWorkspace(opts: WorkspaceOptions, env?: WorkspaceEnv): SandboxWorkspace {
  const e = env ?? detachedEnv(opts.subdomain);
  // The generation instant is kept with the options, so a snapshot regenerates the same data.
  const now = opts.now ?? e.now();
  const data = generateData(opts, now, e.baseUrl);
  return new SandboxWorkspace({ ...opts, now }, data, e);
}
