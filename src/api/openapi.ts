import {
  ApproveBody,
  AuditPage,
  AuditQuery,
  CreateReclamationBody,
  Reclamation,
  ReclamationList,
  ReclamationParams,
  UndoBody,
  UndoResult,
} from './reclaimSchemas';
import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_ACTIVITY_RETENTION_DAYS } from '../config';
import {
  ReclaimableList,
  ReclaimableQuery,
  reportQuerySchemas,
  User,
  UserList,
  UsersCsvQuery,
  UsersQuery,
  Utilization,
  UtilizationQuery,
} from './reportSchemas';
import { RATE_LIMIT_HEADERS, RateLimitedProblem } from './limits/schemas';
import {
  ConflictProblem,
  CreatedIntegration,
  CreateIntegrationBody,
  CreateTenantBody,
  DeleteQuery,
  DisconnectedIntegration,
  Health,
  Integration,
  IntegrationIdParams,
  UpdateIntegrationSettingsBody,
  IntegrationList,
  IntegrationListQuery,
  LastSync,
  OAuthCallbackQuery,
  InternalProblem,
  Problem,
  Reconnect,
  ReconnectAttempt,
  SyncStarted,
  Tenant,
} from './schemas';
import {
  ApiKey,
  ApiKeyList,
  OffboardResult,
  OwnKeyParams,
  RotatedKey,
  RotateKeysBody,
  TenantIdParams,
  TenantKeyParams,
  TenantList,
  TenantListQuery,
  TenantSummary,
} from './tenantSchemas';

/**
 * The OpenAPI 3.1 document of the whole HTTP API, generated from the zod schemas the routes validate
 * requests with and shape responses by (zod 4's JSON Schema output, draft 2020-12, which OpenAPI 3.1
 * uses as is). Request bodies and parameters are described as the schemas' input, responses as their
 * output. The one hand-written part is the route table below: method, path, schemas, security.
 */

type JsonSchema = Record<string, unknown>;
type ZodObjectLike = z.ZodObject<z.ZodRawShape>;

/** What a response carries: a zod schema (JSON), or a non-JSON media type. */
type Body = z.ZodType | { mediaType: 'text/csv' | 'text/html' | 'text/plain'; description: string };

