import type { z } from 'zod';
import {
  ZendeskAuthError,
  ZendeskBadResponseError,
  ZendeskNotFoundError,
  ZendeskRateLimitedError,
  ZendeskRequestError,
  ZendeskTransientError,
  type ZendeskBucket,
  type ZendeskError,
} from './errors';

/**
 * The single low-level request function every Zendesk call goes through: a timeout on every request,
 * `Accept: application/json`, JSON bodies, no redirects followed, an origin check against the workspace
 * base URL, status → error-class mapping, and one observer callback per request for metrics.
 */

/** `oauth` is the authorization server (`/oauth/*`), which is not paced by the API rate limiter. */
export type RequestBucket = ZendeskBucket | 'oauth';

export interface RequestInfo {
  bucket: RequestBucket;
  method: string;
  /** The path with numeric ids replaced by `:id` (never a query string, never a token). */
  endpoint: string;
  /** HTTP status, or 0 when no response arrived. */
  status: number;
  durationMs: number;
  /** Set when no response arrived. */
  failure?: 'timeout' | 'network' | 'cancelled';
}

export interface ZendeskObserver {
  onRequest?(info: RequestInfo): void;
}

/** An array repeats the parameter (`role[]=agent&role[]=admin`). */
export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;

export interface ZendeskHttpRequest {
  /** From workspaceBaseUrl(): the only place requests may go. */
  baseUrl: string;
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative path starting with `/`, e.g. `/api/v2/users/me.json`. Never an absolute URL. */
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  accessToken?: string;
  timeoutMs: number;
  /** Defaults to the bucket the path belongs to. */
  bucket?: RequestBucket;
  observer?: ZendeskObserver;
  /** Used in "workspace not found" messages. */
  subdomain?: string;
  /** Called with every response's status and headers before errors are mapped (rate-limit bookkeeping). */
  onResponse?(status: number, headers: Headers): void | Promise<void>;
  /**
   * Aborts the request at once (an activity's cancellation: a worker's grace time ended, or the sync was
   * cancelled), rather than after its timeout; the request then rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface ZendeskHttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body (204). */
  body: unknown;
}

export const DEFAULT_RETRY_AFTER_MS = 10_000;
const MAX_ERROR_BODY_CHARS = 64 * 1024;
const SAFE_PATH = /^\/[A-Za-z0-9._~\-/]*$/;

/** Which endpoint bucket a path belongs to (every API request also belongs to `account`). */
export function endpointBucket(path: string): RequestBucket {
  const p = path.replace(/\.json$/, '');
  if (p.startsWith('/oauth/')) return 'oauth';
  if (p === '/api/v2/incremental/users/cursor') return 'users-cursor';
  if (p.startsWith('/api/v2/incremental/')) return 'incremental';
  return 'account';
}

/** The rate-limit buckets a request to `path` draws from: `account` plus its endpoint bucket. */
export function bucketsForPath(path: string): ZendeskBucket[] {
  const bucket = endpointBucket(path);
  if (bucket === 'oauth') return [];
  return bucket === 'account' ? ['account'] : ['account', bucket];
}

function endpointLabel(path: string): string {
  return path.replace(/\.json$/, '').replace(/\/\d+(?=\/|$)/g, '/:id');
}

/**
 * Builds the request URL and refuses anything outside the workspace: the path must be a plain relative
 * path, and the resulting URL must keep the base URL's origin and path prefix.
 */
export function buildRequestUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): URL {
  if (!SAFE_PATH.test(path) || path.startsWith('//') || /(^|\/)\.\.?(\/|$)/.test(path)) {
    throw new Error('Refusing to send a Zendesk request: the path is not a plain relative API path');
  }
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(`${base.origin}${basePath}${path}`);
  if (url.origin !== base.origin || !url.pathname.startsWith(`${basePath}/`)) {
    throw new Error('Refusing to send a Zendesk request outside the workspace base URL');
  }
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}

/**
 * Retry-After in milliseconds: delta-seconds (integer or decimal) or an HTTP date. Undefined when absent
 * or unreadable.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"); never a bare number such as "-5".
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function isJsonContentType(headers: Headers): boolean {
  return /\bjson\b/i.test(headers.get('content-type') ?? '');
}

/** Zendesk's short `error` code from a JSON body, only if it looks like a code (never free text). */
function errorCode(headers: Headers, text: string): string | undefined {
  if (!isJsonContentType(headers) && !text.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') {
      // `{"error": "RecordNotFound"}`, or the JSON:API-style `{"errors": [{"code": "InvalidCursor"}]}` of newer endpoints.
      const body = parsed as { error?: unknown; errors?: unknown };
      const code = Array.isArray(body.errors) ? (body.errors[0] as { code?: unknown } | undefined)?.code : body.error;
      if (typeof code === 'string' && /^[A-Za-z_]{1,64}$/.test(code)) return code;
    }
  } catch {
    // not JSON: no code
  }
  return undefined;
}

export interface ErrorContext {
  bucket: RequestBucket;
  subdomain?: string;
  nowMs?: number;
}

