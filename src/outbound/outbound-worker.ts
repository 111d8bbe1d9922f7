/**
 * The consumer side of outbound sending: a BullMQ worker whose processor takes each job through
 * its lane (order per user and room), the user's rate-limit hold, one attempt upstream, and the
 * bookkeeping of the outcome (lane, `outbound.*` event on the user's log, waking the next job).
 *
 * Crash safety: the attempt marker is written before anything is sent, the outcome before the
 * job completes. A worker killed in between leaves a job that BullMQ's stalled check hands to
 * another worker, which sees the marker and looks the message up before sending (job-runner.ts).
 */
import { DelayedError, Worker } from 'bullmq';
import { type Clock, delay, systemClock } from '../clock.js';
import type { GatewayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { Logger } from '../log/index.js';
import { type Metrics, QUEUE_JOB_STATES } from '../metrics/index.js';
import type { RedisClient } from '../redis/connection.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { SessionPool } from '../sessions/session-pool.js';
import { outboundBackoffMs } from './backoff.js';
import { EphemeralWatch } from './ephemeral-watch.js';
import { type AttemptResult, JobRunner } from './job-runner.js';
import {
  OUTBOUND_BACKOFF_TYPE,
  OUTBOUND_QUEUE_NAME,
  type OutboundBullJob,
  type OutboundQueue,
} from './outbound-queue.js';
import type { OutboundError, OutboundJobData, OutboundOutcome } from './types.js';

export interface OutboundWorkerOptions {
  /** The producer side: its queue, lanes and retention are shared. */
  readonly outbound: OutboundQueue;
  /** BullMQ's connection (it makes its own blocking duplicate); needs `maxRetriesPerRequest: null`. */
  readonly connection: RedisClient;
  /** BullMQ `prefix`: `config.redis.queuePrefix`. */
  readonly queuePrefix: string;
  readonly calls: Pick<CallRouter, 'call'>;
  readonly credentials: CredentialStore;
  readonly rest: RocketChatRestClient;
  readonly eventLog: EventLog;
  readonly consumers: ConsumerRegistry;
  /** This process's pool, if it has one: a local session learns the ephemeral topic at once. */
  readonly pool?: SessionPool;
  /** `config.outbound.concurrency`: jobs in progress at once in this process. */
  readonly concurrency: number;
  /** One DDP call. @defaultValue 15000 */
  readonly callTimeoutMs?: number;
  /** See `JobRunnerOptions.unknownOutcomeWaitMs`. @defaultValue 3000 */
  readonly unknownOutcomeWaitMs?: number;
  /** A job whose attempts leave no trace upstream this many times is failed. @defaultValue 3 */
  readonly maxSilentAttempts?: number;
  /** BullMQ lock; a job held by a dead worker is re-run after about this long. @defaultValue 30000 */
  readonly lockDurationMs?: number;
  /** BullMQ stalled-job check interval. @defaultValue 30000 */
  readonly stalledIntervalMs?: number;
  /** Longest pause between retries of an upstream outage. @defaultValue 60000 */
  readonly maxBackoffMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
}

export type OutboundWorkerState = 'running' | 'closing' | 'closed';

export class OutboundWorker {
  readonly #options: OutboundWorkerOptions;
  readonly #worker: Worker<OutboundJobData, OutboundOutcome>;
  readonly #runner: JobRunner;
  readonly #watch: EphemeralWatch;
  readonly #clock: Clock;
  #state: OutboundWorkerState = 'running';
  #closing: Promise<void> | undefined;
  readonly #unwatchQueue: () => void;

  constructor(options: OutboundWorkerOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#runner = new JobRunner({
      calls: options.calls,
      credentials: options.credentials,
      rest: options.rest,
      eventLog: options.eventLog,
      clock: this.#clock,
      ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
      ...(options.unknownOutcomeWaitMs === undefined
        ? {}
        : { unknownOutcomeWaitMs: options.unknownOutcomeWaitMs }),
    });
    this.#watch = new EphemeralWatch({
      consumers: options.consumers,
      ...(options.pool ? { pool: options.pool } : {}),
      now: () => this.#clock.now(),
    });
    const maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.#worker = new Worker<OutboundJobData, OutboundOutcome>(
      OUTBOUND_QUEUE_NAME,
      (job, token) => this.#process(job, token),
      {
        connection: options.connection,
        prefix: options.queuePrefix,
        concurrency: options.concurrency,
        lockDuration: options.lockDurationMs ?? 30_000,
        stalledInterval: options.stalledIntervalMs ?? 30_000,
        // Re-running a job is safe (the marker makes it look before it sends), so a job that
        // stalls because its worker died is always given to another worker.
        maxStalledCount: 1000,
        settings: {
          backoffStrategy: (attemptsMade, type) =>
            type === OUTBOUND_BACKOFF_TYPE ? outboundBackoffMs(attemptsMade, maxBackoffMs) : 1000,
        },
      },
    );
    // Worker roles export the queue's size, like the webhook queue's: `gateway_queue_jobs{queue="outbound"}`.
    const { queue } = options.outbound;
    this.#unwatchQueue =
      options.metrics?.queueJobs.watch(OUTBOUND_QUEUE_NAME, () => queue.getJobCounts(...QUEUE_JOB_STATES)) ??
      (() => {});
    this.#worker.on('error', (err) => options.logger?.warn({ err }, 'outbound worker error'));
    this.#worker.on('failed', (job, err) => {
      // Only BullMQ itself fails a job (a processor failure becomes an outcome): free its lane.
      if (job) void this.#afterBullFailure(job, err);
    });
  }

  get state(): OutboundWorkerState {
    return this.#state;
  }

  /** Resolves when the worker is connected and taking jobs. */
  async waitUntilReady(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  /**
   * Stops taking jobs and waits for the ones in progress (`force`: does not wait; they are
   * re-run elsewhere after their lock lapses, safely). Idempotent; the connection stays open.
   */
  close(force = false): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      this.#unwatchQueue();
      try {
        await this.#worker.close(force);
      } catch (err) {
        this.#options.logger?.warn({ err }, 'closing the outbound worker failed');
      } finally {
        this.#state = 'closed';
      }
    })();
    return this.#closing;
  }

  async #process(job: OutboundBullJob, token: string | undefined): Promise<OutboundOutcome> {
    const data = job.data;
    const { lanes, parkMs } = this.#options.outbound;
    for (;;) {
      const begin = await lanes.begin(data.userId, data.roomId, job.id!);
      switch (begin.kind) {
        case 'done':
          // A re-run after the outcome was recorded: report it again, complete the job.
          await this.#announce(job, begin.outcome);
          return begin.outcome;
        case 'limited':
          return this.#delay(job, token, begin.retryAfterMs);
        case 'wait': {
          if (await this.#clearStaleHead(data, begin.headJobId)) continue;
          // Parked; the job ahead promotes this one when it finishes. The wait grows with each
          // wake-up that finds the lane still busy, so a long queue costs little while it waits.
          return this.#park(job, token, Math.min(parkMs * Math.max(1, job.attemptsStarted), parkMs * 8));
        }
        case 'go':
          break;
      }
      if (data.kind === 'send') await this.#watch.ensure(data.userId).catch(() => {});
      let result: AttemptResult;
      try {
        result = await this.#runner.run(data, begin.previousAttemptMs !== undefined, begin.logMark);
      } catch (err) {
        result = { kind: 'retry', error: mapUpstreamError(err) };
      }
      return this.#conclude(job, token, result);
    }
  }

  async #conclude(
    job: OutboundBullJob,
    token: string | undefined,
    result: AttemptResult,
  ): Promise<OutboundOutcome> {
    const { metrics } = this.#options;
    switch (result.kind) {
      case 'sent':
        return this.#finish(job, { status: 'sent' }, result.message);
      case 'failed':
        return this.#finish(job, failed(result.error));
      case 'rate-limited':
        // Rocket.Chat named the wait: hold every send of this user (other users go on).
        await this.#options.outbound.lanes.holdUser(job.data.userId, result.retryAfterMs);
        metrics?.outboundMessages.retried.inc();
        return this.#delay(job, token, result.retryAfterMs);
      case 'retry': {
        const attempt = job.attemptsMade + 1;
        const maxAttempts = job.opts.attempts ?? 1;
        const maxSilent = this.#options.maxSilentAttempts ?? 3;
        if (attempt >= maxAttempts || (result.isSilent && attempt >= maxSilent)) {
          return this.#finish(job, failed(result.error));
        }
        metrics?.outboundMessages.retried.inc();
        this.#options.logger?.debug(
          { jobId: job.id, attempt, err: result.error },
          'outbound attempt will be retried',
        );
        // BullMQ retries it after `outboundBackoffMs`; it stays the head of its lane meanwhile.
        throw result.error;
      }
    }
  }

  async #finish(job: OutboundBullJob, outcome: OutboundOutcome, message?: unknown): Promise<OutboundOutcome> {
    const { userId, roomId } = job.data;
    const next = await this.#options.outbound.lanes.finish(userId, roomId, job.id!, outcome);
    await Promise.all([next ? this.#wake(next) : undefined, this.#announce(job, outcome, message)]);
    this.#options.metrics?.outboundMessages[outcome.status === 'sent' ? 'sent' : 'failed'].inc();
    return outcome;
  }

  /** The outcome as an event on the user's log: SSE clients and webhooks hear of it. */
  async #announce(job: OutboundBullJob, outcome: OutboundOutcome, message?: unknown): Promise<void> {
    const { userId, roomId, messageId, kind } = job.data;
    const data: Record<string, unknown> = { id: job.id, messageId, kind, status: outcome.status };
    if (outcome.status === 'failed') data.error = outcome.error;
    if (message !== undefined) data.message = message;
    try {
      await this.#options.eventLog.append({
        type: outcome.status === 'sent' ? 'outbound.sent' : 'outbound.failed',
        userId,
        roomId,
        ts: new Date(this.#clock.now()).toISOString(),
        // Dates in the message become ISO strings, as in every other event.
        data: JSON.parse(JSON.stringify(data)),
      });
    } catch (err) {
      // The outcome is recorded and visible at GET /v1/messages/:id; only the event is lost.
      this.#options.logger?.warn({ err, jobId: job.id }, 'could not log the outbound outcome event');
    }
  }

  /**
   * Promotes the next job of the lane. It may not exist yet (its accept is between its place in
   * the lane and its add): look again a few times before leaving it to its own park timeout.
   */
  async #wake(jobId: string): Promise<void> {
    if (await this.#options.outbound.promote(jobId).catch(() => true)) return;
    void (async () => {
      for (const pauseMs of [50, 200, 1000]) {
        await delay(this.#clock, pauseMs);
        if (await this.#options.outbound.promote(jobId).catch(() => false)) return;
      }
    })();
  }

  /**
   * Parks a job that is not its lane's head. The head may finish while this job is still active
   * (deciding to park): its wake-up then finds no parked job to promote and is lost, and this
   * job would sleep its whole park. So once parked, it looks at the lane again and wakes itself
   * if it has become the head meanwhile; a finish after that look finds it parked.
   */
  async #park(job: OutboundBullJob, token: string | undefined, ms: number): Promise<never> {
    const { outbound } = this.#options;
    await job.moveToDelayed(this.#clock.now() + Math.max(1, Math.ceil(ms)), token);
    if ((await outbound.lanes.head(job.data.userId, job.data.roomId)) === job.id)
      await outbound.promote(job.id!);
    throw new DelayedError();
  }

  async #delay(job: OutboundBullJob, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(this.#clock.now() + Math.max(1, Math.ceil(ms)), token);
    throw new DelayedError();
  }

  /** A head that can never pop itself (its job is gone or already final) is dropped. */
  async #clearStaleHead(data: OutboundJobData, headJobId: string): Promise<boolean> {
    const { outbound } = this.#options;
    const head = await outbound.queue.getJob(headJobId);
    const isStale = head
      ? head.finishedOn !== undefined && head.finishedOn > 0
      : await this.#isGhost(headJobId);
    return isStale ? outbound.lanes.dropHead(data.userId, data.roomId, headJobId) : false;
  }

  /** A lane entry without a job: wait a moment, as its accept may be between its two writes. */
  async #isGhost(jobId: string): Promise<boolean> {
    await delay(this.#clock, 1000);
    return (await this.#options.outbound.queue.getJob(jobId)) === undefined;
  }

  async #afterBullFailure(job: OutboundBullJob, err: Error): Promise<void> {
    if (job.finishedOn === undefined) return;
    const outcome: OutboundOutcome = {
      status: 'failed',
      error: { code: 'GW_ERR_INTERNAL', message: 'the job could not be completed' },
    };
    this.#options.logger?.warn({ err, jobId: job.id }, 'outbound job failed in the queue');
    try {
      await this.#finish(job, outcome);
    } catch (finishErr) {
      this.#options.logger?.warn(
        { err: finishErr, jobId: job.id },
        'could not free the lane of a failed job',
      );
    }
  }
}

function failed(error: GatewayError): OutboundOutcome {
  const upstream = error.details?.upstreamError;
  const view: OutboundError = {
    code: error.code,
    // A 500's message describes our internals: the registry's text is shown instead.
    message: error.status === 500 ? 'Internal error' : error.message,
    ...(typeof upstream === 'string' || typeof upstream === 'number' ? { upstreamError: upstream } : {}),
  };
  return { status: 'failed', error: view };
}
