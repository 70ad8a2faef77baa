import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { api, connect, start, TestClock } from './helpers';

/** Raw edits of served users and broken entries among good records: what a tolerant reader must survive. */
describe('raw user fields and broken export records', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  const clock = new TestClock();
  before(async () => {
    sb = await start({ now: clock.now });
    ws = sb.createWorkspace({ subdomain: 'broken', users: 60, ticketEvents: 400, seed: 4, consentMode: 'allow', exclusionSeconds: 0, rateLimits: false });
    token = (await connect(sb, 'broken')).access_token;
  });
  after(() => sb.close());

  const exportText = async (path: string) => {
    const r = await api(sb, 'broken', path, token);
    assert.equal(r.status, 200, r.text);
    return r;
  };

  test('setRawUserFields / removeUserFields change the served JSON and move the user into the export', async () => {
    const first = await exportText('/api/v2/incremental/users/cursor?start_time=0');
    const cursor = first.body.after_cursor as string;
    const agent = ws.users().find((u) => u.role === 'agent' && u.active)!;
    clock.advance(1000);
    ws.setRawUserFields(agent.id, { role: 'superhero', role_type: 9, ticket_restriction: 'team' });
    ws.removeUserFields(agent.id, ['updated_at', 'active', 'suspended']);

    const changed = await exportText(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(cursor)}`);
    assert.deepEqual(
      changed.body.users.map((u: { id: number }) => u.id),
      [agent.id],
    );
    const served = changed.body.users[0];
    assert.equal(served.role, 'superhero');
    assert.equal(served.role_type, 9);
    assert.equal(served.ticket_restriction, 'team');
    for (const k of ['updated_at', 'active', 'suspended']) assert.equal(k in served, false, k);
    // Key order of the other fields is kept.
    assert.deepEqual(Object.keys(served).slice(0, 5), ['id', 'url', 'name', 'email', 'created_at']);
    // Everywhere the user is served, and in ws.users(); the model is untouched (role filter, auth).
    assert.equal((await api(sb, 'broken', `/api/v2/users/${agent.id}`, token)).body.user.role, 'superhero');
    assert.equal(ws.rawUser(agent.id)!.role, 'superhero');
    const agents = await api(sb, 'broken', '/api/v2/users?page[size]=100&role=agent', token);
    assert.ok(agents.body.users.some((u: { id: number }) => u.id === agent.id));

    // Setting a removed field brings it back; clearing restores the model.
    ws.setRawUserFields(agent.id, { active: 'yes' }, { touch: false });
    assert.equal(ws.rawUser(agent.id)!.active, 'yes');
    ws.clearRawUserEdits(agent.id);
    assert.equal(ws.rawUser(agent.id)!.role, 'agent');
    assert.equal(typeof ws.rawUser(agent.id)!.updated_at, 'string');
  });

  test('broken entries sit among the good records of one users-export page, on every read', async () => {
    let unsafeLiteral = '';
    const { after: anchor } = ws.injectBrokenRecords('users', ['noId', 'stringId', 'unsafeId', 'string', 'null', 'array', 'duplicateId', 'nulInName']);
    try {
      for (let read = 0; read < 2; read++) {
        const r = await exportText('/api/v2/incremental/users/cursor?start_time=0&per_page=10');
        // Literal digits beyond 2^53 are in the text (JSON.parse rounds them), the same on every read.
        const literal = /"id":(9\d{15})[,}]/.exec(r.text);
        assert.ok(literal && BigInt(literal[1]!) > 2n ** 53n, 'an id beyond 2^53');
        if (read === 0) unsafeLiteral = literal[1]!;
        else assert.equal(literal[1], unsafeLiteral);
        const entries = r.body.users as unknown[];
        const at = entries.findIndex((e) => (e as { id?: unknown } | null)?.id === anchor);
        assert.ok(at >= 1, 'a good record before the anchor');
        const broken = entries.slice(at + 1, at + 8);
        const [noId, stringId, unsafe, str, nul, arr, dup] = broken as any[];
        assert.equal('id' in noId, false);
        assert.equal(typeof stringId.id, 'string');
        assert.ok(unsafe.id > Number.MAX_SAFE_INTEGER);
        assert.equal(typeof str, 'string');
        assert.equal(nul, null);
        assert.ok(Array.isArray(arr));
        assert.equal(dup.id, anchor);
        assert.ok((entries[at] as { name: string }).name.includes('\u0000'));
        assert.ok(entries.length > at + 8, 'good records after them');
        const realIds = new Set(ws.users().map((u) => u.id));
        assert.ok(!realIds.has(Number(stringId.id)), 'a string id names no real user');
        // The cursor still follows the real records only.
        const good = entries.filter(
          (e): e is { id: number } =>
            typeof e === 'object' && e !== null && !Array.isArray(e) && typeof (e as { id?: unknown }).id === 'number' && realIds.has((e as { id: number }).id),
        );
        assert.equal(new Set(good.map((g) => g.id)).size, 10);
      }
      // The name is clean outside the export page.
      assert.ok(!ws.user(anchor)!.name.includes('\u0000'));
    } finally {
      ws.clearBrokenRecords('users');
    }
    const clean = await exportText('/api/v2/incremental/users/cursor?start_time=0&per_page=10');
    assert.equal(clean.body.users.length, 10);
  });

  test('broken entries in ticket-event pages; count covers every entry', async () => {
    const events = [...ws.ticketEvents()];
    const anchor = events[5]!.id;
    ws.injectBrokenRecords('ticketEvents', ['noId', 'stringId', 'unsafeId', 'array', 'duplicateId', 'nulInName'], { after: anchor });
    try {
      const r = await exportText(`/api/v2/incremental/ticket_events?start_time=${events[0]!.timestamp}&per_page=50&include=comment_events`);
      const entries = r.body.ticket_events as any[];
      const at = entries.findIndex((e) => e?.id === anchor);
      assert.ok(at >= 1);
      assert.equal(entries[at].via.includes('\u0000'), true);
      assert.equal('id' in entries[at + 1], false);
      assert.equal(typeof entries[at + 2].id, 'string');
      assert.ok(/"id":9\d{15}[,}]/.test(r.text), 'an id beyond 2^53');
      assert.ok(Array.isArray(entries[at + 4]));
      assert.equal(entries[at + 5].id, anchor);
      assert.equal(r.body.count, entries.length);
    } finally {
      ws.clearBrokenRecords();
    }
  });
});
