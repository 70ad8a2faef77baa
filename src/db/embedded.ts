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
    db: batchAware(pglite),
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

/**
 * PGlite is one session shared by every connection, and pglite-socket keeps a connection's turn only while
 * that session is in a transaction. An extended-protocol batch (Parse, Bind, Execute … Sync) is not, so two
 * connections' batches interleaved: one's Parse replaced the other's unnamed statement between its Parse and
 * Bind ("bind message supplies 3 parameters, but prepared statement "" requires 1"; the embedded test failed
 * in CI). Upstream: electric-sql/pglite#1046 (open), PR #977. Until it is fixed there, the server is told the
 * session is "in a transaction" from a batch's first message to its Sync, so it keeps the turn.
 */
function batchAware(pglite: PGlite): PGlite {
  let batchOpen = false;
  const SYNC = 0x53; // 'S'
  const QUERY = 0x51; // 'Q': the simple protocol, a batch of its own
  /** The type of the last complete message of a frontend chunk (undefined for a startup packet or a partial one). */
  const lastMessageType = (bytes: Uint8Array): number | undefined => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let last: number | undefined;
    for (let at = 0; at + 5 <= bytes.length;) {
      const type = bytes[at]!;
      const length = view.getInt32(at + 1);
      if (type === 0 || length < 4) return undefined;
      last = type;
      at += 1 + length;
    }
    return last;
  };
  return new Proxy(pglite, {
    get(target, property, receiver) {
      if (property === 'isInTransaction') return () => batchOpen || target.isInTransaction();
      if (property === 'execProtocolRawStream') {
        return async (message: Uint8Array, options: Parameters<PGlite['execProtocolRawStream']>[1]) => {
          const type = lastMessageType(message);
          if (type !== undefined) batchOpen = type !== SYNC && type !== QUERY;
          return target.execProtocolRawStream(message, options);
        };
      }
      // The server's clean-up after a connection that closed during its turn.
      if (property === 'exec') {
        return (query: string, ...rest: unknown[]) => {
          if (query === 'ROLLBACK') batchOpen = false;
          return (target.exec as (q: string, ...r: unknown[]) => unknown).call(target, query, ...rest);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function splitHostPort(conn: string): [string, number] {
  const at = conn.lastIndexOf(':');
  return [conn.slice(0, at), Number(conn.slice(at + 1))];
}
