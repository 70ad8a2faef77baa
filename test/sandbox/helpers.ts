// Shared helpers for the sandbox tests: a controllable clock, PKCE, the OAuth dance and fetch wrappers.

import { createHash, randomBytes } from 'node:crypto';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';

export const CLIENT = {
  clientId: 'zdg-test-client',
  clientSecret: 'test-secret-123',
  redirectUris: ['http://localhost:3000/v1/oauth/zendesk/callback', 'http://127.0.0.1:9999/cb'],
};
export const REDIRECT = CLIENT.redirectUris[0];

/** A clock tests move by hand; starts at the real time. */
export class TestClock {
  t = Date.now();
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export async function start(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ clients: [CLIENT], ...opts });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(sb: Sandbox, sub: string, params: Record<string, string | undefined>): string {
  const u = new URL(`${sb.url}/${sub}/oauth/authorizations/new`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT,
    scope: 'read',
    state: 'state-123',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** Runs the authorize step in a workspace whose consent mode is 'allow'; returns the code. */
export async function getCode(sb: Sandbox, sub: string, params: Record<string, string | undefined> = {}): Promise<string> {
  const res = await fetch(authorizeUrl(sb, sub, params), { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}`);
  const loc = new URL(res.headers.get('location')!);
  const code = loc.searchParams.get('code');
  if (!code) throw new Error(`no code in ${loc}`);
  return code;
}

export async function postToken(sb: Sandbox, sub: string, body: Record<string, unknown>, form = false) {
  const res = await fetch(`${sb.url}/${sub}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number | null;
  refresh_token_expires_in: number;
  scope: string;
  token_type: string;
}

/** The whole code flow with PKCE; the workspace must be in consent mode 'allow'. */
export async function connect(sb: Sandbox, sub: string, scope = 'read', extra: Record<string, unknown> = {}): Promise<Tokens> {
  const { verifier, challenge } = pkce();
  const code = await getCode(sb, sub, { scope, code_challenge: challenge, code_challenge_method: 'S256' });
  const r = await postToken(sb, sub, {
    grant_type: 'authorization_code',
    code,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    ...extra,
  });
  if (r.status !== 201) throw new Error(`token exchange failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Tokens;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function api(sb: Sandbox, sub: string, pathAndQuery: string, token?: string, method = 'GET'): Promise<ApiResult> {
  const url = pathAndQuery.startsWith('http') ? pathAndQuery : `${sb.url}/${sub}${pathAndQuery}`;
  const res = await fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}
