// The sandbox at a structural size (200,000 users, 1,000 seat holders, 400,000 events over 90 days, the
// ratios of the 1M-user bench account): the seat-holder list, show_many and users/count are exact, a
// page costs the same number of store reads whatever the number of end users (counted, not timed), and
// the workspace is held in bounded memory (columns, no per-user objects).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Sandbox, SandboxWorkspace, WorkspaceOptions, ZendeskUser } from '../../src/sandbox';
import { api, connect, start } from './helpers';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const BIG: Omit<WorkspaceOptions, 'subdomain'> = { users: 200_000, seatHolders: 1_000, ticketEvents: 400_000, days: 90, seed: 16 };
/** Same seat holders and pages, a tenth of the end users and events. */
const SMALL: Omit<WorkspaceOptions, 'subdomain'> = { users: 20_000, seatHolders: 1_000, ticketEvents: 40_000, days: 90, seed: 16 };
const SEATS = 'role[]=agent&role[]=admin&page[size]=100';
/** Bounds (measured: about 11 MB of columns per 100,000 users with two events each, under 1 MB of heap). */
const MAX_MB_PER_100K_USERS = 16;
const MAX_HEAP_MB_PER_100K_USERS = 3;

const memory = () => {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, total: m.heapUsed + m.arrayBuffers };
};

interface Walked {
  ids: number[];
  pages: number;
  /** Store reads of each page's request. */
  reads: number[];
}

