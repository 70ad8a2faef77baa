import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The internal HTTP server of both processes (the worker's METRICS_PORT, the API's INTERNAL_PORT). */

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Default 0.0.0.0 (scraped from outside the container). */
  host?: string;
  /**
   * `/readyz` answers 200 while this returns true (or `{ ready: true }`), else 503. Default: always ready.
   * `checks` (what was checked, and how it went) is passed through to the body.
   */
  ready?: () => boolean | ReadyState | Promise<boolean | ReadyState>;
}

export interface ReadyState {
  ready: boolean;
  checks?: Record<string, string>;
}

export interface MetricsServer {
  server: Server;
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}

/** A tiny node:http server: `GET /metrics` (Prometheus text), `/healthz` (liveness), `/readyz` (readiness). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const json = 'application/json; charset=utf-8';
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, json, JSON.stringify({ status: 405, title: 'Method Not Allowed' }), head);
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/metrics') return send(res, 200, options.registry.contentType, await options.registry.metrics(), head);
    if (pathname === '/healthz') return send(res, 200, json, JSON.stringify({ status: 'ok' }), head);
    if (pathname === '/readyz') {
      let state: ReadyState;
      try {
        const answer = options.ready ? await options.ready() : true;
        state = typeof answer === 'boolean' ? { ready: answer } : answer;
      } catch {
        state = { ready: false };
      }
      const body = { status: state.ready ? 'ready' : 'not ready', ...(state.checks ? { checks: state.checks } : {}) };
      return send(res, state.ready ? 200 : 503, json, JSON.stringify(body), head);
    }
    return send(res, 404, json, JSON.stringify({ status: 404, title: 'Not Found' }), head);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'metrics unavailable\n', false);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
