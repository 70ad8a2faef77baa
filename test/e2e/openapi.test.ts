import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createApp } from '../../src/api/app';
import { OPENER_SCRIPT_PATH } from '../../src/api/connectAssets';
import { documentedRoutes } from '../../src/api/openapi';
import { UsersCsvQuery, UsersQuery } from '../../src/api/reportSchemas';
import { IntegrationListQuery } from '../../src/api/schemas';
import { api, connectAndSync, createTenant, startSystem, type System } from '../helpers/system';

/**
 * GET /openapi.json documents every route the app serves, and real responses of every endpoint (and
 * their errors) validate against it with an independent JSON Schema validator (Ajv, draft 2020-12).
 */

const DOC_ID = 'https://zendesk-integration-worker.dev/openapi.json';

let system: System;
let doc: any;
let ajv: Ajv2020;

before(async () => {
  system = await startSystem();
  const res = await api(system, 'GET', '/openapi.json');
  assert.equal(res.status, 200);
  doc = res.json;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
});

after(() => system?.stop());

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Checks a real response against the document: its status is documented, its body fits the schema. */
function conforms(method: string, template: string, res: { status: number; headers: Headers; text: string }) {
  const operation = doc.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `${method} ${template} is documented`);
  const documented = operation.responses[String(res.status)];
  assert.ok(documented, `${method} ${template} documents status ${res.status} (${res.text.slice(0, 200)})`);
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (!documented.content) {
    assert.equal(res.text, '', `${method} ${template} ${res.status} has no body`);
    return;
  }
  assert.ok(documented.content[contentType], `${method} ${template} ${res.status} documents ${contentType}`);
  const ref = `${DOC_ID}#/${pointer('paths', template, method.toLowerCase(), 'responses', String(res.status), 'content', contentType, 'schema')}`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  const body = contentType.endsWith('json') ? JSON.parse(res.text) : res.text;
  assert.ok(validate(body), `${method} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 500)}`);
  for (const header of Object.keys(documented.headers ?? {})) assert.ok(res.headers.get(header), `${header} is sent`);
}

describe('the document', () => {
  test('is public OpenAPI 3.1 with the API key schemes', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.jsonSchemaDialect, 'https://json-schema.org/draft/2020-12/schema');
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['adminKey', 'tenantKey']);
    for (const name of [
      'User',
      'UserList',
      'Utilization',
      'Integration',
      'IntegrationList',
      'Tenant',
      'Problem',
      'CreateTenantBody',
      'CreateIntegrationBody',
    ]) {
      assert.ok(doc.components.schemas[name], name);
    }
  });

  test('every schema and $ref in it compiles', () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          for (const type of Object.keys(response.content ?? {})) {
            ajv.compile({ $ref: `${DOC_ID}#/${pointer('paths', path, method, 'responses', status, 'content', type, 'schema')}` });
          }
        }
        for (const p of op.parameters ?? []) ajv.compile(p.schema);
      }
    }
  });

  test('documents exactly the routes the app serves', () => {
    const app = createApp({
      db: system.db,
      box: system.box,
      config: system.config,
      temporal: system.temporal,
      logger: { error() {} } as never,
      metrics: system.metrics,
    });
    const served = new Set<string>();
    const visit = (stack: any[]) => {
      for (const layer of stack) {
        if (layer.route)
          for (const m of Object.keys(layer.route.methods)) if (m !== '_all') served.add(`${m} ${String(layer.route.path).replace(/:(\w+)/g, '{$1}')}`);
        if (layer.handle?.stack) visit(layer.handle.stack);
      }
    };
    visit((app as any).router.stack);
    const documented = new Set(documentedRoutes().map((r) => `${r.method} ${r.path}`));
    assert.deepEqual([...served].sort(), [...documented].sort());
  });

  test("query parameters are the validating schemas' keys, with their constraints", () => {
    const names = (path: string) => doc.paths[path].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name);
    assert.deepEqual(names('/v1/integrations/{id}/users'), Object.keys(UsersQuery.shape));
    assert.deepEqual(names('/v1/integrations/{id}/users.csv'), Object.keys(UsersCsvQuery.shape));
    assert.deepEqual(names('/v1/integrations'), Object.keys(IntegrationListQuery.shape));
    const sort = doc.paths['/v1/integrations/{id}/users'].get.parameters.find((p: any) => p.name === 'sort');
    assert.equal(sort.schema.enum.length, 10);
    assert.equal(sort.required, false);
    assert.deepEqual(doc.paths['/v1/integrations/{id}/users'].get.security, [{ tenantKey: [] }]);
    assert.deepEqual(doc.paths['/openapi.json'].get.security, []);
  });
});

