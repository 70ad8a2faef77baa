/**
 * `npm run temporal:setup`: prepares a Temporal cluster for this worker, idempotently. Creates the
 * namespace (TEMPORAL_NAMESPACE) when it is missing, then registers the Keyword search attributes every
 * workflow and schedule carries (TenantId, IntegrationId, ZendeskWorkspace) through the operator
 * service. Running it again changes nothing. The dev server (`npm run dev`, `npm test`) registers them
 * itself with `--search-attribute`; docker-compose.yml has an equivalent job with the Temporal CLI.
 *
 *   npm run temporal:setup [-- --no-create-namespace] [--retention 3d] [--wait 60s]
 *   compiled: node dist/src/temporal/setup-cli.js
 *
 * Reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, and TLS / API key like the worker (TEMPORAL_TLS*, TEMPORAL_API_KEY; src/config.ts).
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { loadConfigOrExit, parseDuration, type Config } from '../config';
import { checkTemporalTls, temporalConnectionOptions } from './connectionOptions';
import { SEARCH_ATTRIBUTE_NAMES } from './searchAttributes';

/** `temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD` (@temporalio/proto). */
export const INDEXED_VALUE_TYPE_KEYWORD = 2;

/** gRPC status codes used here (@grpc/grpc-js `status`). */
const GRPC = { NOT_FOUND: 5, ALREADY_EXISTS: 6, UNAVAILABLE: 14 } as const;

export interface TemporalSetupOptions {
  namespace: string;
  /** Register the namespace when it does not exist. Default true. */
  createNamespace?: boolean;
  /** Workflow history retention of a namespace this creates. Default 3 days (the Temporal CLI's default). */
  retentionMs?: number;
  /** Search attribute names to register as Keyword. Default: ours. */
  searchAttributes?: readonly string[];
  /** How long to keep retrying while a just-created namespace becomes visible. Default 30 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface TemporalSetupResult {
  namespaceCreated: boolean;
  added: string[];
  alreadyPresent: string[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return isGrpcServiceError(cause) ? cause.code : undefined;
}

async function ensureNamespace(connection: Connection, namespace: string, create: boolean, retentionMs: number): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if (grpcCode(err) !== GRPC.NOT_FOUND) throw err;
  }
  if (!create) throw new Error(`Namespace ${namespace} does not exist; create it (run without --no-create-namespace) or set TEMPORAL_NAMESPACE`);
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      description: 'Zendesk integration worker',
      workflowExecutionRetentionPeriod: msToTs(retentionMs),
    });
    return true;
  } catch (err) {
    if (grpcCode(err) === GRPC.ALREADY_EXISTS) return false; // created concurrently
    throw err;
  }
}

async function customAttributes(connection: Connection, namespace: string): Promise<Record<string, number>> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a decoded protobuf may leave a map field out
  return Object.fromEntries(Object.entries(response.customAttributes ?? {}).map(([name, type]) => [name, Number(type)]));
}

/** Creates the namespace if asked and missing, then registers every missing search attribute. Idempotent. */
export async function setupTemporal(connection: Connection, options: TemporalSetupOptions): Promise<TemporalSetupResult> {
  const { namespace } = options;
  const log = options.log ?? (() => {});
  const names = options.searchAttributes ?? SEARCH_ATTRIBUTE_NAMES;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);

  const namespaceCreated = await ensureNamespace(connection, namespace, options.createNamespace ?? true, options.retentionMs ?? 3 * 86_400_000);
  log(namespaceCreated ? `namespace ${namespace}: created` : `namespace ${namespace}: exists`);

  // A namespace registered a moment ago may answer NOT_FOUND/UNAVAILABLE until the server's namespace cache catches up.
  for (;;) {
    try {
      const existing = await customAttributes(connection, namespace);
      const alreadyPresent: string[] = [];
      const missing: string[] = [];
      for (const name of names) {
        if (existing[name] === undefined) missing.push(name);
        else if (existing[name] === INDEXED_VALUE_TYPE_KEYWORD) alreadyPresent.push(name);
        else
          throw new Error(
            `Search attribute ${name} already exists in namespace ${namespace} with another type (${existing[name]}), not Keyword; remove it or use another namespace`,
          );
      }
      if (missing.length > 0) {
        try {
          await connection.operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(missing.map((name) => [name, INDEXED_VALUE_TYPE_KEYWORD])),
          });
        } catch (err) {
          // Registered concurrently by another run: the listing below is the judge.
          if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
        }
        const after = await customAttributes(connection, namespace);
        const stillMissing = missing.filter((name) => after[name] !== INDEXED_VALUE_TYPE_KEYWORD);
        if (stillMissing.length > 0) throw Object.assign(new Error(`search attributes not visible yet: ${stillMissing.join(', ')}`), { retryable: true });
      }
      for (const name of alreadyPresent) log(`search attribute ${name} (Keyword): exists`);
      for (const name of missing) log(`search attribute ${name} (Keyword): added`);
      return { namespaceCreated, added: missing, alreadyPresent };
    } catch (err) {
      const code = grpcCode(err);
      const retryable = code === GRPC.NOT_FOUND || code === GRPC.UNAVAILABLE || (err as { retryable?: boolean }).retryable === true;
      if (!retryable || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

/** Connects, retrying until `waitMs` has passed (a cluster that is still starting); a TLS misconfiguration fails at once. */
export async function connectWithRetry(temporal: Config['temporal'], waitMs: number): Promise<Connection> {
  const { address } = temporal;
  const deadline = Date.now() + waitMs;
  for (;;) {
    await checkTemporalTls(temporal);
    try {
      const connection = await Connection.connect({ ...temporalConnectionOptions(temporal), connectTimeout: 5_000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`Temporal at ${address} did not answer within ${Math.round(waitMs / 1000)} s: ${(err as Error).message}`, { cause: err });
      await sleep(1_000);
    }
  }
}

function parseArgs(argv: string[]): { createNamespace: boolean; retentionMs: number; waitMs: number } {
  const args = { createNamespace: true, retentionMs: 3 * 86_400_000, waitMs: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      const ms = next === undefined ? undefined : parseDuration(next);
      if (ms === undefined) throw new Error(`${arg} needs a duration such as 3d, 72h or 60s`);
      return ms;
    };
    if (arg === '--no-create-namespace') args.createNamespace = false;
    else if (arg === '--retention') args.retentionMs = value();
    else if (arg === '--wait') args.waitMs = value();
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: temporal:setup [--no-create-namespace] [--retention 3d] [--wait 60s]   (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE)');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfigOrExit('any');
  const { namespace } = config.temporal;
  const connection = await connectWithRetry(config.temporal, args.waitMs);
  try {
    const result = await setupTemporal(connection, {
      namespace,
      createNamespace: args.createNamespace,
      retentionMs: args.retentionMs,
      log: (line) => console.log(line),
    });
    console.log(
      `Temporal at ${config.temporal.address} is ready for namespace ${namespace}` +
        (result.added.length || result.namespaceCreated ? '.' : ' (nothing to change).'),
    );
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`temporal:setup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
