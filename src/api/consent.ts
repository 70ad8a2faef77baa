import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { signState } from '../crypto/oauthState';
import { createPkcePair } from '../crypto/pkce';
import { expireOpenFlows, insertOAuthFlow, recordFlowOutcome, sealVerifier } from '../db/repositories/oauthFlows';
import type { FlowPurpose, Integration } from '../db/tables';

/** What a grant lets the worker do: read (reports) or reclaim (reports and seat changes). */
export type IntegrationAccess = 'read' | 'reclaim';
import { searchAttributesFor } from '../temporal/searchAttributes';
import { connectWorkflowId, zendeskConnect } from '../workflows/connect';
import { buildAuthorizeUrl, DEFAULT_SCOPE } from '../zendesk/oauth';
import { workspaceBaseUrl } from '../zendesk/workspace';
import type { ApiDeps } from './deps';

/** A consent attempt begun: the Zendesk consent URL to send the admin to, and the attempt (OAuth flow) it waits for. */
export interface ConsentAttempt {
  authorizeUrl: string;
  flowId: string;
}

/**
 * Opens a consent attempt: a single-use signed state, a PKCE pair whose verifier stays encrypted in the
 * database, and a connect workflow waiting for the callback. Returns the Zendesk consent URL and the flow's id.
 * `purpose: 'reconnect'` marks an attempt on a connected integration, which stays connected meanwhile
 * (the integration view shows the attempt as `reconnect`).
 */
export async function beginConsent(
  deps: ApiDeps,
  integration: Integration,
  options: { purpose?: FlowPurpose; access?: IntegrationAccess } = {},
): Promise<ConsentAttempt> {
  const { db, box, config } = deps;
  const flowId = randomUUID();
  // `reclaim` asks for write access too (ZENDESK_RECLAIM_SCOPES); everything else reads only.
  const scope = options.access === 'reclaim' ? config.reclaim.scopes : DEFAULT_SCOPE;
  const pkce = createPkcePair();
  const expiresAt = new Date(Date.now() + config.consentTimeoutMs);
  await db.transaction().execute(async (trx) => {
    await expireOpenFlows(trx, integration.id);
    await insertOAuthFlow(trx, {
      id: flowId,
      integrationId: integration.id,
      pkceVerifierEnc: sealVerifier(box, flowId, pkce.verifier),
      expiresAt,
      purpose: options.purpose,
      scope,
    });
  });
  await startConnectWorkflow(deps, integration, flowId).catch(async (err) => {
    // No workflow waits for this attempt: say so on it (a reconnect shows it) rather than leave it "pending".
    await recordFlowOutcome(db, flowId, 'failed', 'The consent attempt could not be started. Try Reconnect again in a moment.').catch(() => undefined);
    throw err;
  });
  const authorizeUrl = buildAuthorizeUrl({
    baseUrl: workspaceBaseUrl(config.zendesk.baseUrlTemplate, integration.workspace),
    clientId: config.zendesk.clientId ?? '',
    redirectUri: config.redirectUri,
    state: signState(box, { flowId, integrationId: integration.id, expiresAt }),
    codeChallenge: pkce.challenge,
    scope,
  });
  return { authorizeUrl, flowId };
}

async function startConnectWorkflow(deps: ApiDeps, integration: Integration, flowId: string): Promise<void> {
  const { config, temporal } = deps;
  await temporal.workflow.start(zendeskConnect, {
    taskQueue: config.temporal.taskQueue,
    workflowId: connectWorkflowId(integration.id),
    args: [
      { integrationId: integration.id, tenantId: integration.tenant_id, workspace: integration.workspace, flowId, consentTimeoutMs: config.consentTimeoutMs },
    ],
    // A reconnect replaces an attempt still waiting for consent.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    typedSearchAttributes: searchAttributesFor({ tenantId: integration.tenant_id, integrationId: integration.id, workspace: integration.workspace }),
    staticSummary: `Connect Zendesk workspace ${integration.workspace}`,
    staticDetails: `Waits up to ${Math.round(config.consentTimeoutMs / 60_000)} min for an admin's consent, then exchanges the code and checks the user is an admin.`,
  });
}
