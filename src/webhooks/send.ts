import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { checkWebhookUrlSyntax, guardedLookup, isForbiddenAddress, WebhookUrlError } from './addressGuard';

export interface SendResult {
  /** The receiver's status code; undefined when no response came (refused, timed out, unreachable). */
  statusCode?: number;
  /** `Retry-After` of a 429 or 503, in milliseconds. */
  retryAfterMs?: number;
  latencyMs: number;
  /** Why no response came, one short sentence (never a header or the body). */
  error?: string;
}

/** `Retry-After`: seconds, or an HTTP date. */
function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/**
 * One POST of a webhook. node:http(s) rather than fetch: it takes a `lookup`, which is how every connection's
 * address is checked (addressGuard.ts), and it never follows redirects (a 3xx is an answer like any other:
 * not 2xx, so retried). The whole attempt — connect, send, response — is bounded by `timeoutMs`.
 */
export async function sendWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowHosts: ReadonlySet<string> },
): Promise<SendResult> {
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let url: URL;
  try {
    url = checkWebhookUrlSyntax(target, options.allowHosts);
  } catch (err) {
    return { latencyMs: elapsed(), error: `refused: the URL ${(err as Error).message}` };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && !options.allowHosts.has(host) && isForbiddenAddress(host)) {
    return { latencyMs: elapsed(), error: `refused: ${host} is a loopback, private, link-local or reserved address` };
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'zendesk-integration-worker-webhooks',
        },
        lookup: guardedLookup(options.allowHosts),
        signal: AbortSignal.timeout(options.timeoutMs),
        agent: false,
      },
      (response) => {
        // The body is not read for meaning; drained so the connection closes cleanly.
        response.resume();
        response.on('end', () =>
          resolve({
            statusCode: response.statusCode,
            retryAfterMs: response.statusCode === 429 || response.statusCode === 503 ? retryAfterMs(response.headers['retry-after'], Date.now()) : undefined,
            latencyMs: elapsed(),
          }),
        );
        response.on('error', () => resolve({ statusCode: response.statusCode, latencyMs: elapsed() }));
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err instanceof WebhookUrlError || err.code === 'EWEBHOOKADDRESS'
          ? `refused: ${err.message}`
          : err.name === 'AbortError' || err.name === 'TimeoutError'
            ? `no answer within ${options.timeoutMs} ms`
            : `could not connect (${err.code ?? err.name})`;
      resolve({ latencyMs: elapsed(), error: why });
    });
    request.end(body);
  });
}
