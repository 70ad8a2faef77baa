import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { SecretBox } from '../../crypto/secretBox';
import { inTransaction, type Db } from '../database';
import { bindingOf } from '../secretColumns';
import type { WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../tables';

/** Webhook endpoints, the outbox of events, deliveries and attempts (migration 20261209T090000; src/webhooks). */

export type WebhookEndpoint = Selectable<WebhookEndpointsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type WebhookAttempt = Selectable<WebhookAttemptsTable>;

const secret = (id: string) => bindingOf('webhook_endpoints', id, 'secret_enc');
const previousSecret = (id: string) => bindingOf('webhook_endpoints', id, 'previous_secret_enc');

export async function insertEndpoint(
  db: Db,
  box: SecretBox,
  values: { tenantId: string; url: string; description: string | null; events: string[] | null; secret: string },
): Promise<WebhookEndpoint> {
  const id = randomUUID();
  return db
    .insertInto('webhook_endpoints')
    .values({
      id,
      tenant_id: values.tenantId,
      url: values.url,
      description: values.description,
      events: values.events,
      secret_enc: box.encrypt(values.secret, secret(id)),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listEndpoints(db: Db, tenantId: string): Promise<WebhookEndpoint[]> {
  return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
}

/** The tenant's endpoint, or undefined (another tenant's id is not found, like an unknown one). */
export async function findEndpoint(db: Db, tenantId: string, id: string): Promise<WebhookEndpoint | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** The secrets that sign now: the current one, and the replaced one during its overlap. */
export function signingSecrets(box: SecretBox, endpoint: WebhookEndpoint, now: Date): string[] {
  const secrets = [box.decrypt(endpoint.secret_enc, secret(endpoint.id))];
  if (endpoint.previous_secret_enc && endpoint.previous_secret_until && endpoint.previous_secret_until > now) {
    secrets.push(box.decrypt(endpoint.previous_secret_enc, previousSecret(endpoint.id)));
  }
  return secrets;
}

/**
 * Changes an endpoint. Enabling a disabled one releases what it missed: deliveries held while it was
 * disabled start again (those younger than `heldRetentionMs`; older ones expire). In one transaction.
 */
export async function updateEndpoint(
  db: Db,
  endpoint: WebhookEndpoint,
  change: { url?: string; description?: string | null; events?: string[] | null; enabled?: boolean },
  heldRetentionMs: number,
): Promise<WebhookEndpoint> {
  return inTransaction(db, async (trx) => {
    const enabling = change.enabled === true && !endpoint.enabled;
    const disabling = change.enabled === false && endpoint.enabled;
    const row = await trx
      .updateTable('webhook_endpoints')
      .set({
        ...(change.url !== undefined ? { url: change.url } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.events !== undefined ? { events: change.events } : {}),
        ...(enabling ? { enabled: true, disabled_reason: null, disabled_at: null } : {}),
        ...(disabling ? { enabled: false, disabled_reason: 'disabled by request', disabled_at: new Date() } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', endpoint.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (enabling) await releaseHeld(trx, endpoint.id, heldRetentionMs);
    return row;
  });
}

async function releaseHeld(trx: Db, endpointId: string, heldRetentionMs: number): Promise<void> {
  const cutoff = new Date(Date.now() - heldRetentionMs);
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'expired', completed_at: new Date() })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'held')
    .where('created_at', '<', cutoff)
    .execute();
  const released = await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', workflow_started_at: null, next_attempt_at: null })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'held')
    .returning('id')
    .execute();
  if (released.length) await sql`SELECT pg_notify('webhook_outbox', '')`.execute(trx);
}

export async function deleteEndpoint(db: Db, tenantId: string, id: string): Promise<boolean> {
  const deleted = await db.deleteFrom('webhook_endpoints').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

/** A new current secret; the old one signs beside it until `overlapUntil`. */
export async function rotateSecret(db: Db, box: SecretBox, endpoint: WebhookEndpoint, newSecret: string, overlapUntil: Date): Promise<WebhookEndpoint> {
  const current = box.decrypt(endpoint.secret_enc, secret(endpoint.id));
  return db
    .updateTable('webhook_endpoints')
    .set({
      secret_enc: box.encrypt(newSecret, secret(endpoint.id)),
      previous_secret_enc: box.encrypt(current, previousSecret(endpoint.id)),
      previous_secret_until: overlapUntil,
      updated_at: new Date(),
    })
    .where('id', '=', endpoint.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Disables an endpoint (410 Gone, retries exhausted); its later events are held. Returns whether it was enabled. */
export async function disableEndpoint(db: Db, endpointId: string, reason: string): Promise<boolean> {
  const row = await db
    .updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: reason, disabled_at: new Date(), updated_at: new Date() })
    .where('id', '=', endpointId)
    .where('enabled', '=', true)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** A `webhook.test` event for one endpoint (not the tenant's others), with its delivery. Returns the delivery. */
export async function insertTestEvent(db: Db, endpoint: WebhookEndpoint): Promise<{ eventId: string; deliveryId: string }> {
  return inTransaction(db, async (trx) => {
    const eventId = `msg_${randomUUID().replaceAll('-', '')}`;
    const payload = { type: 'webhook.test', timestamp: new Date().toISOString(), data: { endpointId: endpoint.id } };
    await trx
      .insertInto('webhook_events')
      .values({ id: eventId, tenant_id: endpoint.tenant_id, type: 'webhook.test', payload: JSON.stringify(payload) })
      .execute();
    const delivery = await trx
      .insertInto('webhook_deliveries')
      .values({ endpoint_id: endpoint.id, event_id: eventId, tenant_id: endpoint.tenant_id, status: endpoint.enabled ? 'pending' : 'held' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`SELECT pg_notify('webhook_outbox', '')`.execute(trx);
    return { eventId, deliveryId: delivery.id };
  });
}

export interface DeliveryView extends WebhookDelivery {
  type: string;
  attemptList: WebhookAttempt[];
}

/** An endpoint's deliveries, newest first, with their attempts. */
export async function deliveriesOf(db: Db, endpointId: string, limit: number): Promise<DeliveryView[]> {
  const rows = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type')
    .where('d.endpoint_id', '=', endpointId)
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();
  if (rows.length === 0) return [];
  const attempts = await db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where(
      'delivery_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('attempt')
    .execute();
  return rows.map((r) => ({ ...r, attemptList: attempts.filter((a) => a.delivery_id === r.id) }));
}

/** Sends a finished (or held) delivery again, with the same `webhook-id`. Returns false if it is still under way. */
export async function replayDelivery(db: Db, endpointId: string, deliveryId: string): Promise<'replayed' | 'in_progress' | 'not_found'> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('webhook_deliveries')
      .select('status')
      .where('endpoint_id', '=', endpointId)
      .where('id', '=', deliveryId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return 'not_found';
    if (row.status === 'pending') return 'in_progress';
    await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', workflow_started_at: null, next_attempt_at: null, completed_at: null })
      .where('id', '=', deliveryId)
      .execute();
    await sql`SELECT pg_notify('webhook_outbox', '')`.execute(trx);
    return 'replayed';
  });
}

// ---- the relay and the delivery activity -------------------------------------------------------------

/**
 * Picks up to `limit` deliveries still to start, oldest first, and leases them to the caller for `leaseMs`:
 * another relay skips them meanwhile (SKIP LOCKED for the pick, the lease after it), and takes them up when
 * the lease ran out without the workflow started (the relay died).
 */
export async function claimDeliveriesToStart(db: Db, limit: number, leaseMs: number) {
  const { rows } = await sql<{
    id: string;
    tenant_id: string;
    endpoint_id: string;
    attempts: number;
    next_attempt_at: Date | null;
    type: string;
    url: string;
    integration_id: string | null;
  }>`
    WITH picked AS (
      SELECT id FROM webhook_deliveries
       WHERE status = 'pending' AND workflow_started_at IS NULL AND (relay_claimed_until IS NULL OR relay_claimed_until < now())
       ORDER BY created_at, id
       LIMIT ${limit}
         FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE webhook_deliveries d SET relay_claimed_until = now() + ${leaseMs} * interval '1 millisecond'
        FROM picked WHERE d.id = picked.id
      RETURNING d.id, d.tenant_id, d.endpoint_id, d.attempts, d.next_attempt_at, d.event_id, d.created_at
    )
    SELECT c.id, c.tenant_id, c.endpoint_id, c.attempts, c.next_attempt_at, e.type, p.url, e.payload->'data'->>'integrationId' AS integration_id
      FROM claimed c JOIN webhook_events e ON e.id = c.event_id JOIN webhook_endpoints p ON p.id = c.endpoint_id
     ORDER BY c.created_at, c.id`.execute(db);
  return rows;
}

export async function markWorkflowStarted(db: Db, deliveryIds: string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ workflow_started_at: new Date() })
    .where('id', 'in', deliveryIds)
    .where('workflow_started_at', 'is', null)
    .execute();
}

/** What one attempt needs: the delivery, its event's body and its endpoint. */
export async function deliveryForAttempt(db: Db, deliveryId: string) {
  const delivery = await db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select(['d.id', 'd.status', 'd.attempts', 'd.event_id', 'd.endpoint_id', 'd.created_at', 'e.type', sql<string>`e.payload::text`.as('body')])
    .where('d.id', '=', deliveryId)
    .executeTakeFirst();
  if (!delivery) return undefined;
  const endpoint = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', delivery.endpoint_id).executeTakeFirstOrThrow();
  return { delivery, endpoint };
}

/** Records one attempt and its outcome on the delivery, once per attempt number (a retried activity records nothing twice). */
export async function recordAttempt(
  db: Db,
  attempt: { deliveryId: string; attempt: number; statusCode: number | null; latencyMs: number; error: string | null },
  outcome: { status: 'pending' | 'succeeded' | 'failed' | 'held'; nextAttemptAt: Date | null },
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const inserted = await trx
      .insertInto('webhook_attempts')
      .values({
        delivery_id: attempt.deliveryId,
        attempt: attempt.attempt,
        status_code: attempt.statusCode,
        latency_ms: attempt.latencyMs,
        error: attempt.error,
      })
      .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
      .returning('attempt')
      .executeTakeFirst();
    if (!inserted) return false;
    await trx
      .updateTable('webhook_deliveries')
      .set({
        attempts: sql`attempts + 1`,
        status: outcome.status,
        next_attempt_at: outcome.nextAttemptAt,
        last_status_code: attempt.statusCode,
        last_error: attempt.error,
        last_latency_ms: attempt.latencyMs,
        ...(outcome.status === 'succeeded' || outcome.status === 'failed' ? { completed_at: new Date() } : {}),
      })
      .where('id', '=', attempt.deliveryId)
      .execute();
    return true;
  });
}

export async function setDeliveryStatus(db: Db, deliveryId: string, status: 'held' | 'failed', from: Array<WebhookDelivery['status']>): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status, next_attempt_at: null, ...(status === 'failed' ? { completed_at: new Date() } : { workflow_started_at: null }) })
    .where('id', '=', deliveryId)
    .where('status', 'in', from)
    .execute();
}

/** Deliveries under way or held, per endpoint (each endpoint's depth). */
export async function pendingDeliveryCounts(db: Db, endpointIds: string[]): Promise<Map<string, number>> {
  if (endpointIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['endpoint_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('endpoint_id', 'in', endpointIds)
    .where('status', 'in', ['pending', 'held'])
    .groupBy('endpoint_id')
    .execute();
  return new Map(rows.map((r) => [r.endpoint_id, Number(r.n)]));
}
