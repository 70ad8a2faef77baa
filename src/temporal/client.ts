import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { checkTemporalTls, explainConnectFailure, temporalConnectionOptions } from './connectionOptions';

/** A Temporal client for the API and for activities that manage schedules (TLS / API key per the config). */
export async function createTemporalClient(config: Pick<Config, 'temporal'>): Promise<Client> {
  let connection: Connection;
  try {
    await checkTemporalTls(config.temporal);
    connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  } catch (err) {
    throw explainConnectFailure(config.temporal, err);
  }
  return new Client({ connection, namespace: config.temporal.namespace });
}
