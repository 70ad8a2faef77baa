import { createConnectActivities } from './connect';
import type { ActivityDeps } from './deps';
import { createDisconnectActivities } from './disconnect';
import { createSyncActivities } from './sync';

/** Every activity the worker registers, built once from their dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createConnectActivities(deps),
    ...createDisconnectActivities(deps),
    ...createSyncActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps };
