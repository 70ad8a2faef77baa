import http2, { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';

/**
 * A TLS-terminating gRPC proxy in front of the Temporal dev server, which speaks plaintext only: what a
 * TLS-fronted cluster (Temporal Cloud, a cluster behind an ingress) looks like to our client and worker.
 * It works at the HTTP/2 level (ALPN `h2`, which gRPC requires), so it can also play Temporal Cloud's API-key
 * check: with `apiKey` set, a call without `authorization: Bearer <apiKey>` is answered UNAUTHENTICATED.
 * With `clientCa` set it asks for a client certificate and refuses a handshake without one that CA signed (mTLS).
 */
export interface TlsProxyOptions {
  /** host:port of the plaintext server behind the proxy. */
  target: string;
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
  apiKey?: string;
}

export interface TlsProxy {
  /** 127.0.0.1:<port> */
  address: string;
  port: number;
  /** Calls that reached the proxy (accepted or refused). */
  calls: number;
  /** Calls refused for a missing or wrong API key. */
  refusedApiKey: number;
  /** TLS handshakes that failed (a client that did not trust us, or had no acceptable certificate). */
  handshakeFailures: number;
  close(): Promise<void>;
}

/** HTTP/2 pseudo-headers and hop-by-hop headers that a proxy must not copy across. */
const NOT_FORWARDED = new Set([':method', ':path', ':scheme', ':authority', ':status', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !NOT_FORWARDED.has(name)));
}

export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const upstream = http2.connect(`http://${options.target}`);
  upstream.on('error', () => undefined);
  const server = http2.createSecureServer({
    cert: options.cert,
    key: options.key,
    ALPNProtocols: ['h2'],
    allowHTTP1: false,
    ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  const proxy: TlsProxy = {
    address: '',
    port: 0,
    calls: 0,
    refusedApiKey: 0,
    handshakeFailures: 0,
    close: async () => {
      upstream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('tlsClientError', () => proxy.handshakeFailures++);
  server.on('stream', (stream, headers) => {
    proxy.calls++;
    stream.on('error', () => undefined);
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      proxy.refusedApiKey++;
      // A trailers-only gRPC answer: 16 = UNAUTHENTICATED.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' }, { endStream: true });
      return;
    }
    const out = upstream.request({ ':method': headers[':method'], ':path': headers[':path'], ...forwardable(headers) });
    out.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    let trailers: OutgoingHttpHeaders = {};
    out.on('response', (response) => {
      if (stream.destroyed) return;
      // A trailers-only answer (grpc-status in the headers) ends the stream with those headers.
      if (response['grpc-status'] !== undefined) {
        stream.respond({ ':status': response[':status'], ...forwardable(response) }, { endStream: true });
        out.close();
        return;
      }
      stream.respond({ ':status': response[':status'], ...forwardable(response) }, { waitForTrailers: true });
      out.pipe(stream);
    });
    out.on('trailers', (t) => (trailers = forwardable(t)));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.pipe(out);
    // A client that cancels (a long poll ended by shutdown) cancels the upstream call too.
    stream.on('close', () => {
      if (!out.closed) out.close(constants.NGHTTP2_CANCEL);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.port = port;
  proxy.address = `127.0.0.1:${port}`;
  const close = proxy.close;
  proxy.close = async () => {
    for (const session of sessions) session.destroy();
    await close();
  };
  return proxy;
}
