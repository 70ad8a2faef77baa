import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameAncestorsOf } from '../../src/db/repositories/viewSessions';
import { viewPage, type ViewPageModel } from '../../src/api/viewPage';

/**
 * The utilization view's HTML (src/api/viewPage.ts): Zendesk end users choose their own names, so every value
 * from Zendesk or the query is escaped; and the page's frame-ancestors follow the tenant's registered origins.
 */

const streams = { seatHolders: { complete: true }, endUsers: { complete: true }, ticketEvents: { complete: true } } as never;
const seats = { total: 3, active: 1, inactive: 1, suspended: 1 };

function model(over: Partial<ViewPageModel> = {}): ViewPageModel {
  return {
    tenantName: 'Acme <Platform>',
    workspace: 'acme',
    action: '/view/zv_token',
    utilization: {
      asOf: '2026-12-01T00:00:00.000Z',
      inactiveDays: 30,
      lastSyncedAt: null,
      paidSeats: seats,
      freeSeats: { total: 0, active: 0, inactive: 0 },
      byRoleType: {} as never,
      unknownSeats: { total: 0, byReason: {} },
      reclaimable: { count: 2, suspended: 1, inactive: 1 },
      usageBasis: 'last sign-in',
      savings: null,
      completeness: streams,
    },
    reclaimable: {
      users: [{ id: 7, name: '<img src=x onerror=alert(1)>', email: null, reason: 'inactive', seatReason: 'agent', lastActivityAt: null }],
      total: 1,
      nextCursor: null,
    },
    users: undefined,
    filters: { q: '"><script>alert(1)</script>' },
    errors: [{ name: 'role', reason: 'has unknown value "<b>"' }],
    trend: [],
    ...over,
  };
}

test('values from Zendesk and the query are escaped; errors are announced next to the form', () => {
  const html = viewPage(model());
  assert.doesNotMatch(html, /<script>|<img src=x|<b>"/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  assert.match(html, /Shown for Acme &lt;Platform&gt;/);
  assert.match(html, /<div id="filter-errors" role="alert">/);
  assert.match(html, /<select id="f-role" name="role" aria-invalid="true" aria-describedby="filter-errors">/);
  assert.match(html, /Not synced yet/);
  assert.match(html, /The trend shows once the integration has synced more than once/);
  assert.match(html, /Set a seat price/);
});

test('the chart is drawn from the figures, with a text alternative', () => {
  const html = viewPage(model());
  assert.match(html, /<title id="chart-title">Seats\. Paid, active: 1, Paid, inactive: 1, Paid, suspended: 1, Free: 0<\/title>/);
  assert.equal((html.match(/<rect /g) ?? []).length, 3, 'no bar for a zero');
});

test("frame-ancestors: the session's origin while the tenant still has it, else all of the tenant's", () => {
  assert.deepEqual(frameAncestorsOf({ allowed_origin: 'https://a.example.com', tenant_allowed_origins: ['https://a.example.com', 'https://b.example.com'] }), [
    'https://a.example.com',
  ]);
  assert.deepEqual(frameAncestorsOf({ allowed_origin: 'https://a.example.com', tenant_allowed_origins: ['https://b.example.com'] }), []);
  assert.deepEqual(frameAncestorsOf({ allowed_origin: null, tenant_allowed_origins: ['https://a.example.com', 'https://b.example.com'] }), [
    'https://a.example.com',
    'https://b.example.com',
  ]);
  assert.deepEqual(frameAncestorsOf({ allowed_origin: null, tenant_allowed_origins: [] }), []);
});
