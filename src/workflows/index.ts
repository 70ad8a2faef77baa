/** The workflow bundle's entry: every workflow the worker runs. */
export { zendeskConnect } from './connect';
export { zendeskDisconnect } from './disconnect';
export { zendeskSync } from './sync';
export { housekeeping } from './housekeeping';
export { zendeskOffboard } from './offboard';
export { zendeskReclaim } from './reclaim';
export { webhookDelivery } from './webhookDelivery';
