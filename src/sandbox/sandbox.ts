// startSandbox(): the HTTP server plus the registry of workspaces it serves.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateWorkspace } from './generator';
import { readSnapshot, SnapshotWriter, type SandboxSnapshot } from './persistence';
import { SandboxServer } from './server';
import type { Logger, OAuthClient } from './types';
import type { SandboxWorkspace } from './workspace';
import type { WorkspaceEnv, WorkspaceOptions } from './workspaceTypes';

export interface SandboxOptions {
  /** 0 = a random free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** OAuth clients known to every workspace. */
  clients?: OAuthClient[];
  /** Rate-limit window (default 60000 ms); tests shorten it. */
  rateLimitWindowMs?: number;
  /** The most recent window excluded from incremental exports (default 60 s; tests use 0). */
  exclusionSeconds?: number;
  /**
   * Access-token lifetime (default 1800 s, Zendesk's 2026 default; null = never expires).
   * When given explicitly it wins over the client's expires_in and may be below Zendesk's 300 s minimum.
   */
  accessTokenTtlSeconds?: number | null;
  /** Refresh-token lifetime (default 30 days); explicit values win over the client's request too. */
  refreshTokenTtlSeconds?: number;
  /** Authorization-code lifetime (default 120 s). */
  codeTtlSeconds?: number;
  /** Clock in ms (default Date.now); lets tests move time. */
  now?: () => number;
  logger?: Logger;
  /**
   * A JSON file keeping the sandbox's state across restarts (`npm run dev` uses `.data/`): loaded at start
   * (its workspaces are recreated, with the grants and tokens issued before), saved shortly after each
   * change and on close. Default: none, everything in memory.
   */
  statePath?: string;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT/{subdomain}: the product's ZENDESK_BASE_URL. */
  baseUrlTemplate: string;
  port: number;
  /** Generates a workspace deterministically and serves it. Throws if the subdomain exists. */
  createWorkspace(opts: WorkspaceOptions): SandboxWorkspace;
  /** Throws if unknown. */
  workspace(subdomain: string): SandboxWorkspace;
  hasWorkspace(subdomain: string): boolean;
  workspaces(): SandboxWorkspace[];
  /** Removes a workspace; its URLs then answer like a nonexistent Zendesk account. */
  removeWorkspace(subdomain: string): void;
  addClient(c: OAuthClient): void;
  /** The sandbox clock (ms). */
  now(): number;
  close(): Promise<void>;
}

const SILENT: Logger = { info() {}, warn() {}, error() {}, debug() {} };

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? SILENT;
  const sharedClients = new Map<string, OAuthClient>();
  const addClient = (c: OAuthClient) => sharedClients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
  for (const c of opts.clients ?? []) addClient(c);
  const workspaces = new Map<string, SandboxWorkspace>();
  let url = '';
  const saved = opts.statePath ? readSnapshot(opts.statePath, logger) : undefined;
  const writer = opts.statePath
    ? new SnapshotWriter(
        opts.statePath,
        (): SandboxSnapshot => ({ version: 1, savedAt: new Date(now()).toISOString(), workspaces: [...workspaces.values()].map((w) => w.snapshot()) }),
        logger,
      )
    : undefined;
  const changed = () => writer?.changed();

  const app = new SandboxServer({
    workspace: (s) => workspaces.get(s),
    workspaceNames: () => [...workspaces.keys()],
    baseUrl: (s) => `${url}/${s}`,
    now,
    logger,
  });
  const server: Server = createServer(app.handle);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  url = `http://${urlHost}:${port}`;
  logger.info({ url }, 'zendesk sandbox listening');

  const envFor = (subdomain: string): WorkspaceEnv => ({
    now,
    baseUrl: `${url}/${subdomain}`,
    sharedClients,
    logger,
    onChange: changed,
    defaults: {
      rateLimitWindowMs: opts.rateLimitWindowMs ?? 60_000,
      exclusionSeconds: opts.exclusionSeconds ?? 60,
      accessTokenTtlSeconds: opts.accessTokenTtlSeconds !== undefined ? opts.accessTokenTtlSeconds : 1800,
      refreshTokenTtlSeconds: opts.refreshTokenTtlSeconds ?? 2_592_000,
      codeTtlSeconds: opts.codeTtlSeconds ?? 120,
      accessExplicit: opts.accessTokenTtlSeconds !== undefined,
      refreshExplicit: opts.refreshTokenTtlSeconds !== undefined,
    },
  });

  for (const snapshot of saved?.workspaces ?? []) {
    const ws = generateWorkspace(snapshot.options, envFor(snapshot.options.subdomain));
    ws.restore(snapshot);
    workspaces.set(ws.subdomain, ws);
    logger.info(
      { subdomain: ws.subdomain, users: ws.userCount(), ticketEvents: ws.ticketEventCount(), grants: ws.grants().filter((g) => !g.revoked).length },
      'zendesk sandbox workspace restored',
    );
  }

  let closed: Promise<void> | null = null;
  return {
    url,
    baseUrlTemplate: `${url}/{subdomain}`,
    port,
    createWorkspace(wo) {
      if (workspaces.has(wo.subdomain)) throw new Error(`workspace ${wo.subdomain} already exists`);
      const ws = generateWorkspace(wo, envFor(wo.subdomain));
      workspaces.set(wo.subdomain, ws);
      changed();
      logger.info({ subdomain: wo.subdomain, users: ws.userCount(), ticketEvents: ws.ticketEventCount() }, 'zendesk sandbox workspace created');
      return ws;
    },
    workspace(subdomain) {
      const ws = workspaces.get(subdomain);
      if (!ws) throw new Error(`no sandbox workspace ${subdomain}`);
      return ws;
    },
    hasWorkspace: (s) => workspaces.has(s),
    workspaces: () => [...workspaces.values()],
    removeWorkspace: (s) => {
      if (workspaces.delete(s)) changed();
    },
    addClient,
    now,
    close() {
      closed ??= new Promise<void>((resolve) => {
        app.cancelTimers();
        writer?.flush();
        server.close(() => {
          // Again: a request in flight while closing may have changed something.
          writer?.flush();
          resolve();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
