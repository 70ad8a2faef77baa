/**
 * Workflow interceptors, bundled with the workflows (`workflowInterceptorModules` of the bundler, or
 * `interceptors.workflowModules` of a worker that bundles at start; see src/temporal/worker.ts and
 * scripts/bundle-workflows.ts). Workflow code: deterministic imports only.
 *
 * Every log line a workflow writes — our `log.*` calls and the SDK's own ("Workflow started",
 * "Workflow completed", "Workflow failed"…) — carries the tenant, integration and workspace it concerns,
 * taken from the workflow's search attributes (set on every start and schedule, see
 * src/shared/searchAttributes.ts) or, when a run has none, from its input.
 */
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptorsFactory, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';
import { workflowInfo } from '@temporalio/workflow';
import { INTEGRATION_ID, TENANT_ID, ZENDESK_WORKSPACE } from '../shared/searchAttributes';

export interface WorkflowLogIds {
  tenantId?: string;
  integrationId?: string;
  workspace?: string;
}

function idsFromInput(arg: unknown): WorkflowLogIds {
  if (typeof arg !== 'object' || arg === null) return {};
  const input = arg as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return { tenantId: str(input.tenantId), integrationId: str(input.integrationId), workspace: str(input.workspace) };
}

/** The ids of the current workflow: its search attributes first, then what its input said. */
export function workflowLogIds(fromInput: WorkflowLogIds = {}): WorkflowLogIds {
  const ids: WorkflowLogIds = { ...fromInput };
  try {
    const attributes = workflowInfo().typedSearchAttributes;
    ids.tenantId = attributes.get(TENANT_ID) ?? ids.tenantId;
    ids.integrationId = attributes.get(INTEGRATION_ID) ?? ids.integrationId;
    ids.workspace = attributes.get(ZENDESK_WORKSPACE) ?? ids.workspace;
  } catch {
    // Not in a workflow context: nothing to add. Logging must never fail a workflow task.
  }
  return ids;
}

class LogIdsInterceptor implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private fromInput: WorkflowLogIds = {};

  execute: WorkflowInboundCallsInterceptor['execute'] = (input, next) => {
    this.fromInput = idsFromInput(input.args[0]);
    return next(input);
  };

  getLogAttributes: WorkflowOutboundCallsInterceptor['getLogAttributes'] = (input, next) => {
    const ids = workflowLogIds(this.fromInput);
    const added: Record<string, unknown> = {};
    if (ids.tenantId) added.tenantId = ids.tenantId;
    if (ids.integrationId) added.integrationId = ids.integrationId;
    if (ids.workspace) added.workspace = ids.workspace;
    return next({ ...input, ...added });
  };
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const ids = new LogIdsInterceptor();
  return { inbound: [ids], outbound: [ids] };
};
