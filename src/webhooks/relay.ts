import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { WebhookSettings } from '../config';
import type { Db } from '../db/database';
import { deliveriesToStart, markWorkflowStarted } from '../db/repositories/webhooks';
import type { Logger } from '../logger';
import { webhookSearchAttributesFor } from '../temporal/searchAttributes';
import { webhookTaskQueue } from '../temporal/taskQueues';
import { webhookDelivery, webhookDeliveryWorkflowId } from '../workflows/webhookDelivery';

/** The relay's batch: deliveries started per look. */
const BATCH = 200;
/** Each delay of the retry schedule is spread by ±20 %, so endpoints that failed together do not retry together. */
const JITTER = 0.2;

/**
 * The outbox relay: starts a delivery workflow for each delivery the triggers (or the API) recorded. Runs in
 * every worker process. A transaction cannot start a workflow, so the outbox is how "recorded with the change"
 * and "delivered durably by Temporal" meet. Starting is idempotent: the workflow id is the delivery's, a
 * second relay (another worker, or this one after a crash between start and mark) gets "already started",
 * and an attempt of a delivery that is no longer pending sends nothing. No row lock is held while Temporal
 * is called. It polls (every WEBHOOK_RELAY_INTERVAL, 200 ms by default) an index of the deliveries still to
 * start, which is empty nearly always: cheaper to keep right than a LISTEN connection per worker.
 */
/** `taskQueue`: the deployment's TEMPORAL_TASK_QUEUE; deliveries start on its webhook queue. */
export function startWebhookRelay(deps: { db: Db; temporal: Client; taskQueue: string; settings: WebhookSettings; logger: Logger }): { stop(): Promise<void> } {
  const { db, temporal, settings, logger } = deps;
  let stopped = false;
  let wake: (() => void) | undefined;
  let failures = 0;

  const startOne = async (d: { id: string; tenant_id: string; type: string; url: string; integration_id: string | null }) => {
    try {
      await temporal.workflow.start(webhookDelivery, {
        taskQueue: webhookTaskQueue(deps.taskQueue),
        workflowId: webhookDeliveryWorkflowId(d.id),
        args: [{ deliveryId: d.id, scheduleMs: settings.retryScheduleMs, jitter: JITTER }],
        typedSearchAttributes: webhookSearchAttributesFor({ tenantId: d.tenant_id, type: d.type, integrationId: d.integration_id }),
        staticSummary: `Deliver ${d.type} to ${new URL(d.url).host}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return d.id;
  };

  const loop = async () => {
    while (!stopped) {
      let started = 0;
      try {
        const due = await deliveriesToStart(db, BATCH);
        // In order, a few at a time: events of one endpoint start in the order they happened.
        for (let i = 0; i < due.length; i += 20) {
          const ids = await Promise.all(due.slice(i, i + 20).map(startOne));
          await markWorkflowStarted(db, ids);
          started += ids.length;
        }
        failures = 0;
      } catch (err) {
        failures++;
        // Logged once per outage, not per look; the next look retries.
        if (failures === 1) logger.warn({ err }, 'webhook relay: could not start deliveries (retrying)');
      }
      if (started === BATCH) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, failures ? Math.min(10_000, settings.relayIntervalMs * 2 ** failures) : settings.relayIntervalMs).unref();
      });
    }
  };
  const running = loop();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
