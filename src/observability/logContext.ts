import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../logger';

/**
 * What a log line is about: the tenant, integration and workflow (and, in a worker, the activity).
 * Activities run inside `withLogContext`, and loggers made by `contextualLogger` add the current context
 * to every line they write, however deep in the call stack the line is written.
 */
export interface LogContext {
  tenantId?: string;
  integrationId?: string;
  workflowId?: string;
  runId?: string;
  activityType?: string;
  attempt?: number;
}

const storage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...dropUndefined(context) }, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/**
 * A child of `base` that adds the current log context to each line (fields given in the call win).
 * Do not bind context fields with `.child()` below it: bindings and context would both be written.
 */
export function contextualLogger(base: Logger): Logger {
  return base.child({}, { formatters: { log: (object) => ({ ...storage.getStore(), ...object }) } });
}

function dropUndefined(context: LogContext): LogContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const WORKFLOW_ID = new RegExp(`^zendesk-(?:connect|sync|disconnect)-(${UUID})`, 'i');

/** `zendesk-sync-<integrationId>-2026-…` → the integration id (contract workflow ids). */
export function integrationIdFromWorkflowId(workflowId: string | undefined): string | undefined {
  return workflowId ? WORKFLOW_ID.exec(workflowId)?.[1] : undefined;
}

/**
 * Integration → tenant, for the SDK's activity and worker lines, which know only the workflow id (an
 * integration never changes tenant, so entries never go stale). Fed by every line that knows both: the
 * workflows' own lines (their search attributes, src/workflows/interceptors.ts) and the activities' log
 * context. Bounded: the oldest entries go first.
 */
const MAX_TENANTS = 10_000;
const tenants = new Map<string, string>();

export function rememberTenant(integrationId: string, tenantId: string): void {
  if (tenants.has(integrationId)) return;
  if (tenants.size >= MAX_TENANTS) tenants.delete(tenants.keys().next().value!);
  tenants.set(integrationId, tenantId);
}

export function knownTenant(integrationId: string | undefined): string | undefined {
  return integrationId ? tenants.get(integrationId) : undefined;
}
