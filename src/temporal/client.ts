import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

/** A Temporal client for the API and for activities that manage schedules. */
export async function createTemporalClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}
