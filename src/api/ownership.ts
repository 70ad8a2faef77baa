import type { Request } from 'express';
import type { Db } from '../db/database';
import { findTenantIntegration } from '../db/repositories/integrations';
import type { Integration, IntegrationStatus } from '../db/tables';
import { integrationTag, tenantTag, type ApiCache } from './cache/apiCache';
import { notFound } from './problems';
import { IntegrationIdParams } from './schemas';
import { parseOr400 } from './validate';

export interface OwnershipCheck {
  db: Db;
  /**
   * Statuses answered like an unknown id besides `disconnected` (the reports add `disconnecting`: a
   * disconnect under way serves no more reports, the customer asked for its data to be let go).
   */
  alsoHidden?: readonly IntegrationStatus[];
  /**
   * When given, the row is read through the cache's `integrations` loader (keyed by tenant and id,
   * dropped on the integration's or the tenant's change): the reports' hot path, where a hit costs no
   * query. Routes that change an integration read the row itself.
   */
  cache?: ApiCache;
}

/**
 * The one ownership check of `/v1/integrations/:id` routes: the integration `:id` when it belongs to the
 * calling tenant and is not hidden, else 404 "No integration {id}." — another tenant's id answers exactly
 * like an unknown one. A malformed id is a 400 (the path's validation).
 */
export function integrationOwnership({ db, alsoHidden = [], cache }: OwnershipCheck): (req: Request) => Promise<Integration> {
  const hidden = new Set<IntegrationStatus>(['disconnected', ...alsoHidden]);
  return async (req) => {
    const { id } = parseOr400(IntegrationIdParams, req.params, 'path');
    const tenantId = req.tenant!.id;
    const integration = cache
      ? (
          await cache.integrations.get(`${tenantId}\u0000${id}`, [integrationTag(id), tenantTag(tenantId)], async () => {
            const row = await findTenantIntegration(db, tenantId, id);
            if (!row) throw notFound(`No integration ${id}.`);
            return { value: row, bytes: 1 };
          })
        ).value
      : await findTenantIntegration(db, tenantId, id);
    if (!integration || hidden.has(integration.status)) throw notFound(`No integration ${id}.`);
    return integration;
  };
}
