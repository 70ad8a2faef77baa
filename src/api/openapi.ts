import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_ACTIVITY_RETENTION_DAYS } from '../config';
import { RateLimitedProblem } from './limits/schemas';
import { CreateReclamationBody } from './reclaimSchemas';
import { ReclaimableList, reportQuerySchemas, User, UserList, Utilization } from './reportSchemas';
import { INTERNAL_ERROR, NOT_MODIFIED, UNAVAILABLE } from './routeResponses';
import { defineRoute, mount, type JsonSchema, type ResponseSpec, type RouteSpec, type ZodObjectLike } from './routeSpec';
import { connectAssetRoutes } from './connectAssets';
import { connectPageRoutes } from './routes/connectPage';
import { connectSessionRoutes } from './routes/connectSessions';
import { healthRoutes } from './routes/health';
import { integrationRoutes } from './routes/integrations';
import { oauthCallbackRoutes } from './routes/oauthCallback';
import { offboardRoutes } from './routes/offboard';
import { reclamationRoutes } from './routes/reclamations';
import { reportRoutes } from './routes/reports';
import { tenantKeyRoutes } from './routes/tenantKeys';
import { tenantRoutes } from './routes/tenants';
import { webhookRoutes } from './routes/webhookEndpoints';
import { viewPageRoutes } from './routes/viewPage';
import { viewSessionRoutes } from './routes/viewSessions';
import { CreateViewSessionBody, ViewSession } from './viewSessionSchemas';
import { WEBHOOK_EVENT_EXAMPLES } from '../webhooks/eventExamples';
import { CreatedWebhookEndpoint, CreateWebhookEndpointBody, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList } from './webhookSchemas';
import {
  ConflictProblem,
  CreatedIntegration,
  CreateIntegrationBody,
  CreateTenantBody,
  DisconnectedIntegration,
  Health,
  Integration,
  IntegrationList,
  InternalProblem,
  LastSync,
  Problem,
  Reconnect,
  ReconnectAttempt,
  SyncStarted,
  Tenant,
} from './schemas';
import { UpdateTenantSettingsBody } from './tenantSettingsSchemas';
import { ConnectSession, CreateConnectSessionBody } from './connectSessionSchemas';
import { ApiKey, ApiKeyList, OffboardResult, RotatedKey, RotateKeysBody, TenantList, TenantSummary } from './tenantSchemas';

/**
 * The OpenAPI 3.1 document of the whole HTTP API, generated from the route specs each routes file defines
 * next to its handlers (src/api/routeSpec.ts) and the zod schemas they validate requests with and shape
 * responses by (zod 4's JSON Schema output, draft 2020-12, which OpenAPI 3.1 uses as is). Request bodies
 * and parameters are described as the schemas' input, responses as their output.
 *
 * Why not zod-openapi (tried, 5.4.6, on these specs): its current major (6) needs Node 22.14, below our engines;
 * components given by name render nested ones twice (`ApiKey` as input, `ApiKeyOutput`), unless every named
 * schema carries a `.meta({ id })` in zod's global registry; and parameters lose `required: false` and repeat
 * their description inside the schema. The generator below is small and uses the same z.toJSONSchema it does.
 */

// ------------------------------------------------------------------------------ components (by name)

/** Named request-body schemas (described as input). */
const INPUT_COMPONENTS: Record<string, z.ZodType> = {
  CreateTenantBody,
  CreateIntegrationBody,
  RotateKeysBody,
  CreateReclamationBody,
  CreateWebhookEndpointBody,
  UpdateTenantSettingsBody,
  CreateConnectSessionBody,
  CreateViewSessionBody,
};

