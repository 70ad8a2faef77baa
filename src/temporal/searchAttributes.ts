import { INTEGRATION_ID, TENANT_ID, ZENDESK_WORKSPACE } from '../shared/searchAttributes';

export { SEARCH_ATTRIBUTE_NAMES, TENANT_ID } from '../shared/searchAttributes';

export function searchAttributesFor(ids: { tenantId: string; integrationId: string; workspace: string }) {
  return [
    { key: TENANT_ID, value: ids.tenantId },
    { key: INTEGRATION_ID, value: ids.integrationId },
    { key: ZENDESK_WORKSPACE, value: ids.workspace },
  ];
}
