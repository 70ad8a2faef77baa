import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { api, connect, start, TestClock } from './helpers';

interface EventPage {
  ticket_events: Array<Record<string, any>>;
  count: number;
  end_time: number;
  next_page: string;
  end_of_stream: boolean;
}

describe('GET /api/v2/incremental/ticket_events', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  const clock = new TestClock();
  before(async () => {
    sb = await start({ now: clock.now });
    ws = sb.createWorkspace({ subdomain: 'events', users: 300, ticketEvents: 6000, seed: 11, consentMode: 'allow', exclusionSeconds: 0, rateLimits: false });
    token = (await connect(sb, 'events')).access_token;
  });
  after(() => sb.close());

  const get = async (path: string): Promise<EventPage> => {
    const r = await api(sb, 'events', path, token);
    assert.equal(r.status, 200, r.text);
    return r.body as EventPage;
  };

  async function walk(first: string) {
    const pages: EventPage[] = [];
    let page = await get(first);
    pages.push(page);
    while (!page.end_of_stream) {
      page = await get(page.next_page);
      pages.push(page);
      assert.ok(pages.length < 10_000, 'walk must end');
    }
    return pages;
  }

  test('a walk deduplicated by id equals the generated events; edges repeat; groups never split', async () => {
    const perPage = 50;
    const pages = await walk(`/api/v2/incremental/ticket_events.json?start_time=0&per_page=${perPage}`);
    const all = [...ws.ticketEvents()];
    const byTs = new Map<number, number>();
    for (const e of all) byTs.set(e.timestamp, (byTs.get(e.timestamp) ?? 0) + 1);

    const seen = new Map<number, number>();
    let total = 0;
    let overflowed = 0;
    for (const p of pages) {
      assert.equal(p.count, p.ticket_events.length);
      if (p.count > perPage) overflowed++;
      for (const e of p.ticket_events) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      total += p.count;
      if (p.count > 0) {
        const last = p.ticket_events[p.count - 1]!.timestamp;
        // the whole group of the last timestamp is on the page
        assert.equal(p.ticket_events.filter((e) => e.timestamp === last).length, byTs.get(last));
        assert.ok(p.end_time === last || p.end_time === last + 1);
        assert.match(p.next_page, new RegExp(`start_time=${p.end_time}`));
      }
      assert.equal(p.end_of_stream, p.count < perPage);
    }
    assert.deepEqual(
      [...seen.keys()].sort((a, b) => a - b),
      all.map((e) => e.id).sort((a, b) => a - b),
    );
    assert.ok(total > all.length, 'events at page edges are sent twice');
    assert.ok([...seen.values()].some((n) => n > 1));
    assert.ok(overflowed > 0, 'some pages exceed per_page');
  });

  test('a burst larger than a page comes whole, and the walk still moves on', async () => {
    const all = [...ws.ticketEvents()];
    const counts = new Map<number, number>();
    for (const e of all) counts.set(e.timestamp, (counts.get(e.timestamp) ?? 0) + 1);
    const [ts, size] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    assert.ok(size > 1000, `largest burst ${size}`);
    const p = await get(`/api/v2/incremental/ticket_events?start_time=${ts}&per_page=1000`);
    assert.ok(p.count >= size);
    assert.ok(p.ticket_events.slice(0, size).every((e) => e.timestamp === ts));
  });

  test('events have the export shape; comment_events adds comments with author_id', async () => {
    const plain = await get('/api/v2/incremental/ticket_events?start_time=0&per_page=200');
    const e = plain.ticket_events[0];
    for (const k of [
      'id',
      'ticket_id',
      'timestamp',
      'created_at',
      'updater_id',
      'via',
      'system',
      'metadata',
      'event_type',
      'child_events',
      'merged_ticket_ids',
    ]) {
      assert.ok(k in e!, k);
    }
    assert.equal(e!.event_type, 'Audit');
    assert.equal(typeof e!.via, 'string');
    assert.equal(new Date(e!.timestamp * 1000).toISOString().replace('.000Z', 'Z'), e!.created_at);
    assert.ok(plain.ticket_events.every((x) => x.child_events.every((c: any) => c.event_type !== 'Comment')));
    assert.ok(plain.ticket_events.some((x) => x.child_events.some((c: any) => c.comment_present === true)));

    const withComments = await get('/api/v2/incremental/ticket_events?start_time=0&per_page=200&include=comment_events');
    const comments = withComments.ticket_events.flatMap((x) => x.child_events.filter((c: any) => c.event_type === 'Comment'));
    assert.ok(comments.length > 0);
    for (const c of comments) {
      assert.equal(typeof c.author_id, 'number');
      assert.equal(typeof c.public, 'boolean');
      // An object on comment events, a string on the audit (recorded).
      assert.deepEqual(Object.keys(c.via), ['channel', 'source']);
    }
    const updaters = new Set(withComments.ticket_events.map((x) => x.updater_id));
    assert.ok(updaters.has(-1), 'system updates');
    const roles = new Map(ws.users().map((u) => [u.id, u.role]));
    assert.ok(
      [...updaters].some((id) => roles.get(id) === 'end-user'),
      'end-user updates',
    );
    assert.ok(
      [...updaters].some((id) => roles.get(id) === 'agent' || roles.get(id) === 'admin'),
      'agent updates',
    );
  });

  test('start_time is required, per_page is capped at 1000', async () => {
    assert.equal((await api(sb, 'events', '/api/v2/incremental/ticket_events', token)).status, 400);
    const p = await get('/api/v2/incremental/ticket_events?start_time=0&per_page=5000');
    assert.ok(p.count >= 1000 && p.count < 2000);
  });

  test('added events appear in the next poll; the recent window is excluded', async () => {
    const last = await walk('/api/v2/incremental/ticket_events?start_time=0');
    const endTime = last[last.length - 1]!.end_time;
    clock.advance(5000);
    const added = ws.addTicketEvents([{ updater_id: ws.ownerId }, { updater_id: -1 }, {}]);
    const next = await get(`/api/v2/incremental/ticket_events?start_time=${endTime}`);
    const ids = new Set(next.ticket_events.map((e) => e.id));
    for (const a of added) assert.ok(ids.has(a.id));
    assert.equal(next.end_of_stream, true);

    ws.setExclusionSeconds(60);
    try {
      clock.advance(1000);
      const hidden = ws.addTicketEvents([{ timestamp: Math.floor(clock.now() / 1000) - 10 }]);
      const p = await get(`/api/v2/incremental/ticket_events?start_time=${endTime}`);
      assert.ok(!p.ticket_events.some((e) => e.id === hidden[0]!.id));
      const tooRecent = await api(sb, 'events', `/api/v2/incremental/ticket_events?start_time=${Math.floor(clock.now() / 1000) - 5}`, token);
      assert.equal(tooRecent.status, 422);
      assert.equal(tooRecent.body.error, 'InvalidValue');
      clock.advance(60_000);
      const p2 = await get(`/api/v2/incremental/ticket_events?start_time=${endTime}`);
      assert.ok(p2.ticket_events.some((e) => e.id === hidden[0]!.id));
    } finally {
      ws.setExclusionSeconds(0);
    }
  });

  test('events added in the past are inserted in order', async () => {
    const ts = [...ws.ticketEvents()][100]!.timestamp;
    const [e] = ws.addTicketEvents([{ timestamp: ts, updater_id: ws.ownerId, comment_author_id: null }]);
    const p = await get(`/api/v2/incremental/ticket_events?start_time=${ts}&per_page=10`);
    assert.ok(p.ticket_events.some((x) => x.id === e!.id));
    const all = [...ws.ticketEvents()];
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i - 1]!.timestamp < all[i]!.timestamp || (all[i - 1]!.timestamp === all[i]!.timestamp && all[i - 1]!.id < all[i]!.id));
    }
  });
});
