import type { IntegrationStatus } from '../db/tables';

/**
 * Whether an integration may change seats, and if not why. Only the global `write` scope counts: Zendesk's
 * OpenAPI file documents scopes for almost no operation and group memberships have no resource scope, so a
 * narrower grant (`users:write`) is not known to cover every call a reclamation makes (README, "Reclaiming seats").
 */
export function reclaimCapability(status: IntegrationStatus, scope: string | undefined): { enabled: boolean; reason: string | null } {
  if (status !== 'connected') return { enabled: false, reason: `The integration is ${status}.` };
  if (scope === undefined) return { enabled: false, reason: 'The integration holds no grant.' };
  if (!scope.split(' ').includes('write')) {
    return { enabled: false, reason: 'The grant is read-only: reconnect with access "reclaim" (an admin approves write access).' };
  }
  return { enabled: true, reason: null };
}
