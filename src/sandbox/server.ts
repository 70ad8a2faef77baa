// HTTP front door: finds the workspace from the first path segment, applies rate limits and
// faults to /api/v2 calls, routes to the handler and writes its Reply.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { malformBody, type ActiveFault } from './faults';
import { invalidEndpoint, json, text, type Reply, type RequestContext } from './http';
import { incrementalUsersCursor } from './incremental';
import { authorizeDecision, authorizePage, tokenEndpoint } from './oauth';
import { userEntitlements } from './entitlements';
import { endpointBucket } from './rateLimiter';
import { incrementalTicketEvents } from './ticketEvents';
import { revokeCurrentToken, revokeToken, showCurrentToken, showToken } from './tokensApi';
import type { Logger } from './types';
import { listUsers, showUser, usersMe } from './users';
import { showManyUsers } from './showMany';
import { countUsers } from './userCount';
import { listCustomRoles, updateUserHandler } from './userWrites';
import { createGroupMembership, listUserGroupMemberships } from './groupMembershipsApi';
import type { SandboxWorkspace } from './workspace';

const MAX_BODY_BYTES = 1_000_000;

export interface ServerDeps {
  workspace(subdomain: string): SandboxWorkspace | undefined;
  workspaceNames(): string[];
  baseUrl(subdomain: string): string;
  now(): number;
  logger: Logger;
}

type Route = (ctx: RequestContext, id: number) => Reply;

/** [method, path pattern (":id" = digits), handler] */
const ROUTES: Array<[string, string, Route]> = [
  ['GET', '/oauth/authorizations/new', authorizePage],
  ['POST', '/oauth/authorizations', authorizeDecision],
  ['POST', '/oauth/tokens', tokenEndpoint],
  ['GET', '/api/v2/users/me', usersMe],
  ['GET', '/api/v2/users', listUsers],
  ['GET', '/api/v2/users/show_many', showManyUsers],
  ['GET', '/api/v2/users/count', countUsers],
  ['GET', '/api/v2/users/:id', showUser],
  ['PUT', '/api/v2/users/:id', updateUserHandler],
  ['GET', '/api/v2/custom_roles', listCustomRoles],
  ['GET', '/api/v2/users/:id/group_memberships', listUserGroupMemberships],
  ['POST', '/api/v2/group_memberships', createGroupMembership],
  ['GET', '/api/v2/users/:id/entitlements/full', userEntitlements],
  ['GET', '/api/v2/incremental/users/cursor', incrementalUsersCursor],
  ['GET', '/api/v2/incremental/ticket_events', incrementalTicketEvents],
  ['GET', '/api/v2/oauth/tokens/current', showCurrentToken],
  ['DELETE', '/api/v2/oauth/tokens/current', revokeCurrentToken],
  ['GET', '/api/v2/oauth/tokens/:id', showToken],
  ['DELETE', '/api/v2/oauth/tokens/:id', revokeToken],
];

function route(method: string, path: string): { handler: Route; id: number } | null {
  for (const [m, pattern, handler] of ROUTES) {
    if (m !== method) continue;
    if (!pattern.includes(':id')) {
      if (pattern === path) return { handler, id: NaN };
      continue;
    }
    const prefix = pattern.slice(0, pattern.indexOf(':id'));
    const suffix = pattern.slice(pattern.indexOf(':id') + 3);
    if (path.startsWith(prefix) && path.endsWith(suffix) && path.length > prefix.length + suffix.length) {
      const rest = path.slice(prefix.length, path.length - suffix.length);
      if (/^\d+$/.test(rest)) return { handler, id: Number(rest) };
    }
  }
  return null;
}