/** Named response schemas (described as output). Nested named schemas become $refs. */
const OUTPUT_COMPONENTS: Record<string, z.ZodType> = {
  Tenant,
  TenantSummary,
  TenantList,
  ApiKey,
  ApiKeyList,
  RotatedKey,
  OffboardResult,
  CreatedIntegration,
  Integration,
  IntegrationList,
  DisconnectedIntegration,
  LastSync,
  ReconnectAttempt,
  Reconnect,
  SyncStarted,
  User,
  UserList,
  Utilization,
  ReclaimableList,
  Problem,
  InternalProblem,
  ConflictProblem,
  RateLimitedProblem,
  Health,
  WebhookEndpoint,
  CreatedWebhookEndpoint,
  WebhookEndpointList,
  WebhookDeliveryList,
  ConnectSession,
  ViewSession,
};

// ------------------------------------------------------------------------------------------- routes

const openApi = defineRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'openapi',
  summary: 'This document',
  tag: 'operations',
  security: 'none',
  responses: { 200: { description: 'OpenAPI 3.1 document', body: z.looseObject({ openapi: z.string() }) }, 304: NOT_MODIFIED },
});

/** Every route of a server whose ACTIVITY_RETENTION_DAYS is `maxInactiveDays` (the reports' `inactiveDays` cap), in document order. */
const allRoutes = (maxInactiveDays: number): RouteSpec[] => [
  ...healthRoutes,
  openApi,
  ...tenantRoutes,
  ...tenantKeyRoutes,
  ...offboardRoutes,
  ...integrationRoutes,
  ...connectSessionRoutes,
  ...connectPageRoutes,
  ...connectAssetRoutes,
  ...oauthCallbackRoutes,
  ...Object.values(reportRoutes(reportQuerySchemas(maxInactiveDays))),
  ...viewSessionRoutes,
  ...Object.values(viewPageRoutes(reportQuerySchemas(maxInactiveDays))),
  ...reclamationRoutes,
  ...webhookRoutes,
];

// ------------------------------------------------------------------------------------------ generator

const REF_PREFIX = '#/components/schemas/';

function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** Every named schema of one direction, each as a component; shared sub-schemas become $refs. */
function components(named: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: (id) => `${REF_PREFIX}${id}`, unrepresentable: 'any' }) as {
    schemas: Record<string, JsonSchema>;
  };
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, clean(s)]));
}

function nameOf(named: Record<string, z.ZodType>, schema: z.ZodType): string | undefined {
  return Object.entries(named).find(([, s]) => s === schema)?.[0];
}

/** A schema as a $ref when named, inline otherwise. */
function schemaOf(schema: z.ZodType, named: Record<string, z.ZodType>, io: 'input' | 'output'): JsonSchema {
  const name = nameOf(named, schema);
  if (name) return { $ref: `${REF_PREFIX}${name}` };
  return clean(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }));
}

function parameters(object: ZodObjectLike, where: 'path' | 'query'): JsonSchema[] {
  return Object.entries(object.shape).map(([name, field]) => {
    const schema = clean(z.toJSONSchema(field as z.ZodType, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }));
    const { description, ...rest } = schema;
    const required = where === 'path' || !(field as z.ZodType).safeParse(undefined).success;
    return { name, in: where, required, ...(description ? { description } : {}), schema: rest };
  });
}

function response(spec: ResponseSpec): JsonSchema {
  const out: JsonSchema = { description: spec.description };
  if (spec.headers) out.headers = spec.headers;
  if (spec.body) {
    if ('mediaType' in spec.body) {
      out.content = { [spec.body.mediaType]: { schema: { type: 'string', description: spec.body.description } } };
    } else {
      out.content = { [spec.problem ? 'application/problem+json' : 'application/json']: { schema: schemaOf(spec.body, OUTPUT_COMPONENTS, 'output') } };
    }
  }
  return out;
}