describe('the sandbox at the size of the largest accounts (structurally)', () => {
  let sb: Sandbox;
  let big: SandboxWorkspace;
  let small: SandboxWorkspace;
  const tokens: Record<string, string> = {};
  let grown: { heap: number; total: number };
  before(async () => {
    sb = await start();
    const m0 = memory();
    big = sb.createWorkspace({ subdomain: 'big', ...BIG, consentMode: 'allow', rateLimits: false, exclusionSeconds: 0 });
    const m1 = memory();
    grown = { heap: m1.heap - m0.heap, total: m1.total - m0.total };
    small = sb.createWorkspace({ subdomain: 'small', ...SMALL, consentMode: 'allow', rateLimits: false, exclusionSeconds: 0 });
    tokens.big = (await connect(sb, 'big')).access_token;
    tokens.small = (await connect(sb, 'small')).access_token;
  });
  after(() => sb.close());

  /** One request, with the store reads it caused. */
  async function measured(ws: SandboxWorkspace, path: string) {
    ws.resetStoreReads();
    const r = await api(sb, ws.subdomain, path, tokens[ws.subdomain]);
    assert.equal(r.status, 200, r.text);
    const reads = ws.storeReads();
    return { body: r.body, reads };
  }

  async function walkSeats(ws: SandboxWorkspace): Promise<Walked> {
    const out: Walked = { ids: [], pages: 0, reads: [] };
    let next: string | null = `/api/v2/users?${SEATS}`;
    while (next) {
      const { body, reads } = await measured(ws, next);
      assert.ok(
        body.users.every((u: ZendeskUser) => u.role === 'agent' || u.role === 'admin'),
        'only seat holders',
      );
      out.ids.push(...body.users.map((u: ZendeskUser) => u.id));
      out.pages++;
      out.reads.push(reads.users);
      assert.equal(reads.events, 0);
      next = body.meta.has_more ? body.links.next : null;
    }
    return out;
  }

  test('memory: columns only, bounded per user', (t) => {
    const per100k = (bytes: number) => bytes / 1e6 / ((BIG.users as number) / 100_000);
    t.diagnostic(`per 100,000 users (with 200,000 events): ${per100k(grown.total).toFixed(1)} MB in all, ${per100k(grown.heap).toFixed(2)} MB of JS heap`);
    assert.ok(per100k(grown.total) < MAX_MB_PER_100K_USERS, `${per100k(grown.total).toFixed(1)} MB (heap and typed arrays) per 100,000 users`);
    assert.ok(per100k(grown.heap) < MAX_HEAP_MB_PER_100K_USERS, `${per100k(grown.heap).toFixed(1)} MB of JS heap per 100,000 users`);
    assert.equal(big.userCount(), BIG.users);
    assert.equal(big.ticketEventCount(), BIG.ticketEvents);
  });

  test('the role-filtered list returns exactly the seat holders, 10 pages, each costing the same whatever the end users', async (t) => {
    const b = await walkSeats(big);
    const s = await walkSeats(small);
    for (const [ws, w] of [
      [big, b],
      [small, s],
    ] as const) {
      assert.equal(w.ids.length, 1_000);
      assert.equal(new Set(w.ids).size, 1_000);
      assert.deepEqual(w.ids, ws.seatHolderIds());
      assert.equal(w.pages, 10);
    }
    // A page reads its users (one record each) and the heads of the two staff indexes: O(page).
    const worst = (w: Walked) => Math.max(...w.reads);
    t.diagnostic(`store reads per page: 200,000 users ${b.reads.join(' ')}; 20,000 users ${s.reads.join(' ')}`);
    assert.ok(worst(b) <= 3 * 100 + 10, `a seat page read ${worst(b)} store entries`);
    assert.ok(Math.abs(worst(b) - worst(s)) <= 4, `page cost ${worst(b)} with 200,000 users vs ${worst(s)} with 20,000`);
    // What a scan of the id order would read to find 100 seat holders among 200 end users each.
    assert.ok(worst(b) < 20_000 / 10);
  });

  test('show_many: 100 ids in one request, O(ids); downgraded, deleted and unknown ids as Zendesk answers them', async () => {
    const seats = big.seatHolderIds();
    const endUser = big.userIds({ role: 'end-user', activeOnly: true })[123_456];
    const deleted = big.users().find((u) => !u.active)!.id;
    const ids = [...seats.slice(0, 96), endUser, deleted, 1, 2];
    const { body, reads } = await measured(big, `/api/v2/users/show_many?ids=${ids.join(',')}`);
    assert.deepEqual(
      body.users.map((u: ZendeskUser) => u.id),
      [...seats.slice(0, 96), endUser].sort((x, y) => x! - y!),
    );
    assert.ok(reads.users <= 100, `show_many read ${reads.users}`);
    const withDeleted = await measured(big, `/api/v2/users/show_many?ids=${ids.join(',')}&include_deleted=true`);
    assert.equal(withDeleted.body.users.length, 98);
  });

  test('users/count: exact, without reading users', async () => {
    const seats = await measured(big, '/api/v2/users/count?role[]=agent&role[]=admin');
    assert.equal(seats.body.count.value, 1_000);
    assert.ok(seats.reads.users <= 1, 'one read: the authenticated user');
    const endUsers = await measured(big, '/api/v2/users/count?role=end-user');
    assert.equal(endUsers.body.count.value, big.userIds({ role: 'end-user', activeOnly: true }).length);
    const all = await measured(big, '/api/v2/users/count');
    assert.equal(all.body.count.value, endUsers.body.count.value + 1_000);
  });

  test('the users export and the ticket-events export cost O(page), wherever the page is', async () => {
    for (const ws of [big, small]) {
      let first = await measured(ws, '/api/v2/incremental/users/cursor?start_time=0');
      assert.equal(first.body.users.length, 1000);
      for (let i = 0; i < 2; i++) {
        first = await measured(ws, `/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(first.body.after_cursor)}`);
        assert.ok(first.reads.users <= 3 * 1000 + 10, `export page: ${first.reads.users} reads`);
      }
      // Far into the stream: the position is found by binary search, not by walking to it.
      const late = await measured(ws, `/api/v2/incremental/users/cursor?start_time=${Math.floor(Date.now() / 1000) - 30 * 86_400}`);
      assert.ok(late.body.users.length > 0);
      assert.ok(late.reads.users <= 3 * 1000 + 10, `late export page: ${late.reads.users} reads`);

      const events = await measured(ws, `/api/v2/incremental/ticket_events?start_time=${Math.floor(Date.now() / 1000) - 7 * 86_400}`);
      assert.ok(events.body.ticket_events.length >= 1000);
      assert.ok(events.reads.events <= 2 * events.body.ticket_events.length + 10, `ticket events page: ${events.reads.events} reads`);
      assert.ok(events.reads.users <= 1, 'one read: the authenticated user');
    }
  });
});
