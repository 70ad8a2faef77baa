import { WorkflowNotFoundError } from '@temporalio/client';
import { flowBeingCompleted } from '../db/repositories/oauthFlows';
import type { Integration } from '../db/tables';
import { connectWorkflowId } from '../workflows/connect';
import { connectProgressQuery } from '../workflows/messages';
import type { ApiDeps } from './deps';

const QUERY_DEADLINE_MS = 3_000;

/**
 * Whether the integration's connect workflow is completing a consent right now (exchanging the code, checking
 * the user, swapping the grant in). A new attempt would terminate it midway — a code spent at Zendesk, a grant
 * nobody holds — so a reconnect must wait. A consent whose update never reached the workflow (the callback gave
 * up while Temporal was down, and nobody reloaded the page) is only waiting: a reconnect may replace it.
 * The database says whether a consent arrived at all (usually not: no Temporal call); the workflow's progress
 * query says what it is doing. No answer (no worker) counts as busy: better a 409 than a lost grant.
 */
export async function consentBeingCompleted(deps: ApiDeps, integration: Integration): Promise<boolean> {
  if (integration.status !== 'connecting' && !(await flowBeingCompleted(deps.db, integration.id))) return false;
  const handle = deps.temporal.workflow.getHandle(connectWorkflowId(integration.id));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return false;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err; // Temporal unreachable: the reconnect could not start a workflow anyway
  }
  const progress = await deps.temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(connectProgressQuery)).catch(() => undefined);
  return progress === undefined || (progress.step !== 'awaiting_consent' && progress.step !== 'done');
}
