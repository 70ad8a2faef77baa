import { createPkcePair } from '../../src/crypto/pkce';
import { SecretBox } from '../../src/crypto/secretBox';
import { saveCredentials, type TokenSet } from '../../src/db/repositories/credentials';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/tables';
import { startSandbox, type Sandbox, type SandboxOptions, type SandboxWorkspace, type WorkspaceOptions } from '../../src/sandbox';
import { ZendeskClient, type ZendeskClientDeps } from '../../src/zendesk/client';
import { createProcessRateLimits, type ProcessRateLimits } from '../../src/zendesk/rateLimit/rateLimiter';
import { buildAuthorizeUrl, exchangeCode } from '../../src/zendesk/oauth';
import { workspaceBaseUrl } from '../../src/zendesk/workspace';
import { TEST_ENCRYPTION_KEY, createTestIntegration, testDb } from '../helpers/db';

export const CLIENT = {
  clientId: 'zdg-worker-under-test',
  clientSecret: 'client-secret-7f3a9c1e5b',
  redirectUris: ['http://localhost:3000/v1/oauth/zendesk/callback'],
};
export const REDIRECT_URI = CLIENT.redirectUris[0]!;
export const box = new SecretBox(TEST_ENCRYPTION_KEY);

/** Subdomains are unique per test: test files share one database, and rate-limit blocks are per subdomain. */
export function uniqueSubdomain(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

export function startTestSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ clients: [CLIENT], exclusionSeconds: 0, ...opts });
}

export function zendeskConfig(sandbox: Sandbox, requestTimeoutMs = 5_000) {
  return { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, baseUrlTemplate: sandbox.baseUrlTemplate, requestTimeoutMs };
}

/** Plays the admin's browser on the sandbox (consent mode "allow") and returns the authorization code. */
export async function authorize(sandbox: Sandbox, subdomain: string, codeChallenge: string): Promise<string> {
  const url = buildAuthorizeUrl({
    baseUrl: workspaceBaseUrl(sandbox.baseUrlTemplate, subdomain),
    clientId: CLIENT.clientId,
    redirectUri: REDIRECT_URI,
    state: 'state-1',
    codeChallenge,
  });
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error('no code in the redirect');
  return code;
}

export interface Connected {
  ws: SandboxWorkspace;
  subdomain: string;
  integrationId: string;
  tokens: TokenSet;
}

/** A sandbox workspace, an integration row, and its tokens from a real code exchange, stored encrypted. */
export async function connectWorkspace(db: Kysely<Database>, sandbox: Sandbox, prefix: string, options: Partial<WorkspaceOptions> = {}): Promise<Connected> {
  const subdomain = uniqueSubdomain(prefix);
  const ws = sandbox.createWorkspace({ users: 20, ticketEvents: 50, consentMode: 'allow', ...options, subdomain });
  const { integrationId } = await createTestIntegration(db, subdomain);
  const { verifier, challenge } = createPkcePair();
  const code = await authorize(sandbox, subdomain, challenge);
  const tokens = await exchangeCode({
    baseUrl: workspaceBaseUrl(sandbox.baseUrlTemplate, subdomain),
    clientId: CLIENT.clientId,
    clientSecret: CLIENT.clientSecret,
    code,
    redirectUri: REDIRECT_URI,
    codeVerifier: verifier,
  });
  await saveCredentials(db, box, integrationId, tokens);
  return { ws, subdomain, integrationId, tokens };
}

let rateLimits: ProcessRateLimits | undefined;

/** This test process's rate-limit state, as a worker process has one: shared by every client made here. */
export function testRateLimits(): ProcessRateLimits {
  rateLimits ??= createProcessRateLimits(testDb());
  return rateLimits;
}

export function makeClient(
  db: Kysely<Database>,
  sandbox: Sandbox,
  connected: Pick<Connected, 'integrationId' | 'subdomain'>,
  extra: Partial<ZendeskClientDeps> & { requestTimeoutMs?: number } = {},
): ZendeskClient {
  const { requestTimeoutMs, ...deps } = extra;
  return new ZendeskClient({
    db,
    box,
    config: zendeskConfig(sandbox, requestTimeoutMs),
    integrationId: connected.integrationId,
    subdomain: connected.subdomain,
    backoffBaseMs: 50,
    rateLimits: testRateLimits(),
    ...deps,
  });
}

/** Asserts no secret string occurs in a text (error messages, logs). */
export function leakedSecrets(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && text.includes(s));
}
