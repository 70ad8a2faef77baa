import { mkdirSync } from 'node:fs';
import { PGlite, type Extension } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

// The package's contrib entries ship CommonJS builds but only ESM type declarations: require, typed by hand.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pg_trgm } = require('@electric-sql/pglite/contrib/pg_trgm') as { pg_trgm: Extension };

/**
 * An embedded PostgreSQL for `npm run dev` on a machine without one: PGlite (PostgreSQL compiled to
 * WebAssembly, in this process) served over the PostgreSQL wire protocol on a free local port, so `pg`
 * and Kysely's PostgresDialect talk to it exactly as to a real server — the same migrations, the same
 * queries. It has the extensions the migrations create (pg_trgm).
 *
 * PGlite runs one query at a time: concurrent connections are queued, and an open transaction holds the
 * others until it ends. That is fine for one developer's machine and for tests; production uses a real
 * PostgreSQL (DATABASE_URL). Only one process may open a data directory at a time.
 */
export interface EmbeddedPostgres {
  /** A `postgres://` URL for `pg` / DATABASE_URL. */
  url: string;
  /** Where the data lives; undefined when in memory. */
  dataDir: string | undefined;
  pglite: PGlite;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** A directory to keep the database in (created when missing); in memory when omitted. */
  dataDir?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Concurrent client connections accepted. Default 64. */
  maxConnections?: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const pglite = await PGlite.create({ dataDir: options.dataDir, extensions: { pg_trgm } });
  const server = new PGLiteSocketServer({
    db: pglite,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 64,
  });
  try {
    await server.start();
  } catch (err) {
    await pglite.close().catch(() => undefined);
    throw err;
  }
  const [host, port] = splitHostPort(server.getServerConn());
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    dataDir: options.dataDir,
    pglite,
    stop: () =>
      (stopped ??= (async () => {
        await server.stop();
        await pglite.close();
      })()),
  };
}

function splitHostPort(conn: string): [string, number] {
  const at = conn.lastIndexOf(':');
  return [conn.slice(0, at), Number(conn.slice(at + 1))];
}