interface ResponseSpec {
  description: string;
  body?: Body;
  /** Problem details (application/problem+json) instead of application/json. */
  problem?: boolean;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

interface RouteSpec {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path template (`{id}`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  security: 'admin' | 'tenant' | 'none';
  params?: ZodObjectLike;
  query?: ZodObjectLike;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
}

// ------------------------------------------------------------------------------ components (by name)

/** Named request-body schemas (described as input). */
const INPUT_COMPONENTS: Record<string, z.ZodType> = { CreateTenantBody, CreateIntegrationBody, RotateKeysBody, CreateReclamationBody };

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
};

const AS_OF = {
  'Report-As-Of': {
    description: 'The instant activity was judged at (ISO-8601 UTC); every page of one listing shares it',
    schema: { type: 'string', format: 'date-time' },
  },
};

/** Headers of the cached JSON reports (/users, /utilization). */
const CACHED_REPORT = {
  ...AS_OF,
  ETag: {
    description: 'A weak validator of the body: send it back as `If-None-Match` to get 304 Not Modified while the report is unchanged',
    schema: { type: 'string' },
  },
  'Cache-Control': {
    description: '`private, no-cache`: a client may keep the report but must revalidate it (with `If-None-Match`) before using it again',
    schema: { type: 'string' },
  },
};

/** Every HTML page's security headers (src/api/pageSecurity.ts). */
const PAGE_HEADERS = {
  'Content-Security-Policy': {
    description: "`default-src 'none'`, the page's one inline stylesheet allowed by hash, no script, `frame-ancestors 'none'` (never framed)",
    schema: { type: 'string' },
  },
  'Cache-Control': { description: '`no-store`: the URL carries the authorization code', schema: { type: 'string' } },
  'Referrer-Policy': { description: '`no-referrer`', schema: { type: 'string' } },
  'X-Content-Type-Options': { description: '`nosniff`', schema: { type: 'string' } },
};

/** How a cached report behaves, for the descriptions of /users and /utilization. */
const CACHING =
  "Answers are cached by the API until a sync (or any other change) writes this integration's data — the cache is invalidated by " +
  'PostgreSQL notifications, so a finished sync shows in the next request — and for at most REPORT_CACHE_TTL_SECONDS (60 s by ' +
  'default): a cached answer is the report as of its `Report-As-Of` instant, which is never older than that. Repeating a request ' +
  'within that time may therefore return the same `asOf`. Parameter order and the order of list values do not matter. ' +
  "A report the cache cannot answer spends the tenant's `reports` budget: one unit, plus one per further 100 ms it took (a cached answer spends none).";

const problem = (description: string, body: z.ZodType = Problem): ResponseSpec => ({ description, body, problem: true });
/** Every tenant route: the tenant's budgets (src/api/limits) and a database too busy to answer in time. */
const TOO_MANY_REQUESTS: ResponseSpec = {
  ...problem(
    'A budget of the tenant is spent (README, "Fair sharing between tenants"): `budget` says which; retry after `Retry-After` seconds',
    RateLimitedProblem,
  ),
  headers: RATE_LIMIT_HEADERS,
};
const UNAVAILABLE: ResponseSpec = {
  ...problem('The database did not answer in time (API_STATEMENT_TIMEOUT, or no connection within API_DATABASE_POOL_WAIT); retry after `Retry-After` seconds'),
  headers: { 'Retry-After': RATE_LIMIT_HEADERS['Retry-After'] },
};
const BAD_REQUEST = problem('Invalid parameters or body: `errors` names each one with its reason');
const UNAUTHORIZED = problem('Missing or invalid API key');
const NOT_FOUND = problem("No such integration for this tenant (another tenant's id answers the same)");
const NO_TENANT = problem('No such tenant');
const LAST_KEY = problem(
  "The key is the tenant's last usable one: revoking it would lock the tenant out (rotate instead; `graceSeconds: 0` replaces it at once)",
);

/** What a rotation does, for both rotate routes. */
const ROTATION =
  'Issues a new key (shown once, stored hashed) and gives every other usable key of the tenant a grace period (`graceSeconds`, a day by default) ' +
  'after which it is refused; `graceSeconds: 0` revokes them at once (a leaked key). Rotations of one tenant queue. Keys are refused on every API ' +
  "process the moment they are revoked (the API's key cache is invalidated through PostgreSQL notifications), and the moment their grace period ends.";

const ROUTES: RouteSpec[] = [
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness',
    description:
      'The process answers HTTP; nothing more. Readiness (`/readyz`) and metrics (`/metrics`) are served on the internal port (INTERNAL_PORT), not here.',
    tag: 'operations',
    security: 'none',
    responses: { 200: { description: 'The process is up', body: Health } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document',
    tag: 'operations',
    security: 'none',
    responses: { 200: { description: 'OpenAPI 3.1 document', body: z.looseObject({ openapi: z.string() }) } },
  },
  {
    method: 'post',
    path: '/v1/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant and its API key (admin key)',
    description:
      'The API key is shown once and stored hashed. Rotate or revoke it with `/v1/tenants/{id}/keys…` (or the tenant itself with `/v1/tenant/keys…`).',
    tag: 'tenants',
    security: 'admin',
    body: CreateTenantBody,
    responses: { 201: { description: 'Created', body: Tenant }, 400: BAD_REQUEST, 401: UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/tenants',
    operationId: 'listTenants',
    summary: 'Every tenant, a page at a time (admin key)',
    description:
      'Newest first. Keyset pagination: pass `nextCursor` back as `cursor` with the same `status`. Offboarded tenants are listed (with `offboardedAt`) unless filtered out.',
    tag: 'tenants',
    security: 'admin',
    query: TenantListQuery,
    responses: { 200: { description: 'A page of tenants, newest first', body: TenantList }, 400: BAD_REQUEST, 401: UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/tenants/{id}',
    operationId: 'getTenant',
    summary: 'One tenant (admin key)',
    tag: 'tenants',
    security: 'admin',
    params: TenantIdParams,
    responses: { 200: { description: 'The tenant', body: TenantSummary }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NO_TENANT },
  },
  {
    method: 'get',
    path: '/v1/tenants/{id}/keys',
    operationId: 'listTenantKeys',
    summary: "A tenant's API keys (admin key)",
    description: 'Ids, hints and states only: a key itself is shown once, when it is made.',
    tag: 'tenants',
    security: 'admin',
    params: TenantIdParams,
    responses: { 200: { description: 'The keys, newest first', body: ApiKeyList }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NO_TENANT },
  },
  {
    method: 'post',
    path: '/v1/tenants/{id}/keys/rotate',
    operationId: 'rotateTenantKeys',
    summary: "Rotate a tenant's API key (admin key)",
    description: ROTATION,
    tag: 'tenants',
    security: 'admin',
    params: TenantIdParams,
    body: RotateKeysBody,
    responses: {
      201: { description: 'The new key, and the keys it replaces', body: RotatedKey },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NO_TENANT,
      409: problem('The tenant is being offboarded or is offboarded'),
    },
  },
  {
    method: 'delete',
    path: '/v1/tenants/{id}/keys/{keyId}',
    operationId: 'revokeTenantKey',
    summary: "Revoke one of a tenant's API keys now (admin key)",
    tag: 'tenants',
    security: 'admin',
    params: TenantKeyParams,
    responses: {
      200: { description: 'The key, revoked (revoking a revoked key changes nothing)', body: ApiKey },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: problem('No such tenant, or no such key of the tenant'),
      409: LAST_KEY,
    },
  },
  {
    method: 'post',
    path: '/v1/tenants/{id}/offboard',
    operationId: 'offboardTenant',
    summary: 'Offboard a tenant: every integration disconnected and purged, every key revoked (admin key)',
    description:
      'A durable operation, the workflow `zendesk-offboard-<tenant id>` (a repeated request joins it): the tenant turns `offboarding` at once (its keys are ' +
      'refused from then on), each integration — whatever its state — is disconnected and purged by its own disconnect workflow (sync schedule deleted, ' +
      'syncs stopped, consent links ended, the grant revoked at Zendesk when Zendesk allows it, stored tokens and synced users, ticket events and checkpoints ' +
      "deleted), then every key is revoked and the tenant is `offboarded`. The tenant row and its integrations' rows (disconnected, with their sync runs: counts, no personal data) stay as history.",
    tag: 'tenants',
    security: 'admin',
    params: TenantIdParams,
    responses: {
      200: { description: 'Offboarded (it finished within a few seconds)', body: OffboardResult },
      202: {
        description: 'Accepted: the offboarding goes on in workflow `workflowId`; `GET /v1/tenants/{id}` shows `offboarded` once done',
        body: OffboardResult,
      },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NO_TENANT,
      503: problem('The workflow service is unreachable: nothing was changed; try again'),
    },
  },
  {
    method: 'get',
    path: '/v1/tenant',
    operationId: 'getOwnTenant',
    summary: 'The calling tenant',
    tag: 'tenant',
    security: 'tenant',
    responses: { 200: { description: 'The tenant of the API key', body: TenantSummary }, 401: UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/tenant/keys',
    operationId: 'listOwnKeys',
    summary: "The calling tenant's API keys",
    description: 'Ids, hints and states only; `current` marks the key of this request.',
    tag: 'tenant',
    security: 'tenant',
    responses: { 200: { description: 'The keys, newest first', body: ApiKeyList }, 401: UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/v1/tenant/keys/rotate',
    operationId: 'rotateOwnKeys',
    summary: "Rotate the calling tenant's API key",
    description: `${ROTATION} The key of this request is one of those replaced: switch to the new key within the grace period.`,
    tag: 'tenant',
    security: 'tenant',
    body: RotateKeysBody,
    responses: {
      201: { description: 'The new key, and the keys it replaces', body: RotatedKey },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      409: problem('The tenant is being offboarded'),
    },
  },
  {
    method: 'delete',
    path: '/v1/tenant/keys/{keyId}',
    operationId: 'revokeOwnKey',
    summary: "Revoke one of the calling tenant's API keys now",
    description: 'Any key of the tenant, the one of this request included (it is refused from the next request on), unless it is the last usable one.',
    tag: 'tenant',
    security: 'tenant',
    params: OwnKeyParams,
    responses: {
      200: { description: 'The key, revoked', body: ApiKey },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: problem("No such key of the tenant (another tenant's key id answers the same)"),
      409: LAST_KEY,
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/zendesk',
    operationId: 'createZendeskIntegration',
    summary: 'Start connecting a Zendesk workspace',
    description:
      '`workspace` accepts `acme`, `acme.zendesk.com` or `https://acme.zendesk.com/...` (all mean `acme`). Send the admin to `authorizeUrl` to grant read access.',
    tag: 'integrations',
    security: 'tenant',
    body: CreateIntegrationBody,
    responses: {
      201: { description: 'Created, awaiting consent', body: CreatedIntegration },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      409: problem('The workspace is already connected for this tenant (`existingId`)', ConflictProblem),
    },
  },
  {
    method: 'get',
    path: '/v1/oauth/zendesk/callback',
    operationId: 'oauthCallback',
    summary: 'OAuth redirect target (browser)',
    description:
      'Completes consent and answers with a small HTML page saying connected or why not. A forged or expired `state` is 400 and changes nothing. ' +
      'The consent is handed to the connect workflow as an update whose id is the consent attempt, and the page waits at most OAUTH_CALLBACK_WAIT (90 s) ' +
      'for its outcome; past that (a slow code exchange, Temporal down) it answers 202 or 503 with a page that says the connection is still being completed ' +
      "and reloads itself. A reload of the same URL (its state is spent) never starts anything new: it shows the attempt's recorded outcome, or re-attaches " +
      'to the same update (after a Temporal outage, delivers it), and so shows the real result.',
    tag: 'integrations',
    security: 'none',
    query: OAuthCallbackQuery,
    responses: {
      200: { description: 'Connected', body: { mediaType: 'text/html', description: 'A page saying the workspace is connected' }, headers: PAGE_HEADERS },
      202: {
        description: 'The workflow has not answered within OAUTH_CALLBACK_WAIT; it carries on',
        body: { mediaType: 'text/html', description: 'A page saying the connection is still being completed; it reloads itself (meta refresh)' },
        headers: PAGE_HEADERS,
      },
      400: {
        description: 'Not connected (invalid link, denied, not an admin, expired)',
        body: { mediaType: 'text/html', description: 'A page saying why' },
        headers: PAGE_HEADERS,
      },
      503: {
        description: 'Temporal could not be reached; the consent is kept and a reload delivers it',
        body: { mediaType: 'text/html', description: 'A page saying the connection is still being completed; it reloads itself (meta refresh)' },
        headers: { ...PAGE_HEADERS, 'Retry-After': { description: 'Seconds until the page reloads itself', schema: { type: 'integer' } } },
      },
    },
  },
  {
    method: 'get',
    path: '/v1/integrations',
    operationId: 'listIntegrations',
    summary: "The tenant's integrations, a page at a time",
    description:
      'Newest first. Keyset pagination: pass `nextCursor` back as `cursor` with the same `status`; integrations created or deleted between two pages never make another one skip or repeat. Disconnected integrations are not listed. `nextSyncAt` of a whole page comes from at most one Temporal visibility query (none when the API has the schedules cached, until their integration changes), so a schedule created a moment ago may show null for a moment. Unknown parameters and bad values are 400 naming each one.',
    tag: 'integrations',
    security: 'tenant',
    query: IntegrationListQuery,
    responses: { 200: { description: 'A page of integrations, newest first', body: IntegrationList }, 400: BAD_REQUEST, 401: UNAUTHORIZED },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}',
    operationId: 'getIntegration',
    summary: 'One integration',
    tag: 'integrations',
    security: 'tenant',
    params: IntegrationIdParams,
    responses: { 200: { description: 'The integration', body: Integration }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'patch',
    path: '/v1/integrations/{id}/settings',
    operationId: 'updateIntegrationSettings',
    summary: "Change the integration's settings (from its next sync on)",
    tag: 'integrations',
    security: 'tenant',
    params: IntegrationIdParams,
    body: UpdateIntegrationSettingsBody,
    responses: { 200: { description: 'The integration with its new settings', body: Integration }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'delete',
    path: '/v1/integrations/{id}',
    operationId: 'deleteIntegration',
    summary: 'Disconnect: stop syncing, revoke the grant at Zendesk when Zendesk allows it, delete stored tokens',
    tag: 'integrations',
    security: 'tenant',
    params: IntegrationIdParams,
    query: DeleteQuery,
    responses: {
      200: {
        description:
          'Disconnected (`purge=true`: synced data deleted too). The disconnect is one durable workflow (status, schedule, connect flow, syncs, revocation, purge in batches): a failure halfway only delays it. `revocation` says whether Zendesk really revoked the grant: revoking needs the ' +
          '`write` scope and the worker holds `read`, so Zendesk may refuse (403); the disconnect completes anyway, and `revocation.message` ' +
          "(also the integration's `error`) says how a Zendesk admin removes the grant.",
        body: DisconnectedIntegration,
      },
      202: {
        description:
          'Accepted: the disconnect did not finish within a few seconds (a large purge) and goes on in workflow `workflowId`; the integration shows ' +
          '`disconnecting` (its reports already answer 404) until it is `disconnected`. A repeated DELETE joins the same disconnect.',
        body: DisconnectedIntegration,
      },
      503: problem('The workflow service is unreachable: nothing was changed; try again'),
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/sync',
    operationId: 'syncIntegration',
    summary: 'Sync now (joins a sync already running)',
    tag: 'integrations',
    security: 'tenant',
    params: IntegrationIdParams,
    responses: {
      202: { description: 'Sync started or joined', body: SyncStarted },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('The integration is not connected'),
      503: problem('The sync could not be started; try again shortly'),
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/reconnect',
    operationId: 'reconnectIntegration',
    summary: 'Ask for consent again',
    description:
      'A connected integration stays `connected` and keeps syncing with its current grant while the new consent is pending (shown as `reconnect` on the integration); ' +
      "only an admin's approval replaces the grant (in one transaction, after which the old grant is revoked at Zendesk). A denied, non-admin or unanswered " +
      'reconnect leaves the grant and the schedule as they were. Any other integration (`needs_reauth`, `consent_denied`, `expired`, `failed`, `awaiting_consent`) ' +
      'moves to `awaiting_consent`, as on its first connect. A newer reconnect replaces a pending one. An optional JSON body `{"access": "read" | "reclaim"}` asks for read access (default) or for the reclaim scopes too.',
    tag: 'integrations',
    security: 'tenant',
    params: IntegrationIdParams,
    responses: {
      200: { description: 'A new consent URL', body: Reconnect },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('A consent is being completed right now (the code is being exchanged or the user checked)'),
    },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/users',
    operationId: 'listUsers',
    summary: 'Zendesk users with seat and activity, filtered, sorted, paginated',
    description: [
      'Keyset pagination: pass `nextCursor` back as `cursor` with the same other parameters. Rows written by a sync between two pages',
      'never make another row skip or repeat; a cursor also pins the as-of instant, so every page judges activity at the same moment',
      '(a row whose own sort key changes meanwhile, e.g. a user who signs in during a `lastLoginAt` walk, is listed at its new place).',
      '`lastTicketInteractionAt` is the newest synced ticket event of the user overall (not limited to the window); `ticketInteractions`',
      'counts the events in [asOf − inactiveDays, asOf]. Unknown parameters and bad values are 400 naming each one.',
      CACHING,
    ].join(' '),
    tag: 'reports',
    security: 'tenant',
    params: IntegrationIdParams,
    query: UsersQuery,
    responses: { 200: { description: 'A page of users', body: UserList, headers: CACHED_REPORT }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/users.csv',
    operationId: 'exportUsersCsv',
    summary: 'The same users as CSV: every page, streamed',
    description: [
      'RFC 4180: a header row with the User field names in order, CRLF line ends, UTF-8. Same filters and sort as /users (no `limit` or `cursor`).',
      'Fields are quoted when they hold a comma, a quote, a line break or edge whitespace; null is an empty field, an empty string `""`;',
      'booleans `true`/`false`; timestamps ISO-8601 UTC. If the export fails midway the connection is cut rather than ended, so a',
      'download is either complete or visibly truncated. Never cached: every export reads the database, as one consistent snapshot',
      '(one REPEATABLE READ transaction read through one server-side cursor), streamed as the client reads it.',
      'Spreadsheets: a text value that would be evaluated as a formula (it starts with `=`, `+`, `-`, `@`, tab or CR, or a full-width',
      "`＝＋－＠`) is written with a leading `'` unless `raw=true` (see `raw`). Each export spends one unit of the tenant's `csv`",
      'budget, and at most API_CSV_CONCURRENCY (2 by default) run at once per tenant: more is 429.',
    ].join(' '),
    tag: 'reports',
    security: 'tenant',
    params: IntegrationIdParams,
    query: UsersCsvQuery,
    responses: {
      200: { description: 'CSV of every matching user', body: { mediaType: 'text/csv', description: 'One row per user' }, headers: AS_OF },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
    },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/utilization',
    operationId: 'getUtilization',
    summary: 'License utilization: paid and free seats, by role type, reclaimable seats',
    description: `Over agents and admins that are not deleted. A suspended agent still holds a paid seat until downgraded to end user: it is counted in \`paidSeats.suspended\` and listed as reclaimable with reason \`suspended\` (the seats: \`GET /v1/integrations/{id}/reclaimable\`). For the server's default \`inactiveDays\` this is the report the worker stored when the last sync's seat part was done or the sync succeeded (a utilization snapshot): \`asOf\` is when it was taken. Other \`inactiveDays\`, or before the first snapshot, are computed at the request. ${CACHING}`,
    tag: 'reports',
    security: 'tenant',
    params: IntegrationIdParams,
    query: UtilizationQuery,
    responses: { 200: { description: 'Utilization', body: Utilization, headers: CACHED_REPORT }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/reclaimable',
    operationId: 'listReclaimableSeats',
    summary: 'The reclaimable paid seats, a page at a time',
    description: `Every suspended or inactive paid seat (the count is in \`/utilization\`'s \`reclaimable\`), least recently active first. ${CACHING}`,
    tag: 'reports',
    security: 'tenant',
    params: IntegrationIdParams,
    query: ReclaimableQuery,
    responses: {
      200: { description: 'A page of reclaimable seats', body: ReclaimableList, headers: CACHED_REPORT },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/reclamations',
    operationId: 'planReclamation',
    summary: 'Plan a seat reclamation (a dry run: nothing changes until approved)',
    description:
      'Computes, from the last sync, which users would be downgraded (`action` `end_user` frees the seat; `light_agent` keeps read access) and which are left alone with why: ' +
      "the account owner, the admin whose grant the integration uses, the last admin, shared users and agents, the exemption list, new hires (`newHireGraceDays`), users on a free seat, active users, and for `light_agent` users whose other products' roles keep a seat. " +
      'The integration needs write access (`capabilities.reclaim`: connect or reconnect with `access: "reclaim"`), else 409. Starts the workflow `zendesk-reclaim-<id>`, which waits for approval until `expiresAt`. ' +
      'An optional `Actor` header (at most 200 characters) names the person for the audit log.',
    tag: 'reclamations',
    security: 'tenant',
    params: IntegrationIdParams,
    body: CreateReclamationBody,
    responses: {
      201: { description: 'The plan', body: Reclamation },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('The integration cannot reclaim seats (`detail` says why)'),
    },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/reclamations',
    operationId: 'listReclamations',
    summary: 'The latest 100 reclamations',
    tag: 'reclamations',
    security: 'tenant',
    params: IntegrationIdParams,
    responses: { 200: { description: 'Reclamations, newest first', body: ReclamationList }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/reclamations/{rid}',
    operationId: 'getReclamation',
    summary: 'A reclamation with every user it considered',
    tag: 'reclamations',
    security: 'tenant',
    params: ReclamationParams,
    responses: { 200: { description: 'The reclamation', body: Reclamation }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/reclamations/{rid}/approve',
    operationId: 'approveReclamation',
    summary: 'Approve a plan (all planned users, or some)',
    description:
      'A Temporal update: answers once the approval is recorded; the downgrades then run, one user at a time, each exactly once (a snapshot of role, custom role and default group is stored before the change; the user is read back after). ' +
      'Follow them with GET …/reclamations/{rid}. 409 when the plan is no longer awaiting approval or names users it did not plan.',
    tag: 'reclamations',
    security: 'tenant',
    params: ReclamationParams,
    body: ApproveBody,
    responses: {
      200: { description: 'Approved', body: Reclamation },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('Not awaiting approval, or users not in the plan'),
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/reclamations/{rid}/reject',
    operationId: 'rejectReclamation',
    summary: 'Reject a plan: nothing is changed',
    tag: 'reclamations',
    security: 'tenant',
    params: ReclamationParams,
    responses: {
      200: { description: 'Rejected', body: Reclamation },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('Not awaiting approval'),
    },
  },
  {
    method: 'post',
    path: '/v1/integrations/{id}/reclamations/{rid}/undo',
    operationId: 'undoReclamation',
    summary: 'Restore downgraded users from their snapshots (within the undo window)',
    description:
      'Restores role, custom role and default group; when Zendesk refuses because no agent seat is free, that user ends `undo_failed` with the reason and can be undone again later. Group memberships and what Zendesk drops for good on a downgrade (e.g. unshared Explore dashboards) are not restored.',
    tag: 'reclamations',
    security: 'tenant',
    params: ReclamationParams,
    body: UndoBody,
    responses: {
      200: { description: 'Per-user outcome', body: UndoResult },
      400: BAD_REQUEST,
      401: UNAUTHORIZED,
      404: NOT_FOUND,
      409: problem('Not completed, or the undo window has ended'),
    },
  },
  {
    method: 'get',
    path: '/v1/integrations/{id}/audit',
    operationId: 'listAuditEvents',
    summary: 'The append-only audit log of seat changes',
    description:
      "Every step of every reclamation: who asked (tenant key, `Actor`), what changed before and after, Zendesk's answers. Oldest first; filters by reclamation, user and kind.",
    tag: 'reclamations',
    security: 'tenant',
    params: IntegrationIdParams,
    query: AuditQuery,
    responses: { 200: { description: 'A page of events', body: AuditPage }, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_FOUND },
  },
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
    responses: Object.fromEntries(
      Object.entries({ ...(route.security === 'tenant' ? { 429: TOO_MANY_REQUESTS, 503: UNAVAILABLE } : {}), ...route.responses })
        .map(([status, spec]) => [status, response(spec)] as const)
        .concat([
          [
            '500',
            response(
              problem(
                "Unexpected error: `detail` is a sentence without the error's text; `reference` identifies it in our logs (quote it to support)",
                InternalProblem,
              ),
            ),
          ],
        ]),
    ),
  };
}

/**
 * The route table of a server whose ACTIVITY_RETENTION_DAYS is `maxInactiveDays`: the reports' query
 * schemas with that cap on `inactiveDays` instead of the default one.
 */
function routeTable(maxInactiveDays: number): RouteSpec[] {
  if (maxInactiveDays === DEFAULT_ACTIVITY_RETENTION_DAYS) return ROUTES;
  const capped = reportQuerySchemas(maxInactiveDays);
  const swap = new Map<ZodObjectLike | undefined, ZodObjectLike>([
    [UsersQuery, capped.UsersQuery],
    [UsersCsvQuery, capped.UsersCsvQuery],
    [UtilizationQuery, capped.UtilizationQuery],
    [ReclaimableQuery, capped.ReclaimableQuery],
  ] as Array<[ZodObjectLike, ZodObjectLike]>);
  return ROUTES.map((route) => (swap.has(route.query) ? { ...route, query: swap.get(route.query) } : route));
}

/** The document; `serverUrl` is the API's public URL, `maxInactiveDays` its ACTIVITY_RETENTION_DAYS. */
function buildOpenApiDocument(serverUrl?: string, options: { maxInactiveDays?: number } = {}): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routeTable(options.maxInactiveDays ?? DEFAULT_ACTIVITY_RETENTION_DAYS)) (paths[route.path] ??= {})[route.method] = operation(route);
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
      { name: 'operations', description: 'Health, readiness, metrics and this document' },
    ],
    paths,
    components: {
      schemas: { ...components(OUTPUT_COMPONENTS, 'output'), ...components(INPUT_COMPONENTS, 'input') },
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'The ADMIN_API_KEY (for /v1/tenants...)' },
        tenantKey: { type: 'http', scheme: 'bearer', description: "A tenant's API key (for /v1/integrations... and /v1/tenant...)" },
      },
    },
  };
}

/** The route table, for tests that check every route of the app is documented. */
export const documentedRoutes = (): Array<{ method: string; path: string }> => ROUTES.map((r) => ({ method: r.method, path: r.path }));

/** `GET /openapi.json`, public. */
export function openApiRouter(serverUrl?: string, options: { maxInactiveDays?: number } = {}): Router {
  const router = Router();
  let document: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    document ??= JSON.stringify(buildOpenApiDocument(serverUrl, options));
    res.type('application/json').send(document);
  });
  return router;
}
