import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentPageSource } from '../../src/api/routes/connectPage';
import { originProblem, returnUrlProblem, UpdateTenantSettingsBody } from '../../src/api/tenantSettingsSchemas';

/** The Connect page's origins and return URLs: exact, https (http only on loopback), nothing a browser would rewrite. */
test('origins: exact scheme, host and port; http only for loopback hosts', () => {
  for (const ok of ['https://app.example.com', 'https://app.example.com:8443', 'http://127.0.0.1:8080', 'http://localhost:3000']) {
    assert.equal(originProblem(ok), undefined, ok);
  }
  for (const bad of [
    'http://app.example.com',
    'https://app.example.com/',
    'https://app.example.com/path',
    'https://APP.example.com',
    'ftp://x.com',
    'app.example.com',
    'https://app.example.com:443',
  ]) {
    assert.ok(originProblem(bad), bad);
  }
});

test('return URLs: absolute, https or loopback http, no credentials or fragment', () => {
  assert.equal(returnUrlProblem('https://app.example.com/integrations/zendesk?done=1'), undefined);
  assert.equal(returnUrlProblem('http://127.0.0.1:8080/back'), undefined);
  for (const bad of ['/relative', 'http://app.example.com/back', 'https://u:p@app.example.com/', 'https://app.example.com/#x', 'javascript:alert(1)']) {
    assert.ok(returnUrlProblem(bad), bad);
  }
});

test('the settings body: lists are unique and bounded, unknown fields refused', () => {
  assert.ok(UpdateTenantSettingsBody.safeParse({ displayName: 'Acme', allowedOrigins: ['https://a.example.com'] }).success);
  assert.ok(UpdateTenantSettingsBody.safeParse({ displayName: null }).success);
  assert.ok(!UpdateTenantSettingsBody.safeParse({ allowedOrigins: ['https://a.example.com', 'https://a.example.com'] }).success);
  assert.ok(!UpdateTenantSettingsBody.safeParse({ allowedOrigins: Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`) }).success);
  assert.ok(!UpdateTenantSettingsBody.safeParse({ name: 'x' }).success);
  assert.ok(!UpdateTenantSettingsBody.safeParse({ displayName: '  ' }).success);
});

test("the Connect page's form-action names Zendesk's consent pages: every subdomain, or the sandbox's origin", () => {
  assert.equal(consentPageSource('https://{subdomain}.zendesk.com'), 'https://*.zendesk.com');
  assert.equal(consentPageSource('http://127.0.0.1:4010/{subdomain}'), 'http://127.0.0.1:4010');
});
