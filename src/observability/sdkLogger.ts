import { Runtime, makeTelemetryFilterString, type Logger as SdkLogger } from '@temporalio/worker';
import type { LogLevel, LogMetadata } from '@temporalio/worker';
import type { Logger } from '../logger';
import { currentLogContext, integrationIdFromWorkflowId, knownTenant, rememberTenant } from './logContext';

/**
 * The Temporal SDK's logs (worker, workflows, activities and, forwarded, its Rust core) as pino JSON
 * lines, each carrying the tenant, integration and workflow it concerns when it concerns one. Every
 * process that runs a worker calls `installSdkLogger` once, before its first NativeConnection or Worker.
 */

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Metadata the SDK attaches that is noise (or opaque tokens) in our logs. */
const DROPPED = new Set(['taskToken', 'sdkComponent', 'logSource']);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function fields(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { sdk: true };
  if (meta) {
    for (const [key, value] of Object.entries(meta)) {
      if (DROPPED.has(key)) continue;
      // Errors serialize as {} under any key but `err` (pino's error serializer).
      if (value instanceof Error) out[key === 'error' || key === 'failure' ? 'err' : key] = value;
      else out[key] = value;
    }
    if (typeof meta.sdkComponent === 'string') out.component = meta.sdkComponent;
  }
  // Workflow lines carry their ids already (src/workflows/interceptors.ts: the workflow's search
  // attributes); activity and worker lines get them from the activity's log context, else from the
  // workflow id (integration) and the tenants seen so far.
  const context = currentLogContext();
  const workflowId = text(out.workflowId) ?? context?.workflowId;
  const integrationId = text(out.integrationId) ?? context?.integrationId ?? integrationIdFromWorkflowId(workflowId);
  const tenantId = text(out.tenantId) ?? (context?.integrationId === integrationId ? context?.tenantId : undefined) ?? knownTenant(integrationId);
  if (integrationId && tenantId) rememberTenant(integrationId, tenantId);
  if (tenantId) out.tenantId = tenantId;
  if (integrationId) out.integrationId = integrationId;
  if (workflowId) out.workflowId = workflowId;
  return out;
}

/** A Temporal SDK `Logger` writing through pino. */
function sdkLogger(logger: Logger): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => {
    // The workflow bundler's webpack report is many lines of build detail: debug, not info.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the level comes from the SDK's native core at run time
    const pinoLevel = level === 'INFO' && message.startsWith('asset workflow-bundle') ? 'debug' : (LEVELS[level] ?? 'info');
    logger[pinoLevel](fields(meta), message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

export interface SdkLoggingOptions {
  /** The Rust core's own log level (forwarded to pino). Default WARN. */
  coreLevel?: LogLevel;
  /** When set, the SDK core serves its worker metrics (Prometheus) on 0.0.0.0:<port>/metrics. */
  temporalMetricsPort?: number;
}

/**
 * Installs the process-wide Temporal Runtime with our logger. Call once, before any NativeConnection or
 * Worker is created; returns false (and changes nothing) when a Runtime is already installed.
 */
export function installSdkLogger(logger: Logger, options: SdkLoggingOptions = {}): boolean {
  if (Runtime._instance !== undefined) return false;
  Runtime.install({
    logger: sdkLogger(logger),
    telemetryOptions: {
      // forward: core logs go through the logger above instead of straight to the console as text.
      logging: { filter: makeTelemetryFilterString({ core: options.coreLevel ?? 'WARN' }), forward: {} },
      ...(options.temporalMetricsPort !== undefined ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${options.temporalMetricsPort}` } } } : {}),
    },
  });
  return true;
}
