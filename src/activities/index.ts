import { contextualLogger } from '../observability/logContext';
import { createConnectActivities } from './connect';
import type { ActivityDeps } from './deps';
import { createDisconnectActivities } from './disconnect';
import { createHousekeepingActivities } from './housekeeping';
import { createOffboardActivities } from './offboard';
import { createStagedConnectActivities } from './stagedConnect';
import { createReclaimActivities } from './reclaim';
import { createReclaimNoticeActivities } from './reclaimNotice';
import { createSyncActivities } from './sync';
import { createWebhookActivities } from './webhooks';

/** Every activity the worker registers, built once from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  // Every line an activity logs carries its tenant, integration, workflow and activity (activityLogContext, the worker's interceptor).
  const logged: ActivityDeps = { ...deps, logger: contextualLogger(deps.logger) };
  return {
    ...createConnectActivities(logged),
    ...createStagedConnectActivities(logged),
    ...createDisconnectActivities(logged),
    ...createSyncActivities(logged),
    ...createHousekeepingActivities(logged),
    ...createOffboardActivities(logged),
    ...createReclaimActivities(logged),
    ...createReclaimNoticeActivities(logged),
    ...createWebhookActivities(logged),
  };
}

export type { ActivityDeps };
