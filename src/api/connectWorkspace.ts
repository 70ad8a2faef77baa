import { deleteIntegration, findLiveIntegration, insertIntegration, setIntegrationStatus } from '../db/repositories/integrations';
import type { Integration } from '../db/tables';
import { beginConsent, type ConsentAttempt, type IntegrationAccess } from './consent';
import { consentBeingCompleted } from './consentInProgress';
import type { ApiDeps } from './deps';
import { conflict, HttpProblem, unauthorized } from './problems';

/**
 * The one way a consent is started, whoever asks: the API's `POST /v1/integrations/zendesk` and
 * `POST /v1/integrations/:id/reconnect`, and the hosted Connect page's Submit (src/api/routes/connectPage.ts).
 * Each throws the HttpProblem its route answers (409 conflict, 401 for a tenant offboarded meanwhile).
 */

/** The conflict of a workspace the tenant has already; `existingId` names its integration. */
const alreadyThere = (workspace: string, id: string) =>
  conflict(`Workspace ${workspace} already has integration ${id} for this tenant; use it (or reconnect it) instead.`, { existingId: id });

/** A new integration of `workspace` (a parsed subdomain) awaiting consent, and its consent attempt. */
export async function connectNewWorkspace(
  deps: ApiDeps,
  tenantId: string,
  workspace: string,
  access: IntegrationAccess | undefined,
): Promise<{ integration: Integration; consent: ConsentAttempt }> {
  const { db } = deps;
  const existing = await findLiveIntegration(db, tenantId, workspace);
  if (existing) throw alreadyThere(workspace, existing.id);
  let integration;
  try {
    integration = await insertIntegration(db, tenantId, workspace);
    // Offboarded since this request was authenticated: its keys are no longer valid.
    if (!integration) throw unauthorized('The API key is not valid.');
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    // Two concurrent creates: the unique index lets one win.
    const winner = await findLiveIntegration(db, tenantId, workspace);
    if (winner) throw alreadyThere(workspace, winner.id);
    throw err;
  }
  let consent: ConsentAttempt;
  try {
    consent = await beginConsent(deps, integration, { access });
  } catch (err) {
    await deleteIntegration(db, integration.id);
    throw err;
  }
  deps.logger.info({ tenantId, integrationId: integration.id, workspace: integration.workspace }, 'integration created; awaiting consent');
  return { integration, consent };
}

/**
 * A new consent attempt for an integration of the tenant. A connected integration stays connected, and keeps
 * syncing with its grant, until an admin's new grant replaces it; any other one waits for the consent as on
 * its first connect. 409 while a consent is being completed (a new attempt would terminate it midway).
 */
export async function reconnectIntegration(deps: ApiDeps, integration: Integration, access: IntegrationAccess | undefined): Promise<ConsentAttempt> {
  if (await consentBeingCompleted(deps, integration)) {
    throw conflict('A consent for this integration is being completed right now; try again in a moment.');
  }
  const keepsWorking = integration.status === 'connected';
  if (!keepsWorking) await setIntegrationStatus(deps.db, integration.id, { status: 'awaiting_consent', error: null, onlyFrom: [integration.status] });
  const consent = await beginConsent(deps, integration, { purpose: keepsWorking ? 'reconnect' : 'connect', access });
  deps.logger.info({ tenantId: integration.tenant_id, integrationId: integration.id, keepsWorking }, 'reconnect requested');
  return consent;
}