describe('real responses conform', () => {
  let tenant: { id: string; apiKey: string };
  let integrationId: string;

  before(async () => {
    tenant = await createTenant(system, 'OpenAPI tenant');
    system.sandbox.createWorkspace({ subdomain: 'openapi-acme', users: 300, ticketEvents: 2000, seed: 3, days: 60, consentMode: 'allow' });
    ({ integrationId } = await connectAndSync(system, tenant.apiKey, 'openapi-acme'));
  });

  test('operations', async () => {
    conforms('GET', '/healthz', await api(system, 'GET', '/healthz'));
    // Readiness and metrics live on the internal port: neither documented nor served on the public one.
    for (const path of ['/readyz', '/metrics']) {
      assert.equal(doc.paths[path], undefined, `${path} is not a public operation`);
      assert.equal((await api(system, 'GET', path)).status, 404, `public ${path}`);
      assert.equal((await fetch(`${system.internalUrl}${path}`)).status, 200, `internal ${path}`);
    }
    conforms('GET', '/openapi.json', await api(system, 'GET', '/openapi.json'));
  });

  test('tenants', async () => {
    conforms('POST', '/v1/tenants', await api(system, 'POST', '/v1/tenants', { key: system.adminKey, body: { name: 'Another' } }));
    conforms('POST', '/v1/tenants', await api(system, 'POST', '/v1/tenants', { key: system.adminKey, body: { name: '' } }));
    conforms('POST', '/v1/tenants', await api(system, 'POST', '/v1/tenants', { key: 'wrong', body: { name: 'x' } }));
  });

  test('integrations', async () => {
    const key = tenant.apiKey;
    conforms('GET', '/v1/integrations', await api(system, 'GET', '/v1/integrations', { key }));
    conforms('GET', '/v1/integrations', await api(system, 'GET', '/v1/integrations'));
    const page = await api(system, 'GET', '/v1/integrations?limit=1&status=connected,needs_reauth', { key });
    conforms('GET', '/v1/integrations', page);
    conforms(
      'GET',
      '/v1/integrations',
      await api(system, 'GET', `/v1/integrations?limit=1&status=connected,needs_reauth&cursor=${page.json.nextCursor ?? ''}`, { key }),
    );
    conforms('GET', '/v1/integrations', await api(system, 'GET', '/v1/integrations?limit=0&status=disconnected', { key }));
    conforms('GET', '/v1/integrations/{id}', await api(system, 'GET', `/v1/integrations/${integrationId}`, { key }));
    conforms('GET', '/v1/integrations/{id}', await api(system, 'GET', '/v1/integrations/00000000-0000-4000-8000-000000000000', { key }));
    conforms('GET', '/v1/integrations/{id}', await api(system, 'GET', '/v1/integrations/nope', { key }));
    system.sandbox.createWorkspace({ subdomain: 'openapi-second', users: 5, ticketEvents: 5, consentMode: 'manual' });
    const created = await api(system, 'POST', '/v1/integrations/zendesk', { key, body: { workspace: 'openapi-second.zendesk.com' } });
    conforms('POST', '/v1/integrations/zendesk', created);
    conforms('POST', '/v1/integrations/zendesk', await api(system, 'POST', '/v1/integrations/zendesk', { key, body: { workspace: 'openapi-second' } }));
    conforms('POST', '/v1/integrations/zendesk', await api(system, 'POST', '/v1/integrations/zendesk', { key, body: { workspace: 'not a workspace!' } }));
    conforms('POST', '/v1/integrations/{id}/reconnect', await api(system, 'POST', `/v1/integrations/${created.json.id}/reconnect`, { key }));
    conforms('POST', '/v1/integrations/{id}/sync', await api(system, 'POST', `/v1/integrations/${created.json.id}/sync`, { key }));
    conforms('POST', '/v1/integrations/{id}/sync', await api(system, 'POST', `/v1/integrations/${integrationId}/sync`, { key }));
    conforms('DELETE', '/v1/integrations/{id}', await api(system, 'DELETE', `/v1/integrations/${created.json.id}?purge=maybe`, { key }));
    conforms('DELETE', '/v1/integrations/{id}', await api(system, 'DELETE', `/v1/integrations/${created.json.id}?purge=true`, { key }));
    conforms('GET', '/v1/oauth/zendesk/callback', await api(system, 'GET', '/v1/oauth/zendesk/callback?state=forged&code=x'));
    // A reconnect of the connected integration: it stays connected and its view shows the pending attempt.
    conforms('POST', '/v1/integrations/{id}/reconnect', await api(system, 'POST', `/v1/integrations/${integrationId}/reconnect`, { key }));
    const pending = await api(system, 'GET', `/v1/integrations/${integrationId}`, { key });
    conforms('GET', '/v1/integrations/{id}', pending);
    assert.equal(pending.json.status, 'connected');
    assert.equal(pending.json.reconnect.status, 'pending');
  });

  test('tenant settings, connect sessions and the Connect page', async () => {
    const key = tenant.apiKey;
    const settings = { displayName: 'OpenAPI platform', allowedOrigins: ['http://127.0.0.1:9'], allowedReturnUrls: ['https://app.example.com/back'] };
    conforms('PATCH', '/v1/tenant', await api(system, 'PATCH', '/v1/tenant', { key, body: settings }));
    conforms('PATCH', '/v1/tenant', await api(system, 'PATCH', '/v1/tenant', { key, body: { allowedOrigins: ['http://platform.example.com'] } }));
    conforms('PATCH', '/v1/tenant', await api(system, 'PATCH', '/v1/tenant', { body: {} }));
    conforms('GET', '/v1/tenant', await api(system, 'GET', '/v1/tenant', { key }));
    const body = { workspace: 'openapi-acme', returnUrl: settings.allowedReturnUrls[0], allowedOrigin: settings.allowedOrigins[0] };
    const created = await api(system, 'POST', '/v1/connect-sessions', { key, body });
    conforms('POST', '/v1/connect-sessions', created);
    conforms('POST', '/v1/connect-sessions', await api(system, 'POST', '/v1/connect-sessions', { key, body: { returnUrl: 'https://elsewhere.example.com/' } }));
    conforms('POST', '/v1/connect-sessions', await api(system, 'POST', '/v1/connect-sessions', { key, body: { workspace: 'not a workspace!' } }));
    const page = new URL(created.json.url).pathname;
    conforms('GET', '/connect/{token}', await api(system, 'GET', page));
    conforms('GET', '/connect/{token}', await api(system, 'GET', '/connect/zc_unknown'));
    const submit = await fetch(`${system.apiUrl}${page}`, { method: 'POST', body: new URLSearchParams({ workspace: 'acme.example.com' }), redirect: 'manual' });
    conforms('POST', '/connect/{token}', { status: submit.status, headers: submit.headers, text: await submit.text() });
    conforms('GET', '/connect/assets/{file}', await api(system, 'GET', OPENER_SCRIPT_PATH));
    conforms('GET', '/connect/assets/{file}', await api(system, 'GET', '/connect/assets/other.js'));
  });

  test('reports', async () => {
    const key = tenant.apiKey;
    const base = `/v1/integrations/${integrationId}`;
    const page = await api(system, 'GET', `${base}/users?limit=50&includeDeleted=true&sort=-lastActivityAt`, { key });
    conforms('GET', '/v1/integrations/{id}/users', page);
    assert.ok(page.json.users.some((u: any) => u.lastLoginAt === null) || page.json.users.some((u: any) => u.roleType === null), 'nulls are exercised');
    conforms(
      'GET',
      '/v1/integrations/{id}/users',
      await api(system, 'GET', `${base}/users?cursor=${page.json.nextCursor}&includeDeleted=true&sort=-lastActivityAt`, { key }),
    );
    conforms('GET', '/v1/integrations/{id}/users', await api(system, 'GET', `${base}/users?role=boss&x=1`, { key }));
    conforms('GET', '/v1/integrations/{id}/users', await api(system, 'GET', '/v1/integrations/00000000-0000-4000-8000-000000000000/users', { key }));
    conforms('GET', '/v1/integrations/{id}/users.csv', await api(system, 'GET', `${base}/users.csv?seat=paid`, { key }));
    conforms('GET', '/v1/integrations/{id}/users.csv', await api(system, 'GET', `${base}/users.csv?limit=5`, { key }));
    conforms('GET', '/v1/integrations/{id}/utilization', await api(system, 'GET', `${base}/utilization?inactiveDays=14`, { key }));
    conforms('GET', '/v1/integrations/{id}/utilization', await api(system, 'GET', `${base}/utilization?inactiveDays=0`, { key }));
    conforms('GET', '/v1/integrations/{id}/utilization', await api(system, 'GET', `${base}/utilization`));
  });

  test('revalidation: a matching If-None-Match is a documented 304', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/integrations/{id}/utilization', `/v1/integrations/${integrationId}/utilization`], // the report cache's ETag
      ['/v1/tenant', '/v1/tenant'], // Express's default ETag
    ];
    for (const [template, path] of cases) {
      let res = await api(system, 'GET', path, { key: tenant.apiKey });
      // A sync still writing may change the report between two requests: ask again with the newer ETag.
      // (`max-age=0`: else fetch adds `Cache-Control: no-cache` to a conditional request, which rules out a 304.)
      for (let i = 0; i < 5 && res.status !== 304; i++) {
        const headers = { 'if-none-match': res.headers.get('etag') ?? '', 'cache-control': 'max-age=0' };
        res = await api(system, 'GET', path, { key: tenant.apiKey, headers });
      }
      assert.equal(res.status, 304, path);
      conforms('GET', template, res);
    }
  });

  test('a response that breaks the document is caught (the check has teeth)', async () => {
    const res = await api(system, 'GET', `/v1/integrations/${integrationId}/users?limit=1`, { key: tenant.apiKey });
    const broken = JSON.stringify({ ...res.json, users: [{ ...res.json.users[0], id: String(res.json.users[0].id) }] });
    assert.throws(() => conforms('GET', '/v1/integrations/{id}/users', { ...res, text: broken }), /must be integer/);
    const extra = JSON.stringify({ ...res.json, users: [{ ...res.json.users[0], secret: 1 }] });
    assert.throws(() => conforms('GET', '/v1/integrations/{id}/users', { ...res, text: extra }), /additional properties/);
  });
});
