import { announceGrantExpiring } from '../db/repositories/grantExpiry';
import type { Logger } from '../logger';
import { zendeskObserver } from '../observability/zendeskMetrics';
import { ZendeskClient } from '../zendesk/client';
import { isZendeskError } from '../zendesk/errors';
import type { ActivityDeps } from './deps';

/**
 * Keeps a healthy Zendesk grant alive (issue 12 §3). A refresh token lives about 30 days
 * (ZENDESK_REFRESH_TOKEN_EXPIRES_IN) and each refresh brings a new one; an integration whose syncs make no
 * refresh, or fail before they do, would lose its grant silently. So every sync run starts with this cheap
 * step: when the refresh token expires within REFRESH_AHEAD_DAYS, refresh now, whatever the access token's
 * state. When the grant still expires within WARN_DAYS afterwards (the refresh failed, or Zendesk did not
 * extend it), log a warning naming the date, and announce it once to the tenant's webhooks
 * (`integration.grant_expiring`), so the platform can have it reconnected before it lapses.
 *
 * Never fails the sync: the sync's own requests find out about a dead grant (→ needs_reauth) as before.
 */

const REFRESH_AHEAD_DAYS = 7;
const WARN_DAYS = 3;
/** The step runs inside the sync's first bookkeeping activity (30 s timeout): it gives up waiting after this. */
const KEEP_ALIVE_BUDGET_MS = 10_000;

const DAY_MS = 86_400_000;

export interface KeepAliveResult {
  refreshed: boolean;
  refreshExpiresAt: Date | null;
  warned: boolean;
}

/** Refreshes ahead when the grant's refresh token is due, and warns when it is about to lapse. Never throws. */
export async function keepGrantAlive(deps: ActivityDeps, integrationId: string, workspace: string): Promise<KeepAliveResult | undefined> {
  const log = deps.logger;
  const work = (async () => {
    const client = new ZendeskClient({
      db: deps.db,
      box: deps.box,
      config: deps.config,
      integrationId,
      subdomain: workspace,
      rateLimits: deps.rateLimits,
      observer: zendeskObserver(deps.metrics),
    });
    let refreshed = false;
    let refreshExpiresAt: Date | null;
    try {
      ({ refreshed, refreshExpiresAt } = await client.tokens.refreshGrantExpiringWithin(REFRESH_AHEAD_DAYS * DAY_MS));
      if (refreshed) log.info({ integrationId, refreshExpiresAt: refreshExpiresAt?.toISOString() ?? null }, 'Zendesk grant renewed ahead of its expiry');
    } catch (err) {
      log.warn({ integrationId, error: describe(err) }, 'could not renew the Zendesk grant ahead of its expiry; the sync carries on');
      refreshExpiresAt = await storedRefreshExpiry(deps, integrationId).catch(() => null);
    }
    const warned = warnIfLapsing(log, integrationId, refreshExpiresAt);
    if (warned && refreshExpiresAt) await announceGrantExpiring(deps.db, integrationId, refreshExpiresAt, daysLeft(refreshExpiresAt));
    return { refreshed, refreshExpiresAt, warned };
  })();
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), KEEP_ALIVE_BUDGET_MS).unref());
  const failed = work.catch((err) => {
    log.warn({ integrationId, error: describe(err) }, "could not check the Zendesk grant's expiry; the sync carries on");
    return null;
  });
  const result = await Promise.race([failed, timeout]);
  if (result === undefined) log.warn({ integrationId }, 'renewing the Zendesk grant ahead of its expiry took too long; the sync carries on');
  return result ?? undefined;
}

function warnIfLapsing(log: Logger, integrationId: string, refreshExpiresAt: Date | null): boolean {
  if (!refreshExpiresAt) return false;
  if (refreshExpiresAt.getTime() - Date.now() > WARN_DAYS * DAY_MS) return false;
  log.warn(
    { integrationId, refreshExpiresAt: refreshExpiresAt.toISOString(), daysLeft: daysLeft(refreshExpiresAt) },
    `Zendesk grant expires at ${refreshExpiresAt.toISOString()} and could not be renewed; unless a refresh succeeds before then, the integration will need re-authorization by a Zendesk admin`,
  );
  return true;
}

const daysLeft = (at: Date) => Math.max(0, Math.floor((at.getTime() - Date.now()) / DAY_MS));

async function storedRefreshExpiry(deps: ActivityDeps, integrationId: string): Promise<Date | null> {
  const row = await deps.db.selectFrom('oauth_credentials').select('refresh_expires_at').where('integration_id', '=', integrationId).executeTakeFirst();
  return row?.refresh_expires_at ?? null;
}

/** Our own error texts only: they never carry a token or a Zendesk body. */
function describe(err: unknown): string {
  return isZendeskError(err) ? err.message : err instanceof Error ? err.name : 'unknown error';
}
