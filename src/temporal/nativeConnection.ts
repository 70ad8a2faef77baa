import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config';
import { checkTemporalTls, explainConnectFailure, temporalConnectionOptions } from './connectionOptions';

/** The worker's connection (the SDK's Rust core), with the same address, TLS and API key as the client's. */
export async function connectNativeTemporal(config: Pick<Config, 'temporal'>): Promise<NativeConnection> {
  try {
    await checkTemporalTls(config.temporal);
    return await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  } catch (err) {
    throw explainConnectFailure(config.temporal, err);
  }
}
