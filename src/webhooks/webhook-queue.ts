/**
 * The BullMQ queue of webhook deliveries: one job per (webhook, event). Producers (the
 * dispatcher, `test`, `replay`) and the processor share the job shape and options from here.
 *
 * Job ids are `<webhookId>.<eventId>`: BullMQ refuses `:` in custom ids (`Custom Id cannot
 * contain :`, bullmq `Job.validateOptions`), and `.` appears in neither part. Adding a job whose
 * id exists is a no-op in BullMQ, which is what makes a re-dispatch after a crash harmless, as
 * long as the first job is still kept: hence `removeOnComplete` by age, not only by count.
 */

import { type JobsOptions, type KeepJobs, Queue } from 'bullmq';
import type { RedisClient } from '../redis/connection.js';

export const WEBHOOK_QUEUE_NAME = 'webhooks';
/** The custom backoff type the worker's `backoffStrategy` answers to. */
export const WEBHOOK_BACKOFF_TYPE = 'webhook-schedule';

export interface WebhookJobData {
  readonly webhookId: string;
  readonly userId: string;
  /** The event id: `webhook-id` on every attempt of this delivery. */
  readonly eventId: string;
  readonly eventType: string;
  /** When the event was logged (ms): dead letters are ordered and replayed by it. */
  readonly eventTimeMs: number;
  /** The envelope, byte for byte as logged (SSE `data:` is the same bytes). */
  readonly payload: string;
}

export interface DeliveryJobRetention {
  /**
   * Completed jobs kept. Long enough (by age) for a crashed dispatcher's successor to re-add the
   * same batch and be deduplicated; bounded by count so Redis memory stays bounded.
   * @defaultValue { age: 3600, count: 100000 }
   */
  readonly completed: KeepJobs;
  /** Failed jobs kept. Dead letters live in the ledger, so BullMQ's copy can be short. @defaultValue { age: 86400, count: 10000 } */
  readonly failed: KeepJobs;
}

export const DEFAULT_RETENTION: DeliveryJobRetention = {
  completed: { age: 3600, count: 100_000 },
  failed: { age: 86_400, count: 10_000 },
};

export function deliveryJobId(webhookId: string, eventId: string): string {
  return `${webhookId}.${eventId}`;
}

/** A replay is a new delivery of the same event: a new job, same `webhook-id`. */
export function replayJobId(webhookId: string, eventId: string, failedAtMs: number): string {
  return `${webhookId}.${eventId}.r${failedAtMs}`;
}

/** Options for every delivery job: attempts from the retry schedule, our backoff, bounded retention. */
export function deliveryJobOptions(
  jobId: string,
  retryScheduleMs: readonly number[],
  retention: DeliveryJobRetention = DEFAULT_RETENTION,
): JobsOptions & { readonly jobId: string } {
  return {
    jobId,
    attempts: retryScheduleMs.length + 1,
    backoff: { type: WEBHOOK_BACKOFF_TYPE },
    removeOnComplete: retention.completed,
    removeOnFail: retention.failed,
  };
}

/** The queue, on the gateway's BullMQ prefix (`config.redis.queuePrefix`). Close it when done. */
export function createWebhookQueue(redis: RedisClient, prefix: string): Queue<WebhookJobData> {
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE_NAME, { connection: redis, prefix });
}
