import { Router, type Request } from 'express';
import {
  deleteEndpoint,
  deliveriesOf,
  findEndpoint,
  insertEndpoint,
  insertTestEvent,
  listEndpoints,
  pendingDeliveryCounts,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpoint,
} from '../../db/repositories/webhooks';
import { checkWebhookUrl, WebhookUrlError } from '../../webhooks/addressGuard';
import { newWebhookSecret } from '../../webhooks/signature';
import type { ApiDeps } from '../deps';
import { badRequest, conflict, notFound } from '../problems';
import { BAD_REQUEST, NOT_MODIFIED, problem, TOO_MANY_REQUESTS, UNAUTHORIZED } from '../routeResponses';
import { defineRoute, mount } from '../routeSpec';
import {
  CreatedWebhookEndpoint,
  CreateWebhookEndpointBody,
  RotatedWebhookSecret,
  UpdateWebhookEndpointBody,
  WebhookDeliveriesQuery,
  WebhookDeliveryList,
  WebhookDeliveryParams,
  WebhookEndpoint as WebhookEndpointView,
  WebhookEndpointList,
  WebhookEndpointParams,
  WebhookTestSent,
} from '../webhookSchemas';
import { parseOr400 } from '../validate';

const NO_ENDPOINT = problem("No such webhook endpoint for this tenant (another tenant's id answers the same)");
const common = { tag: 'webhooks', security: 'tenant' as const };
const errors = { 400: BAD_REQUEST, 401: UNAUTHORIZED, 429: TOO_MANY_REQUESTS };

const createEndpoint = defineRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-endpoints',
  operationId: 'createWebhookEndpoint',
  summary: 'Register a webhook endpoint',
  description:
    'Events of the tenant are POSTed to `url`, signed as Standard Webhooks describes (`webhook-id`, `webhook-timestamp`, `webhook-signature`). ' +
    'The signing secret is in this answer only. The URL must be https and resolve to public addresses only (README, "Webhooks").',
  body: CreateWebhookEndpointBody,
  responses: { 201: { description: 'The endpoint, with its signing secret (shown once)', body: CreatedWebhookEndpoint }, ...errors },
});
const listEndpointsRoute = defineRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  summary: "The tenant's webhook endpoints",
  responses: { 200: { description: 'Oldest first', body: WebhookEndpointList }, 304: NOT_MODIFIED, ...errors },
});
const getEndpoint = defineRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'getWebhookEndpoint',
  summary: 'One webhook endpoint',
  params: WebhookEndpointParams,
  responses: { 200: { description: 'The endpoint (never its secret)', body: WebhookEndpointView }, 304: NOT_MODIFIED, ...errors, 404: NO_ENDPOINT },
});
const patchEndpoint = defineRoute({
  ...common,
  method: 'patch',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'updateWebhookEndpoint',
  summary: 'Change, disable or re-enable a webhook endpoint',
  description:
    'Re-enabling delivers what was produced while it was disabled, within WEBHOOK_HELD_RETENTION (7 days by default); older events are marked expired.',
  params: WebhookEndpointParams,
  body: UpdateWebhookEndpointBody,
  responses: { 200: { description: 'The endpoint as changed', body: WebhookEndpointView }, ...errors, 404: NO_ENDPOINT },
});
const deleteEndpointRoute = defineRoute({
  ...common,
  method: 'delete',
  path: '/v1/webhook-endpoints/{id}',
  operationId: 'deleteWebhookEndpoint',
  summary: 'Delete a webhook endpoint, its deliveries with it',
  params: WebhookEndpointParams,
  responses: { 204: { description: 'Deleted' }, ...errors, 404: NO_ENDPOINT },
});
const rotateEndpointSecret = defineRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/rotate-secret',
  operationId: 'rotateWebhookSecret',
  summary: "Rotate an endpoint's signing secret",
  description:
    'A new secret signs from now on; the old one keeps signing beside it for WEBHOOK_SECRET_OVERLAP (24 h by default): each delivery carries both ' +
    'signatures (`v1,<old> v1,<new>`), so a receiver that knows either verifies. Rotating again during an overlap ends the first overlap.',
  params: WebhookEndpointParams,
  responses: { 201: { description: 'The endpoint with its new secret (shown once)', body: RotatedWebhookSecret }, ...errors, 404: NO_ENDPOINT },
});
const testEndpoint = defineRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/test',
  operationId: 'testWebhookEndpoint',
  summary: 'Send a webhook.test event to this endpoint',
  params: WebhookEndpointParams,
  responses: { 202: { description: 'Queued for delivery; its attempts show in the deliveries', body: WebhookTestSent }, ...errors, 404: NO_ENDPOINT },
});
const listDeliveries = defineRoute({
  ...common,
  method: 'get',
  path: '/v1/webhook-endpoints/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  summary: "An endpoint's deliveries, newest first, with every attempt",
  params: WebhookEndpointParams,
  query: WebhookDeliveriesQuery,
  responses: { 200: { description: 'Deliveries and attempts', body: WebhookDeliveryList }, 304: NOT_MODIFIED, ...errors, 404: NO_ENDPOINT },
});
const replay = defineRoute({
  ...common,
  method: 'post',
  path: '/v1/webhook-endpoints/{id}/deliveries/{deliveryId}/replay',
  operationId: 'replayWebhookDelivery',
  summary: 'Deliver an event again (same `webhook-id`)',
  params: WebhookDeliveryParams,
  responses: {
    202: { description: 'Queued for delivery', body: WebhookTestSent },
    ...errors,
    404: problem('No such endpoint or delivery for this tenant'),
    409: problem('The delivery is still under way, or the endpoint is disabled (enable it first)'),
  },
});

