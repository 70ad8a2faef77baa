import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hashConnectToken } from '../../src/crypto/connectTokens';
import { parseWorkspaceInput } from '../../src/zendesk/workspace';
import { api, createTenant, startSystem, waitForSync, type System } from '../helpers/system';

/**
 * The hosted Connect page in a real browser (Debian's Chromium driven by playwright-core) over the real API,
 * worker, Temporal and the Zendesk sandbox: a platform page opens the Connect page in a new window, the admin
 * types the workspace, submits, clicks Allow on the sandbox's consent page, sees "connected"; the platform's
 * window receives the outcome by postMessage and the integration syncs. Also deny, a bad workspace, an expired,
 * a used and an unknown link, an unregistered return URL, and an axe-core check of each page. Screenshots go to
 * .test-artifacts/connect-page/ (git-ignored).
 *
 * axe-core is evaluated in the page through the DevTools protocol (page.evaluate of its source), which the
 * page's Content-Security-Policy does not govern — so the pages are checked under their real policy, with no
 * bypassCSP; addScriptTag({content}) would be an inline script, which the policy (rightly) refuses.
 */

// Functions given to page.evaluate run in the browser; the project compiles without the DOM's types.
declare const window: any;
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', '.test-artifacts', 'connect-page');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let system: System;
let browser: Browser;
let platform: Server;
let platformOrigin: string;
let tenant: { id: string; apiKey: string };

/** The SaaS-management platform's page: a blank page of its own origin, and a return page. */
async function startPlatform(): Promise<Server> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      `<!doctype html><html lang="en"><head><title>Platform</title></head><body><h1>${req.url === '/back' ? 'Back on the platform' : 'Platform'}</h1></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  system = await startSystem();
  platform = await startPlatform();
  platformOrigin = `http://127.0.0.1:${(platform.address() as import('node:net').AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM });
  tenant = await createTenant(system, 'tenant-19');
  const settings = await api(system, 'PATCH', '/v1/tenant', {
    key: tenant.apiKey,
    body: { displayName: 'Acme Platform', allowedOrigins: [platformOrigin], allowedReturnUrls: [`${platformOrigin}/back`] },
  });
  assert.equal(settings.status, 200, settings.text);
  assert.equal(settings.json.displayName, 'Acme Platform');
  assert.deepEqual(settings.json.allowedOrigins, [platformOrigin]);
});

after(async () => {
  await browser?.close();
  platform?.close();
  await system?.stop();
});

