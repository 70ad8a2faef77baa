import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Keyword search attributes on every workflow and schedule, so `TenantId = "..."` finds a tenant's runs.
 * Shared by the workflows (their log interceptor reads them) and the client side that sets them.
 */
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const INTEGRATION_ID = defineSearchAttributeKey('IntegrationId', SearchAttributeType.KEYWORD);
export const ZENDESK_WORKSPACE = defineSearchAttributeKey('ZendeskWorkspace', SearchAttributeType.KEYWORD);
/** On webhook deliveries: the event's type (`WebhookEventType = "sync.failed"`). */
export const WEBHOOK_EVENT_TYPE = defineSearchAttributeKey('WebhookEventType', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_NAMES = ['TenantId', 'IntegrationId', 'ZendeskWorkspace', 'WebhookEventType'] as const;
