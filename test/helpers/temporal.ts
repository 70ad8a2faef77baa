import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { testWorkflowBundle } from './workflowBundle';

/**
 * Workflows against the run's real Temporal dev server, with stubbed activities on a task queue of
 * their own. The worker runs only while `fn` runs (runUntil), so each test stops it deterministically.
 */

export async function withStubWorker<T>(
  activities: Record<string, (...args: any[]) => Promise<unknown>>,
  fn: (taskQueue: string, client: Client) => Promise<T>,
): Promise<T> {
  const bundle = await testWorkflowBundle();
  const taskQueue = `wf-test-${randomBytes(6).toString('hex')}`;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const clientConnection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  try {
    const worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities });
    return await worker.runUntil(fn(taskQueue, new Client({ connection: clientConnection })));
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}
