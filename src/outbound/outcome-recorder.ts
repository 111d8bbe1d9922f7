/**
 * How a job's end is recorded, for whoever reaches it (the outbox that sent it, or the
 * watchdog failing a job nobody can send): the outcome on the job (once: a second recording
 * changes nothing), an `outbound.sent`/`outbound.failed` event on the user's log, the counter,
 * and the removal of the job's BullMQ record, which was only needed while the job was pending.
 */
import type { Queue } from 'bullmq';
import type { GatewayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { NewGatewayEvent } from '../events/types.js';
import type { Metrics } from '../metrics/index.js';
import type { OutboxStore } from './outbox-store.js';
import type { OutboundError, OutboundJobData, OutboundOutcome } from './types.js';

export interface FinishedJob {
  readonly jobId: string;
  readonly data: OutboundJobData;
  readonly outcome: OutboundOutcome;
  /** The message as Rocket.Chat stored it, for `outbound.sent`. */
  readonly message?: unknown;
}

export interface OutcomeRecorderOptions {
  readonly store: OutboxStore;
  readonly eventLog: EventLog;
  /** The BullMQ queue holding the pending jobs' records. */
  readonly queue: Pick<Queue, 'remove'>;
  readonly metrics?: Metrics;
  readonly now?: () => number;
}

export class OutcomeRecorder {
  readonly #options: OutcomeRecorderOptions;

  constructor(options: OutcomeRecorderOptions) {
    this.#options = options;
  }

  /**
   * Records the outcomes of one user's jobs. The events go first, each logged once per job
   * whoever records it: a worker killed between the two steps leaves the job pending, and its
   * successor, recording it again, adds no second event. Throws when Redis does.
   */
  async record(userId: string, jobs: readonly FinishedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const { store, eventLog, queue, metrics } = this.#options;
    const ts = new Date((this.#options.now ?? Date.now)()).toISOString();
    await eventLog.appendBatch(
      userId,
      jobs.map((job) => announcement(job, ts)),
    );
    const recorded = await store.finish(userId, jobs);
    jobs.forEach((job, i) => {
      if (recorded[i]) metrics?.outboundMessages[job.outcome.status === 'sent' ? 'sent' : 'failed'].inc();
    });
    await Promise.all(jobs.map((job) => queue.remove(job.jobId).catch(() => 0)));
  }
}

/** A failure as the caller sees it: a 500's message describes our internals, so it is not shown. */
export function failedOutcome(error: GatewayError): OutboundOutcome {
  const upstream = error.details?.upstreamError;
  const view: OutboundError = {
    code: error.code,
    message: error.status === 500 ? 'Internal error' : error.message,
    ...(typeof upstream === 'string' || typeof upstream === 'number' ? { upstreamError: upstream } : {}),
  };
  return { status: 'failed', error: view };
}

function announcement(job: FinishedJob, ts: string): NewGatewayEvent {
  const { userId, roomId, messageId, kind } = job.data;
  const data: Record<string, unknown> = { id: job.jobId, messageId, kind, status: job.outcome.status };
  if (job.outcome.status === 'failed') data.error = job.outcome.error;
  if (job.message !== undefined) data.message = job.message;
  return {
    type: job.outcome.status === 'sent' ? 'outbound.sent' : 'outbound.failed',
    userId,
    roomId,
    ts,
    // Dates in the message become ISO strings, as in every other event.
    data: JSON.parse(JSON.stringify(data)),
    dedupe: { messageId: `outbound:${job.jobId}`, updatedAtMs: 0, once: true },
  };
}