async function createSession(body: Record<string, unknown> = {}) {
  const res = await api(system, 'POST', '/v1/connect-sessions', { key: tenant.apiKey, body });
  assert.equal(res.status, 201, res.text);
  return res.json as { token: string; url: string; expiresAt: string };
}

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return (results.violations as Array<{ id: string; impact: string; help: string }>)
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help}`);
}

/** A browser context with a platform page that records the messages it receives, and CSP reports of any page. */
async function platformWindow(): Promise<{ context: BrowserContext; opener: Page; cspErrors: string[] }> {
  const context = await browser.newContext();
  const cspErrors: string[] = [];
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  const opener = await context.newPage();
  await opener.goto(`${platformOrigin}/`);
  await opener.evaluate(() => {
    window.received = [];
    window.addEventListener('message', (e: any) => window.received.push({ origin: e.origin, data: e.data }));
  });
  return { context, opener, cspErrors };
}

/** Opens `url` in a new window of the platform page, as the platform does. */
async function openConnectWindow(context: BrowserContext, opener: Page, url: string): Promise<Page> {
  const [popup] = await Promise.all([context.waitForEvent('page'), opener.evaluate((u) => void window.open(u, 'zendesk-connect'), url)]);
  await popup.waitForLoadState();
  return popup;
}

const received = (opener: Page) => opener.evaluate(() => window.received as Array<{ origin: string; data: any }>);

describe('the hosted Connect page', () => {
  test('type the workspace, Submit, Allow: connected, the opener is told, the integration syncs', async () => {
    system.sandbox.createWorkspace({ subdomain: 'browser-acme', users: 40, ticketEvents: 100, seed: 19, consentMode: 'manual' });
    const session = await createSession({ access: 'read', returnUrl: `${platformOrigin}/back`, allowedOrigin: platformOrigin });
    assert.ok(session.url.startsWith(`${system.apiUrl}/connect/`));
    assert.ok(new Date(session.expiresAt).getTime() - Date.now() <= 30 * 60_000);
    const stored = await system.db.selectFrom('connect_sessions').selectAll().execute();
    assert.ok(!JSON.stringify(stored).includes(session.token), 'the token is stored only hashed');

    const headers = (await fetch(session.url)).headers;
    const csp = headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'none'/);
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:\d+/, 'the form posts to itself and on to the consent page');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(headers.get('referrer-policy'), 'no-referrer');
    assert.equal(headers.get('cache-control'), 'no-store');

    const { context, opener, cspErrors } = await platformWindow();
    const popup = await openConnectWindow(context, opener, session.url);
    assert.equal(await popup.locator('h1').textContent(), 'Connect Zendesk to Acme Platform');
    assert.match((await popup.locator('main').textContent()) ?? '', /read-only access/);
    assert.match((await popup.locator('main').textContent()) ?? '', /admin/);
    assert.deepEqual(await seriousViolations(popup), [], 'the Connect page has no serious accessibility violation');
    await popup.screenshot({ path: path.join(ARTIFACTS, 'connect-page.png'), fullPage: true });

    // Keyboard only: the label names the field, Tab reaches Submit, Enter submits.
    await popup.getByLabel('Your Zendesk workspace').fill('https://browser-acme.zendesk.com/agent/tickets/1');
    await popup.getByLabel('Your Zendesk workspace').focus();
    await popup.keyboard.press('Tab');
    assert.equal(await popup.evaluate(() => document.activeElement?.id), 'submit');
    await Promise.all([popup.waitForURL(`${system.sandbox.url}/**`), popup.keyboard.press('Enter')]);
    await popup.locator('#allow').click();
    await popup.waitForURL(`${system.apiUrl}/v1/oauth/zendesk/callback**`);
    assert.equal(await popup.locator('h1').textContent(), 'Zendesk is connected');
    assert.equal(await popup.getByRole('link', { name: 'Return to Acme Platform' }).getAttribute('href'), `${platformOrigin}/back`);
    assert.deepEqual(await seriousViolations(popup), [], 'the outcome page has no serious accessibility violation');
    await popup.screenshot({ path: path.join(ARTIFACTS, 'connected.png'), fullPage: true });

    const integrations = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations;
    const integration = integrations.find((i: any) => i.workspace === 'browser-acme');
    assert.equal(integration.status, 'connected');
    const messages = await received(opener);
    assert.deepEqual(messages, [{ origin: system.apiUrl, data: { type: 'zendesk-integration', status: 'connected', integrationId: integration.id } }]);
    assert.deepEqual(cspErrors, [], 'no page broke its Content-Security-Policy');

    const run = await waitForSync(system, integration.id);
    assert.equal(run.status, 'succeeded', run.error ?? '');

    // Single use: the link that connected is spent, on the page and on its Submit.
    const again = await popup.goto(session.url);
    assert.equal(again?.status(), 410);
    assert.match((await popup.locator('h1').textContent()) ?? '', /already used/);
    const submitAgain = await fetch(session.url, { method: 'POST', body: new URLSearchParams({ workspace: 'browser-acme' }), redirect: 'manual' });
    assert.equal(submitAgain.status, 410);
    await context.close();

    // The token never reaches a log line (the request log shows the route).
    assert.ok(!system.logs.join('').includes(session.token), 'a Connect token is in the logs');
  });

  test('a session for a workspace the tenant has connected is its reconnect: reclaim access added, the same integration', async () => {
    const before = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations.filter((i: any) => i.workspace === 'browser-acme');
    assert.equal(before.length, 1);
    assert.equal(before[0].capabilities.reclaim.enabled, false);
    const session = await createSession({ workspace: 'browser-acme.zendesk.com', access: 'reclaim', allowedOrigin: platformOrigin });
    const { context, opener } = await platformWindow();
    const popup = await openConnectWindow(context, opener, session.url);
    assert.match((await popup.locator('main').textContent()) ?? '', /reclaimed/);
    await Promise.all([popup.waitForURL(`${system.sandbox.url}/**`), popup.getByRole('button', { name: 'Submit' }).click()]);
    assert.match((await popup.locator('body').textContent()) ?? '', /write/, 'the consent page asks for write access');
    await popup.locator('#allow').click();
    await popup.waitForURL(`${system.apiUrl}/v1/oauth/zendesk/callback**`);
    assert.equal(await popup.locator('h1').textContent(), 'Zendesk is connected');
    await waitFor(async () => (await received(opener)).length > 0);
    assert.deepEqual((await received(opener))[0]!.data, { type: 'zendesk-integration', status: 'connected', integrationId: before[0].id });
    const after = (await api(system, 'GET', `/v1/integrations/${before[0].id}`, { key: tenant.apiKey })).json;
    assert.equal(after.status, 'connected');
    assert.equal(after.capabilities.reclaim.enabled, true);
    const all = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations.filter((i: any) => i.workspace === 'browser-acme');
    assert.equal(all.length, 1, 'no second integration');
    await context.close();
  });

  test('Deny: the page says access was denied, and the opener is told', async () => {
    system.sandbox.createWorkspace({ subdomain: 'browser-deny', users: 5, ticketEvents: 5, seed: 20, consentMode: 'manual' });
    const session = await createSession({ workspace: 'browser-deny', allowedOrigin: platformOrigin });
    const { context, opener } = await platformWindow();
    const popup = await openConnectWindow(context, opener, session.url);
    assert.equal(await popup.getByLabel('Your Zendesk workspace').inputValue(), 'browser-deny');
    await Promise.all([popup.waitForURL(`${system.sandbox.url}/**`), popup.getByRole('button', { name: 'Submit' }).click()]);
    await popup.locator('#deny').click();
    await popup.waitForURL(`${system.apiUrl}/v1/oauth/zendesk/callback**`);
    assert.equal(await popup.locator('h1').textContent(), 'Access was denied');
    assert.match((await popup.locator('main').textContent()) ?? '', /open the link again and choose Allow/);
    assert.equal(await popup.getByRole('link').count(), 0, 'no return link without a returnUrl');
    await popup.screenshot({ path: path.join(ARTIFACTS, 'denied.png'), fullPage: true });
    await waitFor(async () => (await received(opener)).length > 0);
    const [message] = await received(opener);
    assert.equal(message!.data.status, 'consent_denied');
    // Not connected: the same link may be used again (Try again).
    assert.equal((await fetch(session.url)).status, 200);
    await context.close();
  });

  test('consent by a non-admin: the page says so and what to do, the opener is told needs_reauth', async () => {
    const ws = system.sandbox.createWorkspace({ subdomain: 'browser-agents', users: 30, ticketEvents: 10, seed: 21, consentMode: 'manual' });
    ws.setConsentingUser(ws.users().find((u: any) => u.role === 'agent' && u.active && !u.suspended)!.id);
    const session = await createSession({ workspace: 'browser-agents', allowedOrigin: platformOrigin });
    const { context, opener } = await platformWindow();
    const popup = await openConnectWindow(context, opener, session.url);
    await Promise.all([popup.waitForURL(`${system.sandbox.url}/**`), popup.getByRole('button', { name: 'Submit' }).click()]);
    await popup.locator('#allow').click();
    await popup.waitForURL(`${system.apiUrl}/v1/oauth/zendesk/callback**`);
    assert.equal(await popup.locator('h1').textContent(), 'Zendesk was not connected');
    const text = (await popup.locator('main').textContent()) ?? '';
    assert.match(text, /not an admin/);
    assert.match(text, /Sign in to Zendesk with an admin account/);
    assert.doesNotMatch(text, /Reconnect/, 'no API words for the admin');
    await popup.screenshot({ path: path.join(ARTIFACTS, 'not-admin.png'), fullPage: true });
    await waitFor(async () => (await received(opener)).length > 0);
    assert.equal((await received(opener))[0]!.data.status, 'needs_reauth');
    await context.close();
  });

  test("a workspace that is not one: the page again, with the API's reason next to the field", async () => {
    const session = await createSession();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(session.url);
    await page.getByLabel('Your Zendesk workspace').fill('acme.example.com');
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Submit' }).click()]);
    assert.equal(response.status(), 422);
    const expected = parseWorkspaceInput('acme.example.com');
    assert.ok(!expected.ok);
    assert.equal(await page.getByRole('alert').textContent(), expected.reason);
    const field = page.getByLabel('Your Zendesk workspace');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await field.inputValue(), 'acme.example.com');
    assert.match((await field.getAttribute('aria-describedby')) ?? '', /workspace-error/);
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'bad-workspace.png'), fullPage: true });
    const integrations = (await api(system, 'GET', '/v1/integrations', { key: tenant.apiKey })).json.integrations;
    assert.ok(!integrations.some((i: any) => i.workspace.includes('example')), 'nothing was created');
    await context.close();
  });

  test('an expired link is a 410 page, an unknown one a 404 page', async () => {
    const session = await createSession();
    await sql`UPDATE connect_sessions SET expires_at = now() - interval '1 second' WHERE token_hash = ${hashConnectToken(session.token)}`.execute(system.db);
    const context = await browser.newContext();
    const page = await context.newPage();
    const expired = await page.goto(session.url);
    assert.equal(expired?.status(), 410);
    assert.equal(await page.locator('h1').textContent(), 'This link has expired');
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'expired.png'), fullPage: true });
    for (const token of ['zc_' + 'A'.repeat(43), 'nonsense', '%E0%A4%A']) {
      const res = await fetch(`${system.apiUrl}/connect/${token}`);
      assert.equal(res.status, token.startsWith('%') ? 400 : 404, token);
    }
    await context.close();
  });

  test('a return URL or origin the tenant has not registered is a 422 naming the field', async () => {
    const res = await api(system, 'POST', '/v1/connect-sessions', { key: tenant.apiKey, body: { returnUrl: 'https://evil.example.com/back' } });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.deepEqual(
      res.json.errors.map((e: any) => e.name),
      ['returnUrl'],
    );
    const origin = await api(system, 'POST', '/v1/connect-sessions', { key: tenant.apiKey, body: { allowedOrigin: 'https://evil.example.com' } });
    assert.equal(origin.status, 422);
    assert.deepEqual(
      origin.json.errors.map((e: any) => e.name),
      ['allowedOrigin'],
    );
    const workspace = await api(system, 'POST', '/v1/connect-sessions', { key: tenant.apiKey, body: { workspace: 'not a workspace!' } });
    assert.equal(workspace.status, 400);
    assert.equal((await api(system, 'POST', '/v1/connect-sessions', { body: {} })).status, 401);
    const badOrigin = await api(system, 'PATCH', '/v1/tenant', { key: tenant.apiKey, body: { allowedOrigins: ['http://platform.example.com'] } });
    assert.equal(badOrigin.status, 400);
    assert.equal(badOrigin.json.errors[0].name, 'allowedOrigins.0');
  });
});

async function waitFor(fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
