import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hashViewToken } from '../../src/crypto/viewTokens';
import { api, connectAndSync, createTenant, startSystem, waitForSync, type System } from '../helpers/system';

/**
 * The embeddable utilization view (issue 19) in a real browser (Debian's Chromium driven by playwright-core)
 * over the real API, worker, Temporal and the Zendesk sandbox: a synced integration (two syncs, so a trend),
 * a seat price; the platform creates a view session, the page's figures equal `/utilization`, `/reclaimable`
 * and `/users`; a filter applied with the page's form lists exactly `/users?<filter>`; the CSV download is the
 * rows shown (and the API's users.csv). The page is framed by the tenant's origin and refused to any other;
 * an expired or unknown link is a 410/404 page; axe-core finds no serious or critical violation. Screenshots
 * go to .test-artifacts/utilization-view/ (git-ignored). axe runs as in connect-page.test.ts (page.evaluate,
 * under the page's real Content-Security-Policy).
 */

// Functions given to page.evaluate run in the browser; the project compiles without the DOM's types.
declare const window: any;
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const REPORTS_BUDGET = 100;
const ARTIFACTS = path.resolve(__dirname, '..', '..', '.test-artifacts', 'utilization-view');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let system: System;
let browser: Browser;
let platform: Server;
let stranger: Server;
let platformOrigin: string;
let strangerOrigin: string;
let tenant: { id: string; apiKey: string };
let integrationId: string;

/** A page of the platform's (or a stranger's) origin that frames `?src=`. */
async function startFramer(): Promise<Server> {
  const server = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><html lang="en"><head><title>Platform</title></head><body><h1>Platform</h1><iframe id="view" title="Zendesk seats" width="1200" height="900" src="${src.replace(/"/g, '&quot;')}"></iframe></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const originOf = (s: Server) => `http://127.0.0.1:${(s.address() as import('node:net').AddressInfo).port}`;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A tenant's reports budget small enough for the last test to spend (this tenant spends far less).
  system = await startSystem({ env: { API_RATE_LIMIT_REPORTS: `${REPORTS_BUDGET}/1h` } });
  platform = await startFramer();
  stranger = await startFramer();
  platformOrigin = originOf(platform);
  strangerOrigin = originOf(stranger);
  browser = await chromium.launch({ executablePath: CHROMIUM });
  tenant = await createTenant(system, 'tenant-19-view');
  const settings = await api(system, 'PATCH', '/v1/tenant', { key: tenant.apiKey, body: { displayName: 'Acme Platform', allowedOrigins: [platformOrigin] } });
  assert.equal(settings.status, 200, settings.text);
  system.sandbox.createWorkspace({ subdomain: 'view-acme', users: 80, ticketEvents: 600, seed: 1919, days: 60, consentMode: 'allow' });
  ({ integrationId } = await connectAndSync(system, tenant.apiKey, 'view-acme'));
  // A second sync: the trend has two points.
  const first = await system.db.selectFrom('sync_runs').select('id').where('integration_id', '=', integrationId).execute();
  const started = await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key: tenant.apiKey });
  assert.ok([200, 202].includes(started.status), started.text);
  const run = await waitForSync(system, integrationId, { notIds: first.map((r) => r.id) });
  assert.equal(run.status, 'succeeded', run.error ?? '');
  const price = await api(system, 'PATCH', `/v1/integrations/${integrationId}/settings`, {
    key: tenant.apiKey,
    body: { reclaim: { seatPrice: { amount: 55, currency: 'USD', per: 'month' }, purchasedSeats: 100, renewalDate: '2027-03-31' } },
  });
  assert.equal(price.status, 200, price.text);
});

after(async () => {
  await browser?.close();
  platform?.close();
  stranger?.close();
  await system?.stop();
});

async function createView(body: Record<string, unknown> = {}, id = integrationId, key = tenant.apiKey) {
  return api(system, 'POST', `/v1/integrations/${id}/view-sessions`, { key, body });
}

