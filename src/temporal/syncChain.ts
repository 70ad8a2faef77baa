import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/**
 * Whether the sync that began as run `firstRunId` of `workflowId` is still at work, whatever number of
 * continue-as-new runs it has gone through since. A sync is recorded under its chain's first run id, and
 * that run reports CONTINUED_AS_NEW while the chain works on, so the workflow id's *latest* run is
 * described (schedule-started ids are unique per action) and checked to belong to the same chain.
 * A Temporal Schedule does not see a continued sync as running either: its overlap policy alone cannot
 * keep a second sync out, which is why beginSync and POST /sync ask this.
 */
export async function syncChainRunning(client: Client, workflowId: string, firstRunId: string): Promise<boolean> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    const chain = d.raw.workflowExecutionInfo?.firstRunId;
    return d.status.name === 'RUNNING' && (!chain || chain === firstRunId);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
