import { WorkflowNotFoundError } from '@temporalio/client';
import { flowBeingCompleted } from '../db/repositories/oauthFlows';
import { connectWorkflowId } from '../workflows/connect';
import type { ApiDeps } from './deps';

/**
 * Whether a consent of the integration arrived and its connect workflow is still completing it (exchanging the
 * code, checking the user, swapping the grant in). A new attempt would terminate that workflow midway, so a
 * reconnect must wait. A connected integration shows no `connecting` status meanwhile, hence this check.
 * The database says whether such an attempt exists (usually not: no Temporal call); Temporal whether its
 * workflow still runs (a workflow that was terminated or lost leaves an attempt without an outcome).
 */
export async function consentBeingCompleted(deps: ApiDeps, integrationId: string): Promise<boolean> {
  if (!(await flowBeingCompleted(deps.db, integrationId))) return false;
  try {
    const description = await deps.temporal.workflow.getHandle(connectWorkflowId(integrationId)).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