const get = (p: string) => api(system, 'GET', `/v1/integrations/${integrationId}${p}`, { key: tenant.apiKey });

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return (results.violations as Array<{ id: string; impact: string; help: string }>)
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help}`);
}

const figure = async (page: Page, name: string) => (await page.locator(`[data-figure="${name}"]`).textContent())?.trim();
const rowIds = (page: Page, table: string) => page.locator(`#${table} tbody tr`).evaluateAll((rows) => rows.map((r: any) => Number(r.dataset.userId)));
const csvIds = (csv: string) =>
  csv
    .split('\r\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => Number(line.split(',')[0]));

describe('the utilization view', () => {
  test("the page's figures are the API's; a filter lists /users?<filter>; the CSV is what is shown", async () => {
    const created = await createView({ allowedOrigin: platformOrigin });
    assert.equal(created.status, 201, created.text);
    const view = created.json as { token: string; url: string; expiresAt: string };
    assert.ok(view.url.startsWith(`${system.apiUrl}/view/`));
    assert.ok(new Date(view.expiresAt).getTime() - Date.now() <= 60 * 60_000);
    const stored = await system.db.selectFrom('view_sessions').selectAll().where('integration_id', '=', integrationId).execute();
    assert.ok(!JSON.stringify(stored).includes(view.token), 'the token is stored only hashed');
    assert.ok(stored.some((s) => s.token_hash === hashViewToken(view.token) && s.allowed_origin === platformOrigin));

    const res = await fetch(view.url);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes(`frame-ancestors ${platformOrigin}`), csp);
    assert.match(csp, /script-src 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.equal(res.headers.get('x-frame-options'), null, 'X-Frame-Options cannot name an origin: none');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('set-cookie'), null, 'no cookie');

    const [utilization, reclaimable, users] = await Promise.all([get('/utilization'), get('/reclaimable'), get('/users')]);
    assert.equal(utilization.status, 200, utilization.text);
    const u = utilization.json;
    assert.ok(u.paidSeats.total > 0 && u.reclaimable.count > 0, 'the workspace has paid and reclaimable seats');

    const context = await browser.newContext();
    const cspErrors: string[] = [];
    context.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    const page = await context.newPage();
    await page.goto(view.url);
    assert.equal(await page.locator('h1').textContent(), 'Zendesk seats of view-acme');
    assert.equal(await figure(page, 'paid-active'), String(u.paidSeats.active));
    assert.equal(await figure(page, 'paid-inactive'), String(u.paidSeats.inactive));
    assert.equal(await figure(page, 'paid-suspended'), String(u.paidSeats.suspended));
    assert.equal(await figure(page, 'paid-total'), String(u.paidSeats.total));
    assert.equal(await figure(page, 'free-total'), String(u.freeSeats.total));
    assert.equal(await figure(page, 'unknown-total'), String(u.unknownSeats.total));
    assert.equal(await figure(page, 'reclaimable'), String(u.reclaimable.count));
    assert.equal(await figure(page, 'savings-seats'), String(u.savings.potential.seats));
    assert.equal(await figure(page, 'savings-potential'), `${u.savings.potential.amount.toFixed(2)} USD`);
    assert.equal(await figure(page, 'recommended-seats'), String(u.savings.renewal.recommendedSeats));
    assert.equal(await page.locator('#synced time').first().getAttribute('datetime'), u.lastSyncedAt);
    assert.match((await page.locator('svg.chart title').textContent()) ?? '', new RegExp(`Paid, active: ${u.paidSeats.active}`));
    assert.ok((await page.locator('#trend tbody tr').count()) >= 2, 'a trend of the two syncs');
    assert.match((await page.locator('svg.trend-chart title').textContent()) ?? '', new RegExp(`${u.paidSeats.active} active of ${u.paidSeats.total} paid$`));
    assert.deepEqual(
      await rowIds(page, 'reclaimable'),
      reclaimable.json.users.map((r: any) => r.id),
    );
    assert.equal(await figure(page, 'users-total'), String(users.json.total));
    assert.deepEqual(
      await rowIds(page, 'users'),
      users.json.users.map((r: any) => r.id),
    );
    assert.deepEqual(await seriousViolations(page), [], 'the view has no serious accessibility violation');
    await page.screenshot({ path: path.join(ARTIFACTS, 'utilization-view.png'), fullPage: true });

    // The renewal's agents to keep: the view of the report's own /users link.
    const keep = new URL(u.savings.renewal.keep.users, system.apiUrl);
    assert.equal(await page.locator('#keep').getAttribute('href'), `/view/${view.token}${keep.search}`);
    const keepList = await api(system, 'GET', `${keep.pathname}${keep.search}`, { key: tenant.apiKey });
    assert.equal(keepList.json.total, u.savings.renewal.seatsInUse);
    await Promise.all([page.waitForURL(/usage=active/), page.locator('#keep').click()]);
    assert.deepEqual(
      await rowIds(page, 'users'),
      keepList.json.users.map((r: any) => r.id),
    );
    await page.goto(view.url);

    // A filter by the page's form (keyboard-usable selects): the rows of /users for the same query.
    await page.getByLabel('Role', { exact: true }).selectOption('agent');
    await page.getByLabel('Suspended', { exact: true }).selectOption('false');
    await page.getByLabel('Sort', { exact: true }).selectOption('-lastLoginAt');
    await Promise.all([page.waitForURL(/role=agent/), page.getByRole('button', { name: 'Apply' }).click()]);
    const filter = 'role=agent&suspended=false&sort=-lastLoginAt';
    const filtered = await get(`/users?${filter}`);
    assert.equal(filtered.status, 200, filtered.text);
    assert.ok(filtered.json.total > 0 && filtered.json.total < users.json.total, 'the filter narrows the listing');
    const shown = await rowIds(page, 'users');
    assert.deepEqual(
      shown,
      filtered.json.users.map((r: any) => r.id),
    );
    assert.equal(await figure(page, 'users-total'), String(filtered.json.total));
    assert.equal(await page.getByLabel('Role', { exact: true }).inputValue(), 'agent', 'the form shows the filter applied');
    await page.screenshot({ path: path.join(ARTIFACTS, 'utilization-view-filtered.png'), fullPage: true });

    // The CSV download is the rows shown, and the API's users.csv for the same filter.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#csv').click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.deepEqual(csvIds(csv), shown);
    const apiCsv = await fetch(`${system.apiUrl}/v1/integrations/${integrationId}/users.csv?${filter}`, {
      headers: { authorization: `Bearer ${tenant.apiKey}` },
    });
    assert.equal(csv, await apiCsv.text());
    assert.deepEqual(cspErrors, [], 'the page broke no part of its Content-Security-Policy');
    await context.close();

    // The token never reaches a log line (the request log shows the route).
    assert.ok(!system.logs.join('').includes(view.token), 'a view token is in the logs');
  });

  test("framed by the tenant's origin it shows; a stranger's frame is refused", async () => {
    const view = (await createView({ allowedOrigin: platformOrigin })).json as { url: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${platformOrigin}/?src=${encodeURIComponent(view.url)}`);
    const frame = page.frameLocator('#view');
    assert.equal(await frame.locator('h1').textContent(), 'Zendesk seats of view-acme');

    const refused = await context.newPage();
    const blocked = refused.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 15_000 });
    await refused.goto(`${strangerOrigin}/?src=${encodeURIComponent(view.url)}`);
    await blocked;
    const framed = refused.frames().find((f) => f !== refused.mainFrame());
    assert.doesNotMatch((await framed?.content()) ?? '', /Zendesk seats of/, 'nothing of the view in a stranger’s frame');
    await context.close();
  });

  test('an expired link is a 410 page, an unknown one a 404 page, in the same look', async () => {
    const view = (await createView()).json as { token: string; url: string };
    // Without allowedOrigin: framed by any of the tenant's origins.
    assert.ok((await fetch(view.url)).headers.get('content-security-policy')?.includes(`frame-ancestors ${platformOrigin}`));
    await sql`UPDATE view_sessions SET expires_at = now() - interval '1 second' WHERE token_hash = ${hashViewToken(view.token)}`.execute(system.db);
    const context = await browser.newContext();
    const page = await context.newPage();
    const expired = await page.goto(view.url);
    assert.equal(expired?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This view has expired');
    assert.doesNotMatch((await page.locator('body').textContent()) ?? '', /view-acme/, 'nothing of the workspace');
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'expired.png'), fullPage: true });
    assert.equal((await fetch(`${view.url}/users.csv`)).status, 410);
    for (const token of ['zv_' + 'A'.repeat(43), 'nonsense']) {
      const res = await fetch(`${system.apiUrl}/view/${token}`);
      assert.equal(res.status, 404, token);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.match(await res.text(), /This link is not valid/);
    }
    await context.close();
  });

  test("more users than a page: the Next link lists /users's next page", async () => {
    const view = (await createView()).json as { url: string };
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${view.url}?limit=10&sort=name`);
    const first = await get('/users?limit=10&sort=name');
    assert.deepEqual(
      await rowIds(page, 'users'),
      first.json.users.map((r: any) => r.id),
    );
    const second = await get(`/users?limit=10&sort=name&cursor=${encodeURIComponent(first.json.nextCursor)}`);
    await Promise.all([page.waitForURL(/cursor=/), page.locator('#next-page').click()]);
    assert.deepEqual(
      await rowIds(page, 'users'),
      second.json.users.map((r: any) => r.id),
    );
    // The CSV link carries the filters, not the page: every matching user.
    const href = (await page.locator('#csv').getAttribute('href')) ?? '';
    assert.match(href, /\/users\.csv\?sort=name$/);
    await context.close();
  });

  test('a filter that is not valid: the page says which, with a 400', async () => {
    const view = (await createView()).json as { url: string };
    const res = await fetch(`${view.url}?role=boss&inactiveDays=0&verified=`);
    assert.equal(res.status, 400);
    const body = await res.text();
    assert.match(body, /role has unknown value &quot;boss&quot;/);
    assert.match(body, /inactiveDays must be a whole number/);
    assert.doesNotMatch(body, /<li class="error">verified/, 'an empty field is no filter');
  });

  test("view sessions: another tenant's integration is a 404; an unregistered allowedOrigin a 422 naming it (as for connect sessions), a malformed body a 400, nothing stored", async () => {
    const other = await createTenant(system, 'tenant-19-other');
    const foreign = await createView({}, integrationId, other.apiKey);
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(foreign.json.detail, `No integration ${integrationId}.`);
    assert.equal((await createView({}, '00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await createView({})).status, 201);
    const noBody = await api(system, 'POST', `/v1/integrations/${integrationId}/view-sessions`, { key: tenant.apiKey });
    assert.equal(noBody.status, 201, 'the body is optional');
    assert.equal((await api(system, 'POST', `/v1/integrations/${integrationId}/view-sessions`, { body: {} })).status, 401);

    const count = async () => (await system.db.selectFrom('view_sessions').select('id').execute()).length;
    const before = await count();
    const bad = await createView({ allowedOrigin: 'https://evil.example.com' });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.deepEqual(
      bad.json.errors.map((e: any) => e.name),
      ['allowedOrigin'],
    );
    const unknown = await createView({ allowedOrigin: platformOrigin, ttl: 5 });
    assert.equal(unknown.status, 400);
    assert.deepEqual(
      unknown.json.errors.map((e: any) => e.name),
      ['ttl'],
    );
    const notText = await createView({ allowedOrigin: 42 });
    assert.equal(notText.status, 400);
    assert.equal(notText.json.errors[0].name, 'allowedOrigin');
    assert.equal(await count(), before, 'nothing stored');
  });
  test('a tenant whose reports budget is spent: a 429 page in the same look, with Retry-After', async () => {
    const busy = await createTenant(system, 'tenant-19-busy');
    system.sandbox.createWorkspace({ subdomain: 'view-busy', users: 20, ticketEvents: 50, seed: 1920, consentMode: 'allow' });
    const { integrationId: busyId } = await connectAndSync(system, busy.apiKey, 'view-busy');
    const view = (await createView({}, busyId, busy.apiKey)).json as { url: string };
    let res: Response | undefined;
    // Each distinct query is a computation the cache cannot answer: one unit (or more) of the budget.
    for (let i = 0; i <= REPORTS_BUDGET; i++) {
      res = await fetch(`${view.url}?q=nobody-${i}`);
      if (res.status !== 200) break;
    }
    assert.equal(res?.status, 429);
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /<h1 class="failed">Too many requests just now<\/h1>/);
    // Another tenant's budget is its own.
    assert.equal((await fetch((await createView()).json.url)).status, 200);
  });
});