/** Maps a non-2xx response to its error class. The body is read only for Zendesk's short error code. */
export function mapErrorResponse(status: number, headers: Headers, bodyText: string, ctx: ErrorContext): ZendeskError {
  const code = errorCode(headers, bodyText);
  const bucket: ZendeskBucket = ctx.bucket === 'oauth' ? 'account' : ctx.bucket;
  if (code === 'invalid_grant') return new ZendeskAuthError('invalid_grant', status);
  if (code === 'invalid_client' || code === 'unauthorized_client') return new ZendeskAuthError('invalid_client', status);
  if (status === 401) return new ZendeskAuthError('invalid_token', status);
  if (status === 403) return new ZendeskAuthError('forbidden', status);
  if (status === 429) {
    return new ZendeskRateLimitedError(bucket, parseRetryAfterMs(headers.get('retry-after'), ctx.nowMs) ?? DEFAULT_RETRY_AFTER_MS, status);
  }
  if (status === 404 && !isJsonContentType(headers)) return new ZendeskNotFoundError(ctx.subdomain, status);
  if (status >= 300 && status < 400) {
    // Unknown or closed accounts redirect to a "help center closed" page; redirects are never followed.
    return new ZendeskNotFoundError(ctx.subdomain, status);
  }
  if (status === 503) {
    const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), ctx.nowMs);
    return new ZendeskTransientError(
      retryAfterMs === undefined ? 'Zendesk is unavailable (HTTP 503, maintenance or outage)' : 'Zendesk asked to retry later (HTTP 503)',
      { status, retryAfterMs },
    );
  }
  if (status >= 500 || status === 409) return new ZendeskTransientError(`Zendesk answered HTTP ${status}`, { status });
  return new ZendeskRequestError(`Zendesk refused the request (HTTP ${status}${code ? `, ${code}` : ''})`, status, code);
}

async function readText(response: Response, limit: number): Promise<string> {
  const text = await response.text();
  return text.length > limit ? text.slice(0, limit) : text;
}

function notify(observer: ZendeskObserver | undefined, info: RequestInfo): void {
  try {
    observer?.onRequest?.(info);
  } catch {
    // metrics must never break a request
  }
}

/** Sends one request. Resolves only for 2xx; everything else throws a ZendeskError (or an Error for a refused URL). */
export async function zendeskRequest(req: ZendeskHttpRequest): Promise<ZendeskHttpResponse> {
  const method = req.method ?? 'GET';
  const url = buildRequestUrl(req.baseUrl, req.path, req.query);
  const bucket = req.bucket ?? endpointBucket(req.path);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'zendesk-integration-worker' };
  if (req.accessToken !== undefined) headers.Authorization = `Bearer ${req.accessToken}`;
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(req.body);
  }
  const info = { bucket, method, endpoint: endpointLabel(req.path) };
  const started = performance.now();
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;

  let response: Response;
  let text: string;
  let observed: Promise<void> | undefined;
  try {
    response = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
    // The rate limiter learns of a 429 (and of the window the headers report) as soon as the headers are
    // in, before the body is read: a request another stream is about to send must already see the block.
    // (It runs synchronously up to its first await: the limiter records the block before anything else runs.)
    const res = response;
    observed = (async () => req.onResponse?.(res.status, res.headers))();
    observed.catch(() => undefined); // awaited below; this only keeps a failure from going unhandled meanwhile
    text = await readText(response, response.ok ? Number.POSITIVE_INFINITY : MAX_ERROR_BODY_CHARS);
  } catch (err) {
    await observed?.catch(() => undefined);
    if (req.signal?.aborted) {
      notify(req.observer, { ...info, status: 0, durationMs: performance.now() - started, failure: 'cancelled' });
      throw req.signal.reason ?? new Error('The request was cancelled');
    }
    const timedOut = signal.aborted || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'));
    notify(req.observer, { ...info, status: 0, durationMs: performance.now() - started, failure: timedOut ? 'timeout' : 'network' });
    // The cause is not attached: undici errors can carry the request (and its Authorization header).
    throw new ZendeskTransientError(timedOut ? `Zendesk did not answer within ${req.timeoutMs} ms` : `Could not reach Zendesk (${networkCode(err)})`);
  }
  notify(req.observer, { ...info, status: response.status, durationMs: performance.now() - started });
  await observed;

  if (!response.ok) throw mapErrorResponse(response.status, response.headers, text, { bucket, subdomain: req.subdomain });
  if (response.status === 204 || text.trim() === '') return { status: response.status, headers: response.headers, body: undefined };
  if (!isJsonContentType(response.headers)) {
    throw new ZendeskBadResponseError(`Zendesk answered HTTP ${response.status} with a non-JSON body`, response.status);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ZendeskBadResponseError(`Zendesk answered HTTP ${response.status} with malformed JSON`, response.status);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A short, secret-free description of a network failure (e.g. ECONNREFUSED). */
function networkCode(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const code = cause && typeof cause === 'object' && 'code' in cause ? cause.code : undefined;
  if (typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code)) return code;
  return 'network error';
}

/** Validates a 2xx body; a mismatch is a retryable ZendeskBadResponseError listing paths, never values. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, status?: number, what = 'response'): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`);
    throw new ZendeskBadResponseError(`Zendesk ${what} did not have the expected shape (${issues.slice(0, 3).join('; ')})`, status, issues);
  }
  return result.data;
}