/** "GET /api/v2/oauth/tokens/:id" style keys for per-endpoint statistics. */
function endpointKey(method: string, path: string): string {
  return `${method} ${path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | 'invalid' | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return 'invalid';
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.trim() === '') return null;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const asForm = () => Object.fromEntries(new URLSearchParams(raw));
  if (type.includes('application/x-www-form-urlencoded')) return asForm();
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : 'invalid';
  } catch {
    return type.includes('json') ? 'invalid' : asForm();
  }
}

export class SandboxServer {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: ServerDeps) {}

  /** Cancels pending slow-fault delays (on close). */
  cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.dispatch(req, res).catch((err: unknown) => {
      this.deps.logger.error?.({ err }, 'zendesk sandbox: handler failed');
      if (!res.headersSent) this.send(res, json(500, { error: 'InternalError', description: String(err) }), {});
      else res.destroy();
    });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const segments = url.pathname.split('/');
    const subdomain = decodeURIComponent(segments[1] ?? '');
    if (subdomain === '') {
      this.send(res, text(200, `Zendesk sandbox. Workspaces: ${this.deps.workspaceNames().join(', ') || '(none)'}\n`), {});
      return;
    }
    const ws = this.deps.workspace(subdomain);
    if (!ws) {
      // Zendesk answers for nonexistent instances in plain text, not JSON.
      this.send(res, text(404, `There is no Zendesk account at this address (${subdomain}).\n`), {});
      return;
    }
    const rawPath = '/' + segments.slice(2).join('/');
    const path = rawPath.replace(/\/+$/, '').replace(/\.json$/, '') || '/';
    const isApi = path.startsWith('/api/v2/');
    const counters = ws.counters;
    counters.request(endpointKey(method, path), isApi);
    res.once('close', () => {
      if (!res.writableFinished) counters.abandoned();
    });

    let now = this.deps.now();
    const extraHeaders: Record<string, string> = {};
    const bucket = isApi ? endpointBucket(path) : null;
    if (isApi) {
      const admission = ws.limiter.admit(bucket, now);
      counters.bucket('account', admission.early.includes('account'));
      if (bucket) counters.bucket(bucket, admission.early.includes(bucket));
      Object.assign(extraHeaders, admission.headers);
      if (!admission.allowed) {
        counters.rateLimited(admission.blockedBy ?? 'account');
        this.finish(ws, res, tooManyRequests(admission.retryAfterSeconds ?? 1), extraHeaders);
        return;
      }
    }

    // The OAuth token API is not a "data endpoint": random faults leave it alone.
    const dataEndpoint = isApi && !path.startsWith('/api/v2/oauth/');
    const fault: ActiveFault | null = ws.faults.next(rawPath, path, dataEndpoint);
    if (fault) {
      counters.fault(fault.kind);
      switch (fault.kind) {
        case 'reset':
          req.socket.destroy();
          return;
        case '503': {
          const h: Record<string, string> = fault.retryAfterSeconds === null ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
          this.finish(ws, res, json(503, { error: 'ServiceUnavailable', description: 'Database timeout. Please retry.' }, h), extraHeaders);
          return;
        }
        case '500':
          this.finish(ws, res, json(500, { error: 'InternalError', description: 'Something went wrong.' }), extraHeaders);
          return;
        case '429': {
          // A 429 with headroom left (Zendesk's undocumented conditional limits): it still sets the
          // Retry-After deadline of the bucket, so requests before it count as early.
          const seconds = Math.max(1, fault.retryAfterSeconds ?? 1);
          const b = bucket ?? 'account';
          ws.limiter.penalize(b, seconds, now);
          counters.rateLimited(b);
          this.finish(ws, res, tooManyRequests(seconds), extraHeaders);
          return;
        }
        case 'slow':
          await this.delay(fault.slowMs);
          now = this.deps.now();
          break;
        default:
          break;
      }
    }

    let body: Record<string, unknown> | null = null;
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const parsed = await readBody(req);
      if (parsed === 'invalid') {
        this.finish(ws, res, json(400, { error: 'invalid_request', error_description: 'The request body could not be parsed.' }), extraHeaders);
        return;
      }
      body = parsed;
    }

    const ctx: RequestContext = {
      method,
      rawPath,
      path,
      query: url.searchParams,
      headers: req.headers,
      body,
      ws,
      baseUrl: ws.baseUrl,
      now,
    };
    const match = route(method, path);
    let reply = match ? match.handler(ctx, match.id) : invalidEndpoint();
    if (fault?.kind === 'malformed') {
      const source = reply.json !== undefined ? reply.json : (reply.text ?? '');
      reply = { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, text: malformBody(source, fault.malformed) };
    }
    this.finish(ws, res, reply, extraHeaders);
    // Path only: queries can carry authorization codes and must not reach logs.
    this.deps.logger.debug?.({ subdomain, method, path, status: reply.status }, 'zendesk sandbox request');
  }

  private finish(ws: SandboxWorkspace, res: ServerResponse, reply: Reply, extra: Record<string, string>): void {
    ws.counters.status(reply.status);
    this.send(res, reply, extra);
  }

  private send(res: ServerResponse, reply: Reply, extra: Record<string, string>): void {
    if (res.destroyed) return;
    // Zendesk's docs name X-Zendesk-Request-Id; the 2025 recording shows x-request-id. Both are sent.
    const requestId = randomBytes(8).toString('hex');
    const headers: Record<string, string> = { 'X-Request-Id': requestId, 'X-Zendesk-Request-Id': requestId, ...extra };
    let payload: string | undefined;
    if (reply.json !== undefined) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      payload = JSON.stringify(reply.json);
    } else if (reply.html !== undefined) {
      headers['Content-Type'] = 'text/html; charset=utf-8';
      payload = reply.html;
    } else if (reply.text !== undefined) {
      headers['Content-Type'] = 'text/plain; charset=utf-8';
      payload = reply.text;
    }
    Object.assign(headers, reply.headers ?? {});
    if (reply.status === 204) payload = undefined;
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function tooManyRequests(seconds: number): Reply {
  return json(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }, { 'Retry-After': String(seconds) });
}
