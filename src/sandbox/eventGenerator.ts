// Deterministic ticket-event history: events spread over the past `days`, ending two minutes ago,
// with many bursts that share one timestamp (bulk updates, triggers), including a few bursts bigger
// than a page so the export's "page overflows to the whole timestamp group" rule gets exercised.

import { EventKind, EventStore, type NewEvent } from './eventStore';
import { hash32, Prng } from './prng';
import type { UserStore } from './userStore';

export interface EventGenContext {
  seed: number;
  count: number;
  nowMs: number;
  days: number;
}

/** Who can act on tickets: agents weighted by activity, end users, and the system (-1). */
export interface Actors {
  /** Ids in typed arrays: a million end users are 8 MB here, not a growing array of numbers. */
  agents: Float64Array;
  endUsers: Float64Array;
  ownerId: number;
}

/** Picks the actors from the users; ~30% of agents never touch a ticket (they should look inactive). */
export function actorsFrom(users: UserStore, seed: number, ownerId: number): Actors {
  const isAgent = (index: number, id: number) => id === ownerId || hash32(seed, 0x1d1e, id) % 100 >= 30;
  let agentCount = 0;
  let endUserCount = 0;
  for (let k = 0; k < users.size; k++) {
    const index = users.byIdAt(k);
    if (users.roleAt(index) === 'end-user') endUserCount++;
    else if (isAgent(index, users.idAt(index))) agentCount++;
  }
  const agents = new Float64Array(Math.max(1, agentCount));
  const endUsers = new Float64Array(endUserCount);
  let a = 0;
  let e = 0;
  for (let k = 0; k < users.size; k++) {
    const index = users.byIdAt(k);
    const id = users.idAt(index);
    if (users.roleAt(index) === 'end-user') endUsers[e++] = id;
    else if (isAgent(index, id)) agents[a++] = id;
  }
  if (agentCount === 0) agents[0] = ownerId;
  return { agents, endUsers, ownerId };
}

/** A skewed pick: a few agents do most of the work, like real help desks. */
function pickAgent(actors: Actors, rng: Prng): number {
  return actors.agents[Math.floor(Math.pow(rng.next(), 1.7) * actors.agents.length)]!;
}

function pickEndUser(actors: Actors, rng: Prng): number {
  return actors.endUsers.length > 0 ? rng.pick(actors.endUsers) : pickAgent(actors, rng);
}

function eventIdBase(seed: number): number {
  return 300_000_000_000 + (hash32(seed, 0xe1d) % 100_000) * 1_000_000;
}

/** Ids step by 10 so an audit's child events (id+1, id+2) never collide with the next audit. */
export const EVENT_ID_STEP = 10;

export function generateEvents(ctx: EventGenContext, actors: Actors): EventStore {
  const store = new EventStore(ctx.seed, ctx.count);
  if (ctx.count <= 0) return store;
  const rng = new Prng(hash32(ctx.seed, 0xe7));

  // 1. Group sizes: mostly singles, frequent small bursts, rare large ones.
  const sizes: number[] = [];
  let total = 0;
  while (total < ctx.count) {
    const size = rng.weighted<[number, number]>([
      [[1, 1], 82],
      [[2, 8], 13],
      [[9, 60], 4],
      [[61, 300], 1],
    ]);
    const s = rng.int(size[0], size[1]);
    sizes.push(s);
    total += s;
  }
  // A few mass updates (a macro or trigger over many tickets) bigger than a whole export page.
  if (ctx.count >= 2000) {
    const giants = Math.max(1, Math.floor(ctx.count / 400_000));
    for (let g = 0; g < giants; g++) {
      const pos = Math.floor(rng.next() * sizes.length);
      sizes[pos]! += Math.min(Math.floor(ctx.count / 3), rng.int(1000, 1800));
    }
  }
  // Trim back to exactly count.
  total = 0;
  let groups = 0;
  while (groups < sizes.length && total + sizes[groups]! <= ctx.count) total += sizes[groups++]!;
  if (total < ctx.count) sizes[groups++] = ctx.count - total;
  sizes.length = groups;

  // 2. Timestamps: a monotone warp of evenly spread group slots, denser towards now.
  const endSec = Math.floor(ctx.nowMs / 1000) - 120;
  const span = Math.max(1, ctx.days * 86_400);
  const startSec = endSec - span;
  const tickets = Math.max(10, Math.floor(ctx.count / 6));
  let id = eventIdBase(ctx.seed);
  let lastTs = 0;

  for (let g = 0; g < groups; g++) {
    const x = (g + 0.8 * rng.next()) / groups;
    const ts = Math.max(lastTs, Math.min(endSec, startSec + Math.floor(span * Math.pow(x, 0.7))));
    lastTs = ts;
    const size = sizes[g];
    // Big bursts are one actor touching many tickets at once.
    const bulk = size! >= 9;
    const bulkUpdater = bulk ? (rng.chance(0.5) ? -1 : pickAgent(actors, rng)) : 0;
    for (let k = 0; k < size!; k++) {
      id += EVENT_ID_STEP;
      const ticketId = 1 + Math.floor(Math.min(0.9999, x * 0.85 + rng.next() * 0.15) * tickets);
      const e = bulk ? bulkEvent(id + rng.int(0, 4), ticketId, ts, bulkUpdater) : randomEvent(id + rng.int(0, 4), ticketId, ts, actors, rng);
      store.pushSorted(e);
    }
  }
  return store;
}

function bulkEvent(id: number, ticketId: number, ts: number, updaterId: number): NewEvent {
  return {
    id,
    ticketId,
    timestamp: ts,
    updaterId,
    authorId: NaN,
    kind: updaterId === -1 ? EventKind.System : EventKind.AgentChange,
    isPublic: false,
  };
}

export function randomEvent(id: number, ticketId: number, ts: number, actors: Actors, rng: Prng): NewEvent {
  const kind = rng.weighted<EventKind>([
    [EventKind.AgentComment, 40],
    [EventKind.AgentChange, 18],
    [EventKind.EndUserReply, 20],
    [EventKind.System, 14],
    [EventKind.TicketCreated, 8],
  ]);
  switch (kind) {
    case EventKind.AgentComment: {
      const agent = pickAgent(actors, rng);
      // Now and then an agent posts a comment on behalf of the requester.
      const author = rng.chance(0.05) ? pickEndUser(actors, rng) : agent;
      return { id, ticketId, timestamp: ts, updaterId: agent, authorId: author, kind, isPublic: rng.chance(0.75) };
    }
    case EventKind.AgentChange:
      return { id, ticketId, timestamp: ts, updaterId: pickAgent(actors, rng), authorId: NaN, kind, isPublic: false };
    case EventKind.System:
      return { id, ticketId, timestamp: ts, updaterId: -1, authorId: NaN, kind, isPublic: false };
    default: {
      const user = pickEndUser(actors, rng);
      return { id, ticketId, timestamp: ts, updaterId: user, authorId: user, kind, isPublic: true };
    }
  }
}
