import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxWorkspace } from '../../src/sandbox';
import { api, connect, start } from './helpers';

/** Saved positions Zendesk refuses and pagination that does not move: a client must not loop or stay stuck. */
describe('refused positions and stuck pagination', () => {
  let sb: Sandbox;
  let ws: SandboxWorkspace;
  let token: string;
  before(async () => {
    sb = await start();
    ws = sb.createWorkspace({ subdomain: 'stuck', users: 30, ticketEvents: 300, seed: 8, consentMode: 'allow', exclusionSeconds: 0, rateLimits: false });
    token = (await connect(sb, 'stuck')).access_token;
  });
  after(() => sb.close());
  const get = (path: string) => api(sb, 'stuck', path, token);

  test('refuseExportCursors: cursors issued before are refused, a fresh export works and its cursors are accepted', async () => {
    const first = await get('/api/v2/incremental/users/cursor?start_time=0&per_page=10');
    const saved = first.body.after_cursor as string;
    ws.refuseExportCursors();
    const refused = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(saved)}`);
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body, { errors: [{ code: 'InvalidCursor', status: '400', title: 'cursor is invalid or expired' }] });

    const fresh = await get('/api/v2/incremental/users/cursor?start_time=0&per_page=10');
    assert.equal(fresh.status, 200);
    const next = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(fresh.body.after_cursor)}`);
    assert.equal(next.status, 200);

    ws.refuseExportCursors({ status: 422, dialect: 'InvalidValue' });
    const other = await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(fresh.body.after_cursor)}`);
    assert.equal(other.status, 422);
    assert.equal(other.body.error, 'InvalidValue');
    ws.acceptExportCursors();
    assert.equal((await get(`/api/v2/incremental/users/cursor?cursor=${encodeURIComponent(saved)}`)).status, 200);
  });

  test('refuseTicketEventStartTimes: a saved start_time older than the boundary is refused with 422', async () => {
    const events = [...ws.ticketEvents()];
    const boundary = events[100]!.timestamp;
    ws.refuseTicketEventStartTimes(boundary);
    try {
      const old = await get(`/api/v2/incremental/ticket_events?start_time=${events[10]!.timestamp}`);
      assert.equal(old.status, 422);
      assert.equal(old.body.error, 'InvalidValue');
      assert.equal((await get(`/api/v2/incremental/ticket_events?start_time=${boundary}`)).status, 200);

      ws.refuseTicketEventStartTimes(boundary, { reason: 'tooRecent', status: 400, dialect: 'errors' });
      const recent = await get(`/api/v2/incremental/ticket_events?start_time=${boundary}`);
      assert.equal(recent.status, 400);
      assert.equal(recent.body.errors[0].code, 'StartTimeTooRecent');
      assert.equal((await get(`/api/v2/incremental/ticket_events?start_time=${boundary - 1}`)).status, 200);
    } finally {
      ws.acceptTicketEventStartTimes();
    }
    assert.equal((await get(`/api/v2/incremental/ticket_events?start_time=${events[10]!.timestamp}`)).status, 200);
  });

  test('stallUsersExportCursor: the cursor comes back unchanged with end_of_stream false', async () => {
    ws.stallUsersExportCursor();
    try {
      const first = await get('/api/v2/incremental/users/cursor?start_time=0&per_page=10');
      const c = first.body.after_cursor as string;
      let page = await get(`/api/v2/incremental/users/cursor?per_page=10&cursor=${encodeURIComponent(c)}`);
      for (let i = 0; i < 3; i++) {
        assert.equal(page.body.after_cursor, c);
        assert.equal(page.body.end_of_stream, false);
        assert.equal(page.body.users.length, 10);
        page = await get(page.body.after_url);
      }
    } finally {
      ws.stallUsersExportCursor(false);
    }
  });

  test('rewindTicketEventsEndTime: end_time goes backwards and the stream claims more', async () => {
    const start = [...ws.ticketEvents()][50]!.timestamp;
    ws.rewindTicketEventsEndTime(600);
    try {
      const p = await get(`/api/v2/incremental/ticket_events?start_time=${start}&per_page=20`);
      assert.equal(p.body.end_time, start - 600);
      assert.equal(p.body.end_of_stream, false);
      assert.match(p.body.next_page, new RegExp(`start_time=${start - 600}`));
    } finally {
      ws.resetExportQuirks();
    }
    const p = await get(`/api/v2/incremental/ticket_events?start_time=${start}&per_page=20`);
    assert.ok(p.body.end_time >= start);
  });
});
