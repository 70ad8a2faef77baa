import type { Client } from '@temporalio/client';
import { connectWorkflowId } from '../../src/workflows/connect';

/**
 * The update ids the connect workflow of an integration accepted, from its history: the callback and every
 * reload of it must deliver one update, under the flow id, however often the page is reloaded.
 */
export async function acceptedConsentUpdateIds(temporal: Client, integrationId: string): Promise<string[]> {
  const history = await temporal.workflow.getHandle(connectWorkflowId(integrationId)).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId)
    .filter((id): id is string => typeof id === 'string');
}

/** The consent redirect Zendesk sends the browser to (the callback URL with code and state), without following it. */
export async function consentRedirect(authorizeUrl: string): Promise<string> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`expected a redirect from the consent page, got ${res.status}`);
  return location;
}

/** A reload of the callback page, as the browser does it when the page's meta refresh fires. */
export async function loadCallback(url: string): Promise<{ status: number; html: string }> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, html: await res.text() };
}

export const SELF_RELOADING = /<meta http-equiv="refresh" content="\d+">/;
