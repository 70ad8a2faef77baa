import type { Config } from '../config';
import { TemporalTlsError, probeTemporalTls } from './tlsProbe';

/**
 * The options both kinds of Temporal connection get (the API's and activities' Connection from
 * @temporalio/client, the worker's NativeConnection): address, TLS and API key, all from src/config.ts.
 * A module without either SDK package, so the API never loads the worker's native code.
 */
export function temporalConnectionOptions(temporal: Config['temporal']) {
  const { tls, apiKey } = temporal.connection ?? {};
  return { address: temporal.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}

/** With TLS configured, a clear verdict on the handshake before the SDK tries (tlsProbe.ts says why). */
export async function checkTemporalTls(temporal: Config['temporal']): Promise<void> {
  const { tls } = temporal.connection ?? {};
  if (tls) await probeTemporalTls(temporal.address, tls);
}

const GRPC_UNAUTHENTICATED = 16;
const GRPC_PERMISSION_DENIED = 7;

/** An SDK connection failure with what an operator needs: where, how, and the likely setting to fix. */
export function explainConnectFailure(temporal: Config['temporal'], err: unknown): Error {
  if (err instanceof TemporalTlsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = e?.code ?? e?.cause?.code;
  const how = temporal.connection?.tls ? 'over TLS' : 'in plaintext';
  let hint = '';
  if (code === GRPC_UNAUTHENTICATED || /UNAUTHENTICATED|valid authentication credentials/i.test(message)) {
    hint = temporal.connection?.apiKey
      ? ' The API key (TEMPORAL_API_KEY) was refused.'
      : ' The cluster requires an API key (TEMPORAL_API_KEY) or a client certificate.';
  } else if (code === GRPC_PERMISSION_DENIED || /PERMISSION_DENIED/i.test(message)) {
    hint = ` The credentials are not allowed to use namespace ${temporal.namespace}.`;
  }
  return new Error(`Could not connect to Temporal at ${temporal.address} (${how}): ${message}.${hint}`, { cause: err });
}