export const webhookRoutes = [
  createEndpoint,
  listEndpointsRoute,
  getEndpoint,
  patchEndpoint,
  deleteEndpointRoute,
  rotateEndpointSecret,
  testEndpoint,
  listDeliveries,
  replay,
];

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function endpointView(e: WebhookEndpoint, pending: number) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    enabled: e.enabled,
    disabledReason: e.disabled_reason,
    disabledAt: iso(e.disabled_at),
    previousSecretUntil: e.previous_secret_until && e.previous_secret_until > new Date() ? e.previous_secret_until.toISOString() : null,
    pendingDeliveries: pending,
    createdAt: e.created_at.toISOString(),
    updatedAt: e.updated_at.toISOString(),
  };
}

/**
 * The tenant's webhook endpoints (README, "Webhooks"). Behind tenant authentication and the tenant's
 * request budget (app.ts); another tenant's endpoint answers 404 like an unknown one.
 */
export function webhookEndpointsRouter(deps: ApiDeps): Router {
  const router = Router();
  const { db, box, config, logger } = deps;
  const settings = config.webhooks;

  const validUrl = async (text: string) => {
    try {
      return (await checkWebhookUrl(text, settings.allowHosts)).toString();
    } catch (err) {
      if (err instanceof WebhookUrlError) throw badRequest(`The url ${err.message}.`, [{ name: 'url', reason: err.message }]);
      throw err;
    }
  };
  const own = async (req: Request) => {
    const { id } = parseOr400(WebhookEndpointParams, req.params, 'path');
    const endpoint = await findEndpoint(db, req.tenant!.id, id);
    if (!endpoint) throw notFound(`No webhook endpoint ${id}.`);
    return endpoint;
  };
  const view = async (e: WebhookEndpoint) => endpointView(e, (await pendingDeliveryCounts(db, [e.id])).get(e.id) ?? 0);

  mount(router, createEndpoint, async (req, res) => {
    const body = parseOr400(CreateWebhookEndpointBody, req.body, 'body');
    const url = await validUrl(body.url);
    const secret = newWebhookSecret();
    const endpoint = await insertEndpoint(db, box, {
      tenantId: req.tenant!.id,
      url,
      description: body.description ?? null,
      events: body.events ?? null,
      secret,
    });
    logger.info({ tenantId: endpoint.tenant_id, webhookEndpointId: endpoint.id }, 'webhook endpoint created');
    res.status(201).json({ ...(await view(endpoint)), secret });
  });

  mount(router, listEndpointsRoute, async (req, res) => {
    const endpoints = await listEndpoints(db, req.tenant!.id);
    const pending = await pendingDeliveryCounts(
      db,
      endpoints.map((e) => e.id),
    );
    res.json({ endpoints: endpoints.map((e) => endpointView(e, pending.get(e.id) ?? 0)) });
  });

  mount(router, getEndpoint, async (req, res) => {
    res.json(await view(await own(req)));
  });

  mount(router, patchEndpoint, async (req, res) => {
    const body = parseOr400(UpdateWebhookEndpointBody, req.body, 'body');
    const endpoint = await own(req);
    const url = body.url === undefined ? undefined : await validUrl(body.url);
    const changed = await updateEndpoint(db, endpoint, { ...body, url }, settings.heldRetentionMs);
    if (body.enabled !== undefined && body.enabled !== endpoint.enabled) {
      logger.info(
        { tenantId: endpoint.tenant_id, webhookEndpointId: endpoint.id, enabled: body.enabled },
        `webhook endpoint ${body.enabled ? 'enabled' : 'disabled'} by request`,
      );
    }
    res.json(await view(changed));
  });

  mount(router, deleteEndpointRoute, async (req, res) => {
    const endpoint = await own(req);
    await deleteEndpoint(db, endpoint.tenant_id, endpoint.id);
    res.status(204).end();
  });

  mount(router, rotateEndpointSecret, async (req, res) => {
    const endpoint = await own(req);
    const secret = newWebhookSecret();
    const rotated = await rotateSecret(db, box, endpoint, secret, new Date(Date.now() + settings.secretOverlapMs));
    logger.info({ tenantId: endpoint.tenant_id, webhookEndpointId: endpoint.id }, 'webhook signing secret rotated');
    res.status(201).json({ ...(await view(rotated)), secret });
  });

  mount(router, testEndpoint, async (req, res) => {
    const endpoint = await own(req);
    res.status(202).json(await insertTestEvent(db, endpoint));
  });

  mount(router, listDeliveries, async (req, res) => {
    const { limit = 50 } = parseOr400(WebhookDeliveriesQuery, req.query, 'query');
    const endpoint = await own(req);
    const deliveries = await deliveriesOf(db, endpoint.id, limit);
    res.json({
      deliveries: deliveries.map((d) => ({
        id: d.id,
        eventId: d.event_id,
        type: d.type,
        status: d.status,
        attempts: d.attemptList.map((a) => ({
          attempt: a.attempt,
          at: a.at.toISOString(),
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          error: a.error,
        })),
        nextAttemptAt: iso(d.next_attempt_at),
        createdAt: d.created_at.toISOString(),
        completedAt: iso(d.completed_at),
      })),
    });
  });

  mount(router, replay, async (req, res) => {
    const { deliveryId } = parseOr400(WebhookDeliveryParams, req.params, 'path');
    const endpoint = await own(req);
    if (!endpoint.enabled) throw conflict('The endpoint is disabled: enable it first (PATCH enabled: true), which also delivers what it missed.');
    const outcome = await replayDelivery(db, endpoint.id, deliveryId);
    if (outcome === 'not_found') throw notFound(`No delivery ${deliveryId} of this endpoint.`);
    if (outcome === 'in_progress') throw conflict('The delivery is still under way.');
    const [delivery] = (await deliveriesOf(db, endpoint.id, 200)).filter((d) => d.id === deliveryId);
    res.status(202).json({ eventId: delivery?.event_id ?? '', deliveryId });
  });

  return router;
}
