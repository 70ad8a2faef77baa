import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Keyword search attributes on every workflow and schedule, so `TenantId = "..."` finds a tenant's runs. */
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const INTEGRATION_ID = defineSearchAttributeKey('IntegrationId', SearchAttributeType.KEYWORD);
export const ZENDESK_WORKSPACE = defineSearchAttributeKey('ZendeskWorkspace', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_NAMES = ['TenantId', 'IntegrationId', 'ZendeskWorkspace'] as const;

export function searchAttributesFor(ids: { tenantId: string; integrationId: string; workspace: string }) {
  return [
    { key: TENANT_ID, value: ids.tenantId },
    { key: INTEGRATION_ID, value: ids.integrationId },
    { key: ZENDESK_WORKSPACE, value: ids.workspace },
  ];
}
