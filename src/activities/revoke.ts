import { deleteCredentials } from '../db/repositories/credentials';
import { findIntegration } from '../db/repositories/integrations';
import { zendeskObserver } from '../observability/metrics';
import { ZendeskClient } from '../zendesk/client';
import type { ActivityDeps } from './deps';

/**
 * Revokes the integration's grant at Zendesk (best effort: it may already be dead or Zendesk may be
 * down) and deletes the stored tokens whatever happened, so nothing usable is left behind.
 */
export async function revokeAndForget(deps: ActivityDeps, integrationId: string): Promise<void> {
  const integration = await findIntegration(deps.db, integrationId);
  if (integration) {
    try {
      const client = new ZendeskClient({ db: deps.db, box: deps.box, config: deps.config, integrationId, subdomain: integration.workspace, maxAttempts: 2, observer: zendeskObserver(deps.metrics) });
      await client.revokeAccess();
    } catch (err) {
      deps.logger.warn({ integrationId, error: (err as Error).name }, 'revoking the Zendesk token failed; deleting it anyway');
    }
  }
  await deleteCredentials(deps.db, integrationId);
}
