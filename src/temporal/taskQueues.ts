/**
 * Webhook deliveries' own task queue, beside TEMPORAL_TASK_QUEUE: the relay starts delivery workflows there
 * (src/webhooks/relay.ts), and each worker process runs a worker of its own for it (src/temporal/worker.ts).
 */
export const webhookTaskQueue = (taskQueue: string) => `${taskQueue}-webhooks`;
