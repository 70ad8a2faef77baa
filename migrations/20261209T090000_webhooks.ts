import { Kysely, sql } from 'kysely';

/**
 * Outbound webhooks (issue 18; README, "Webhooks"). A tenant's endpoints (secrets sealed by SecretBox), the
 * events (the outbox), one delivery per event and subscribed endpoint, and every attempt.
 *
 * Events are written by triggers on the tables whose changes they announce (integrations.status,
 * sync_runs.status, utilization_snapshots, reclamations, reclamation_users.reupgraded_at), so an event is
 * recorded in the very transaction of its change, whichever code path makes it: none is lost, and none is
 * sent for a change that was rolled back. `webhook_emit` stores nothing when no endpoint of the tenant
 * subscribes to the type, so a tenant without webhooks pays one indexed lookup per change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE webhook_endpoints (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      url text NOT NULL,
      description text,
      events text[],
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text,
      disabled_at timestamptz,
      secret_enc text NOT NULL,
      previous_secret_enc text,
      previous_secret_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id)`.execute(db);
  await sql`
    CREATE TABLE webhook_events (
      id text PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      type text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )`.execute(db);
  await sql`
    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
      event_id text NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'held', 'expired')),
      attempts int NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      last_status_code int,
      last_error text,
      last_latency_ms int,
      workflow_started_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      completed_at timestamptz,
      UNIQUE (endpoint_id, event_id)
    )`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at DESC)`.execute(db);
  // The relay's work list: small, and read several times a second.
  await sql`CREATE INDEX webhook_deliveries_to_start ON webhook_deliveries (created_at) WHERE status = 'pending' AND workflow_started_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE webhook_attempts (
      delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      attempt int NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp(),
      status_code int,
      latency_ms int NOT NULL,
      error text,
      PRIMARY KEY (delivery_id, attempt)
    )`.execute(db);

  await sql`
    CREATE FUNCTION webhook_emit(p_tenant uuid, p_type text, p_data jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      event_id text;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.tenant_id = p_tenant AND (e.events IS NULL OR p_type = ANY (e.events))) THEN
        RETURN;
      END IF;
      event_id := 'msg_' || replace(gen_random_uuid()::text, '-', '');
      INSERT INTO webhook_events (id, tenant_id, type, payload)
      VALUES (event_id, p_tenant, p_type, jsonb_build_object(
        'type', p_type,
        'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'data', p_data));
      INSERT INTO webhook_deliveries (endpoint_id, event_id, tenant_id, status)
      SELECT e.id, event_id, p_tenant, CASE WHEN e.enabled THEN 'pending' ELSE 'held' END
        FROM webhook_endpoints e
       WHERE e.tenant_id = p_tenant AND (e.events IS NULL OR p_type = ANY (e.events));
      PERFORM pg_notify('webhook_outbox', '');
    END $$`.execute(db);

  await sql`
    CREATE FUNCTION webhook_integration_status() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      base jsonb := jsonb_build_object('integrationId', NEW.id, 'workspace', NEW.workspace);
    BEGIN
      PERFORM webhook_emit(NEW.tenant_id, 'integration.status_changed',
        base || jsonb_build_object('previousStatus', OLD.status, 'status', NEW.status, 'error', NEW.error));
      IF NEW.status = 'connected' THEN
        PERFORM webhook_emit(NEW.tenant_id, 'integration.connected', base || jsonb_build_object('zendeskUserId', NEW.zendesk_user_id));
      ELSIF NEW.status = 'needs_reauth' THEN
        PERFORM webhook_emit(NEW.tenant_id, 'integration.needs_reauth', base || jsonb_build_object('error', NEW.error));
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER webhook_integration_status AFTER UPDATE OF status ON integrations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_integration_status()`.execute(db);

  await sql`
    CREATE FUNCTION webhook_sync_finished() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      tenant uuid;
    BEGIN
      SELECT tenant_id INTO tenant FROM integrations WHERE id = NEW.integration_id;
      PERFORM webhook_emit(tenant, 'sync.' || NEW.status, jsonb_build_object(
        'integrationId', NEW.integration_id, 'syncRunId', NEW.id, 'startedAt', NEW.started_at, 'finishedAt', NEW.finished_at,
        'usersSynced', NEW.users_synced, 'ticketEventsSynced', NEW.ticket_events_synced, 'requests', NEW.requests,
        'skippedRecords', NEW.skipped_records, 'error', NEW.error));
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER webhook_sync_finished AFTER UPDATE OF status ON sync_runs
    FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status IN ('succeeded', 'failed')) EXECUTE FUNCTION webhook_sync_finished()`.execute(db);

  // utilization.changed: the paid seats or the reclaimable count differ from the previous sync's snapshot.
  await sql`
    CREATE FUNCTION webhook_utilization() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      tenant uuid;
      previous jsonb;
    BEGIN
      SELECT report INTO previous FROM utilization_snapshots
       WHERE integration_id = NEW.integration_id AND kind = 'sync' AND id <> NEW.id AND taken_at <= NEW.taken_at
       ORDER BY taken_at DESC, id DESC LIMIT 1;
      IF previous IS NOT NULL AND previous -> 'paidSeats' = NEW.report -> 'paidSeats'
         AND previous -> 'reclaimable' -> 'count' = NEW.report -> 'reclaimable' -> 'count' THEN
        RETURN NULL;
      END IF;
      SELECT tenant_id INTO tenant FROM integrations WHERE id = NEW.integration_id;
      PERFORM webhook_emit(tenant, 'utilization.changed', jsonb_build_object(
        'integrationId', NEW.integration_id, 'syncRunId', NEW.sync_run_id, 'asOf', NEW.report -> 'asOf',
        'paidSeats', NEW.report -> 'paidSeats', 'reclaimable', NEW.report -> 'reclaimable',
        'previous', CASE WHEN previous IS NULL THEN NULL
                         ELSE jsonb_build_object('paidSeats', previous -> 'paidSeats', 'reclaimable', previous -> 'reclaimable') END));
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER webhook_utilization AFTER INSERT ON utilization_snapshots
    FOR EACH ROW WHEN (NEW.kind = 'sync') EXECUTE FUNCTION webhook_utilization()`.execute(db);

  await sql`
    CREATE FUNCTION webhook_reclamation() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      data jsonb := jsonb_build_object('integrationId', NEW.integration_id, 'reclamationId', NEW.id, 'action', NEW.action, 'status', NEW.status);
      counts jsonb;
    BEGIN
      SELECT coalesce(jsonb_object_agg(state, n), '{}'::jsonb) INTO counts
        FROM (SELECT state, count(*) AS n FROM reclamation_users WHERE reclamation_id = NEW.id GROUP BY state) c;
      data := data || jsonb_build_object('counts', counts);
      IF TG_OP = 'INSERT' THEN
        PERFORM webhook_emit(NEW.tenant_id, 'reclamation.planned', data);
        IF NEW.status = 'awaiting_approval' THEN
          PERFORM webhook_emit(NEW.tenant_id, 'reclamation.awaiting_approval', data || jsonb_build_object('expiresAt', NEW.expires_at));
        END IF;
      ELSIF NEW.status = 'completed' THEN
        PERFORM webhook_emit(NEW.tenant_id, CASE WHEN counts ? 'failed' THEN 'reclamation.failed' ELSE 'reclamation.completed' END,
                             data || jsonb_build_object('undoUntil', NEW.undo_until));
      ELSIF NEW.status = 'undone' THEN
        PERFORM webhook_emit(NEW.tenant_id, 'reclamation.undone', data);
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  // Deferred: the plan's users are inserted after the reclamation row, in the same transaction.
  await sql`
    CREATE CONSTRAINT TRIGGER webhook_reclamation_planned AFTER INSERT ON reclamations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_reclamation()`.execute(db);
  await sql`
    CREATE TRIGGER webhook_reclamation_status AFTER UPDATE OF status ON reclamations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_reclamation()`.execute(db);

  await sql`
    CREATE FUNCTION webhook_reupgraded() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
    BEGIN
      SELECT tenant_id, integration_id INTO r FROM reclamations WHERE id = NEW.reclamation_id;
      PERFORM webhook_emit(r.tenant_id, 'user.reupgraded', jsonb_build_object(
        'integrationId', r.integration_id, 'reclamationId', NEW.reclamation_id, 'userId', NEW.user_id, 'reupgradedAt', NEW.reupgraded_at));
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER webhook_reupgraded AFTER UPDATE OF reupgraded_at ON reclamation_users
    FOR EACH ROW WHEN (OLD.reupgraded_at IS NULL AND NEW.reupgraded_at IS NOT NULL) EXECUTE FUNCTION webhook_reupgraded()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER webhook_reupgraded ON reclamation_users`.execute(db);
  await sql`DROP TRIGGER webhook_reclamation_status ON reclamations`.execute(db);
  await sql`DROP TRIGGER webhook_reclamation_planned ON reclamations`.execute(db);
  await sql`DROP TRIGGER webhook_utilization ON utilization_snapshots`.execute(db);
  await sql`DROP TRIGGER webhook_sync_finished ON sync_runs`.execute(db);
  await sql`DROP TRIGGER webhook_integration_status ON integrations`.execute(db);
  for (const fn of ['webhook_reupgraded', 'webhook_reclamation', 'webhook_utilization', 'webhook_sync_finished', 'webhook_integration_status']) {
    await sql`DROP FUNCTION ${sql.raw(fn)}()`.execute(db);
  }
  await sql`DROP FUNCTION webhook_emit(uuid, text, jsonb)`.execute(db);
  await sql`DROP TABLE webhook_attempts`.execute(db);
  await sql`DROP TABLE webhook_deliveries`.execute(db);
  await sql`DROP TABLE webhook_events`.execute(db);
  await sql`DROP TABLE webhook_endpoints`.execute(db);
}
