// A sandbox with one demo workspace, for `npm run dev` and `npm run sandbox`.

import { startSandbox, type Sandbox } from './sandbox';
import type { ConsentMode, Logger, OAuthClient } from './types';
import type { SandboxWorkspace } from './workspace';

export interface DemoSandboxOptions {
  port?: number;
  host?: string;
  subdomain?: string;
  users?: number;
  ticketEvents?: number;
  seed?: number;
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs registered for the client. */
  redirectUris?: string[];
  consentMode?: ConsentMode;
  exclusionSeconds?: number;
  logger?: Logger;
}

export interface DemoSandbox {
  sandbox: Sandbox;
  workspace: SandboxWorkspace;
  client: OAuthClient;
}

export const DEMO_DEFAULTS = {
  subdomain: 'demo',
  clientId: 'sandbox-client',
  clientSecret: 'sandbox-secret',
  redirectUri: 'http://localhost:3000/v1/oauth/zendesk/callback',
};

export async function startDemoSandbox(opts: DemoSandboxOptions = {}): Promise<DemoSandbox> {
  const client: OAuthClient = {
    clientId: opts.clientId ?? DEMO_DEFAULTS.clientId,
    clientSecret: opts.clientSecret ?? DEMO_DEFAULTS.clientSecret,
    redirectUris: opts.redirectUris ?? [DEMO_DEFAULTS.redirectUri],
  };
  const sandbox = await startSandbox({
    port: opts.port,
    host: opts.host,
    clients: [client],
    exclusionSeconds: opts.exclusionSeconds,
    logger: opts.logger,
  });
  const workspace = sandbox.createWorkspace({
    subdomain: opts.subdomain ?? DEMO_DEFAULTS.subdomain,
    users: opts.users ?? 200,
    ticketEvents: opts.ticketEvents ?? 5000,
    seed: opts.seed ?? 42,
    consentMode: opts.consentMode ?? 'manual',
  });
  return { sandbox, workspace, client };
}
