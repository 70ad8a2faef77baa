import net from 'node:net';
import tls from 'node:tls';
import type { TLSConfig } from '@temporalio/client';

/**
 * One TLS handshake with the Temporal frontend, the way gRPC will make it (same CA, server name, client
 * certificate, ALPN `h2`), before the SDK connects. Why: the client's gRPC library (grpc-js) reports a
 * certificate it does not trust only as "Failed to connect before the deadline", after its 10 s connect
 * timeout, and a rejected client certificate the same way. This says what is wrong, at once.
 *
 * Network failures (refused, unresolvable, timed out) are not judged here: the SDK reports those itself.
 */
export class TemporalTlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalTlsError';
  }
}

/** Codes of a failed certificate check on our side (Node's, then OpenSSL's verify errors). */
const SERVER_NOT_TRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** The HTTP/2 client preface and an empty SETTINGS frame: a server that accepted us answers with its SETTINGS. */
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

function splitAddress(address: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!match?.[1]) return { host: address, port: 7233 };
  return { host: match[1], port: Number(match[2]) };
}

function explain(address: string, err: NodeJS.ErrnoException, afterHandshake: boolean): string {
  const code = err.code ?? '';
  const reason = err.message;
  if (SERVER_NOT_TRUSTED.has(code)) {
    return `Temporal at ${address}: its TLS certificate is not trusted (${reason}). TEMPORAL_TLS_SERVER_CA_CERT_PATH must name the CA that signed the server's certificate (or leave it unset for a publicly trusted one, e.g. Temporal Cloud).`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `Temporal at ${address}: its TLS certificate is for another name (${reason}). Set TEMPORAL_TLS_SERVER_NAME to the name on the certificate, or connect by that name.`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(reason)) {
    return `Temporal at ${address} does not speak TLS on this port (${reason}). Use its TLS address, or turn TLS off (no TEMPORAL_TLS* settings, no TEMPORAL_API_KEY) for a plaintext cluster on a trusted network.`;
  }
  // An alert from the server: it did not accept our client certificate (or wanted one).
  if (afterHandshake || /alert|certificate required|bad certificate|unknown ca|handshake failure/i.test(reason)) {
    return `Temporal at ${address} refused the TLS connection (${reason || 'closed right after the handshake'}): it requires a client certificate it trusts (mTLS). Check TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH.`;
  }
  return `Temporal at ${address}: the TLS connection failed (${reason}).`;
}

/** Resolves when the handshake succeeded or the network (not TLS) failed; rejects with a TemporalTlsError otherwise. */
export function probeTemporalTls(address: string, config: TLSConfig | true, timeoutMs = 5_000): Promise<void> {
  const options = config === true ? {} : config;
  const { host, port } = splitAddress(address);
  const servername = options.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  return new Promise((resolve, reject) => {
    let handshaken = false;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const socket = tls.connect({
      host,
      port,
      ...(servername ? { servername } : {}),
      ALPNProtocols: ['h2'],
      ...(options.serverRootCACertificate ? { ca: Buffer.from(options.serverRootCACertificate) } : {}),
      ...(options.clientCertPair ? { cert: Buffer.from(options.clientCertPair.crt), key: Buffer.from(options.clientCertPair.key) } : {}),
    });
    // No verdict in time: leave it to the SDK and its own timeout.
    const timer = setTimeout(() => finish(), timeoutMs);
    socket.once('secureConnect', () => {
      handshaken = true;
      if (socket.alpnProtocol !== 'h2') {
        finish(
          new TemporalTlsError(
            `Temporal at ${address}: the TLS server did not agree to HTTP/2 (ALPN h2), which gRPC needs. Is this address a Temporal frontend (or a proxy that passes gRPC through)?`,
          ),
        );
        return;
      }
      // With TLS 1.3 the server judges our certificate after the handshake: wait for its first frame.
      socket.write(H2_PREFACE);
    });
    socket.once('data', () => finish());
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!handshaken && NETWORK.has(err.code ?? '')) return finish();
      finish(new TemporalTlsError(explain(address, err, handshaken)));
    });
    socket.once('close', () => {
      if (handshaken) finish(new TemporalTlsError(explain(address, Object.assign(new Error(''), { code: 'ECONNRESET' }), true)));
      else finish();
    });
  });
}
