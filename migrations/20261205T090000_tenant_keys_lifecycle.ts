import { Kysely, sql } from 'kysely';

/**
 * Tenant API keys that can be rotated and revoked, and the tenant lifecycle (README, "Security").
 *
 * 1. `tenant_api_keys`: any number of keys per tenant, each stored as the SHA-256 of the key (keys are 256
 *    random bits: a plain hash is a sound at-rest form), with the last characters as a hint to tell keys
 *    apart, who made it, and when it stops working: `expires_at` (the end of the grace period a rotation
 *    gives the key it replaces) or `revoked_at` (at once). Each tenant's existing key is copied over.
 * 2. `tenants.api_key_hash` is no longer read by this release; it becomes nullable and is kept (and nulled
 *    when the tenant's keys are rotated or revoked) only so that processes of the previous release, during a
 *    rolling deploy, neither lock tenants out nor accept a key revoked meanwhile. A later migration drops it.
 * 3. `tenants.status`: `active`, `offboarding` (the offboard workflow is disconnecting its integrations; its
 *    keys are refused already) or `offboarded`, with `offboarded_at`.
 * 4. The API caches key → tenant lookups (src/api/cache); they must end the moment a key is revoked, on every
 *    API process: every change of a key row notifies `tenant:<tenant id>` on `report_changes`, as tenant
 *    changes do (migration 20261201T120000_report_change_notify). An expiry needs no notification: the
 *    cached lookup carries `expires_at` and is checked on every request.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE tenant_api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      key_hash text NOT NULL UNIQUE,
      hint text,
      created_by text NOT NULL CHECK (created_by IN ('admin', 'tenant', 'migration')),
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX tenant_api_keys_tenant ON tenant_api_keys (tenant_id, created_at)`.execute(db);
  await sql`
    INSERT INTO tenant_api_keys (tenant_id, key_hash, created_by, created_at)
    SELECT id, api_key_hash, 'migration', created_at FROM tenants WHERE api_key_hash IS NOT NULL`.execute(db);
  await sql`ALTER TABLE tenants ALTER COLUMN api_key_hash DROP NOT NULL`.execute(db);

  await sql`ALTER TABLE tenants ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'offboarding', 'offboarded'))`.execute(db);
  await sql`ALTER TABLE tenants ADD COLUMN offboarded_at timestamptz`.execute(db);
  // GET /v1/tenants: a keyset walk, newest first.
  await sql`CREATE INDEX tenants_listing ON tenants (created_at DESC, id DESC)`.execute(db);

  await sql`
    CREATE FUNCTION tenant_api_keys_report_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('report_changes', 'tenant:' || OLD.tenant_id::text);
      ELSE
        PERFORM pg_notify('report_changes', 'tenant:' || NEW.tenant_id::text);
      END IF;
      RETURN NULL;
    END
    $fn$`.execute(db);
  await sql`CREATE TRIGGER tenant_api_keys_report_changes AFTER INSERT OR UPDATE OR DELETE ON tenant_api_keys FOR EACH ROW EXECUTE FUNCTION tenant_api_keys_report_changes()`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS tenant_api_keys_report_changes ON tenant_api_keys`.execute(db);
  await sql`DROP FUNCTION IF EXISTS tenant_api_keys_report_changes()`.execute(db);
  await sql`DROP INDEX IF EXISTS tenants_listing`.execute(db);
  await sql`ALTER TABLE tenants DROP COLUMN IF EXISTS offboarded_at`.execute(db);
  await sql`ALTER TABLE tenants DROP COLUMN IF EXISTS status`.execute(db);
  await sql`DROP TABLE IF EXISTS tenant_api_keys`.execute(db);
}