function operation(route: RouteSpec): JsonSchema {
  const params = [...(route.params ? parameters(route.params, 'path') : []), ...(route.query ? parameters(route.query, 'query') : [])];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.security === 'none' ? [] : [{ [route.security === 'admin' ? 'adminKey' : 'tenantKey']: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(route.body, INPUT_COMPONENTS, 'input') } } } } : {}),
    // Every route may fail unexpectedly (500); a tenant route's key lookup may find the database too busy (503).
    responses: Object.fromEntries(
      Object.entries({ ...(route.security === 'tenant' ? { 503: UNAVAILABLE } : {}), ...route.responses, 500: INTERNAL_ERROR }).map(
        ([status, spec]) => [status, response(spec)] as const,
      ),
    ),
  };
}

/** The events a webhook endpoint receives (OpenAPI 3.1 `webhooks`), one per type, each with an example. */
function webhookEvents(): Record<string, JsonSchema> {
  const header = (name: string, description: string) => ({ name, in: 'header', required: true, description, schema: { type: 'string' } });
  return Object.fromEntries(
    Object.entries(WEBHOOK_EVENT_EXAMPLES).map(([type, { summary, data }]) => [
      type,
      {
        post: {
          operationId: `webhook:${type}`,
          summary,
          tags: ['webhooks'],
          parameters: [
            header('webhook-id', 'The event id (`msg_…`): the same on every attempt, for de-duplication'),
            header('webhook-timestamp', 'Seconds since the epoch, of this attempt'),
            header('webhook-signature', "`v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>`, two space-separated during a secret rotation"),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['type', 'timestamp', 'data'],
                  properties: { type: { const: type }, timestamp: { type: 'string', format: 'date-time' }, data: { type: 'object' } },
                },
                example: { type, timestamp: '2026-12-03T06:04:12.789Z', data },
              },
            },
          },
          responses: {
            '2XX': { description: 'Received: any 2xx ends the delivery' },
            '410': { description: 'Gone: the endpoint is disabled, and later events are kept for it' },
            '429': { description: 'Too many: retried, not before `Retry-After`' },
            default: { description: 'Retried on the schedule (README, "Webhooks")' },
          },
        },
      },
    ]),
  );
}

/** The document; `serverUrl` is the API's public URL, `maxInactiveDays` its ACTIVITY_RETENTION_DAYS. */
function buildOpenApiDocument(serverUrl?: string, options: { maxInactiveDays?: number } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of allRoutes(options.maxInactiveDays ?? DEFAULT_ACTIVITY_RETENTION_DAYS)) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Zendesk integration worker',
      version: '1.0.0',
      description:
        "Connects customers' Zendesk workspaces by OAuth, syncs their users and ticket activity, and reports license utilization. Errors are RFC 9457 problem details.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    tags: [
      { name: 'tenants', description: 'Admin: tenants, their API keys and their offboarding' },
      { name: 'tenant', description: "A tenant's own account: its API keys" },
      { name: 'integrations', description: 'Connecting and managing Zendesk workspaces' },
      { name: 'reports', description: 'License utilization reports' },
      { name: 'reclamations', description: 'Reclaiming unused seats: plans, approval, execution, undo and the audit log' },
      { name: 'webhooks', description: 'Signed outbound webhooks (Standard Webhooks): endpoints, deliveries, replay' },
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    paths,
    webhooks: webhookEvents(),
    components: {
      schemas: { ...components(OUTPUT_COMPONENTS, 'output'), ...components(INPUT_COMPONENTS, 'input') },
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'The ADMIN_API_KEY (for /v1/tenants...)' },
        tenantKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (for /v1/integrations... and /v1/tenant...)" },
      },
    },
  };
}

/** Every documented route, for tests that check every route of the app is documented. */
export const documentedRoutes = (): Array<{ method: string; path: string }> =>
  allRoutes(DEFAULT_ACTIVITY_RETENTION_DAYS).map((r) => ({ method: r.method, path: r.path }));

/** `GET /openapi.json`, public. */
export function openApiRouter(serverUrl?: string, options: { maxInactiveDays?: number } = {}): Router {
  const router = Router();
  let document: string | undefined;
  mount(router, openApi, (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument(serverUrl, options));
    res.type('application/json').send(document);
  });
  return router;
}
