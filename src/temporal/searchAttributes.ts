import { INTEGRATION_ID, TENANT_ID, WEBHOOK_EVENT_TYPE, ZENDESK_WORKSPACE } from '../shared/searchAttributes';

export { SEARCH_ATTRIBUTE_NAMES, TENANT_ID } from '../shared/searchAttributes';

export function searchAttributesFor(ids: { tenantId: string; integrationId: string; workspace: string }) {
  return [
    { key: TENANT_ID, value: ids.tenantId },
    { key: INTEGRATION_ID, value: ids.integrationId },
    { key: ZENDESK_WORKSPACE, value: ids.workspace },
  ];
}

/** A webhook delivery's: its tenant, its event's type and, for an event about an integration, that integration. */
export function webhookSearchAttributesFor(d: { tenantId: string; type: string; integrationId: string | null }) {
  return [
    { key: TENANT_ID, value: d.tenantId },
    { key: WEBHOOK_EVENT_TYPE, value: d.type },
    ...(d.integrationId ? [{ key: INTEGRATION_ID, value: d.integrationId }] : []),
  ];
}
