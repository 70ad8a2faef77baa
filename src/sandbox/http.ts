// Handler plumbing: handlers are functions from a parsed request to a Reply value, which lets the
// server apply rate-limit headers, slow and malformed faults uniformly after the fact.

import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxWorkspace } from './workspace';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as application/json. */
  json?: unknown;
  /** Sent as text/plain (Zendesk answers some errors in plain text). */
  text?: string;
  html?: string;
}

export interface RequestContext {
  method: string;
  /** Path below the subdomain, as sent (may end in .json). */
  rawPath: string;
  /** Same without the optional `.json` suffix and trailing slash. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON or form body (POST only), else null. */
  body: Record<string, unknown> | null;
  ws: SandboxWorkspace;
  /** e.g. http://127.0.0.1:4010/acme */
  baseUrl: string;
  now: number;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, json: body, headers };
}

export function text(status: number, body: string, headers?: Record<string, string>): Reply {
  return { status, text: body, headers };
}

export function html(status: number, body: string): Reply {
  return { status, html: body };
}

export function redirect(location: string): Reply {
  return { status: 302, headers: { Location: location }, text: `Redirecting to ${location}` };
}

const INVALID_TOKEN_DESCRIPTION = 'The access token provided is expired, revoked, malformed or invalid for other reasons.';

export function invalidToken(): Reply {
  return json(
    401,
    { error: 'invalid_token', error_description: INVALID_TOKEN_DESCRIPTION },
    {
      'WWW-Authenticate': `Bearer realm="Web App", error="invalid_token", error_description="${INVALID_TOKEN_DESCRIPTION}"`,
    },
  );
}

export function couldNotAuthenticate(): Reply {
  return json(401, { error: "Couldn't authenticate you" });
}

export function forbidden(): Reply {
  return json(403, {
    error: 'Forbidden',
    description: 'You do not have access to this page. Please contact the account owner of this help desk for further help.',
  });
}

export function invalidEndpoint(): Reply {
  return json(404, { error: 'InvalidEndpoint', description: 'Not found' });
}

export function recordNotFound(): Reply {
  return json(404, { error: 'RecordNotFound', description: 'Not found' });
}

export function invalidValue(description: string): Reply {
  return json(400, { error: 'InvalidValue', description });
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A query parameter that must be a non-negative integer when present. */
export function intParam(q: URLSearchParams, name: string): number | undefined | 'invalid' {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) return 'invalid';
  return Number(v);
}
