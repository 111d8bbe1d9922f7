/**
 * The outbound queue's safety net. Every accepted job also has a BullMQ job, delayed by the
 * queue's `watchdogMs`; the outbox removes it when the outcome is recorded. One that comes due
 * is a job still pending after that long, which is normal for a user held back by rate limits or
 * an outage and a problem otherwise (no worker holds the session, the notice was lost, the
 * holder was killed before its successor was told). The watchdog makes sure a worker holds the
 * session and looks at its outbox, fails jobs that can never be sent (the user's credentials
 * are gone or rejected), and looks again after another `watchdogMs`.
 */
import { DelayedError, Worker } from 'bullmq';
import { createError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { type Metrics, QUEUE_JOB_STATES } from '../metrics/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import { ControlPublisher } from '../sessions/control-plane.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { SessionLeases } from '../sessions/lease.js';
import { OUTBOUND_QUEUE_NAME, type OutboundBullJob, type OutboundQueue } from './outbound-queue.js';
import { OUTBOX_CONSUMER_ID } from './outbox-store.js';
import { failedOutcome, type OutcomeRecorder } from './outcome-recorder.js';
import type { OutboundJobData, OutboundOutcome } from './types.js';

export interface OutboundWatchdogOptions {
  readonly outbound: OutboundQueue;
  /** BullMQ's connection (it makes its own blocking duplicate); needs `maxRetriesPerRequest: null`. */
  readonly connection: RedisClient;
  /** BullMQ `prefix`: `config.redis.queuePrefix`. */
  readonly queuePrefix: string;
  readonly redis: RedisClient;
  readonly keys: ConstructorParameters<typeof ControlPublisher>[1];
  readonly leases: Pick<SessionLeases, 'owner'>;
  readonly consumers: Pick<ConsumerRegistry, 'register'>;
  readonly credentials: CredentialStore;
  readonly recorder: OutcomeRecorder;
  /** Due jobs looked at at once. @defaultValue 4 */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
}

/** The longest pause between two looks at a job still pending. */
const MAX_LOOK_INTERVAL_MS = 300_000;

export class OutboundWatchdog {
  readonly #options: OutboundWatchdogOptions;
  readonly #worker: Worker<OutboundJobData, OutboundOutcome>;
  readonly #control: ControlPublisher;
  readonly #unwatchQueue: () => void;
  #closing: Promise<void> | undefined;
  /** When each user's sender was last woken: once per half `watchdogMs` is enough for all its jobs. */
  readonly #nudgedAt = new Map<string, number>();

  constructor(options: OutboundWatchdogOptions) {
    this.#options = options;
    this.#control = new ControlPublisher(options.redis, options.keys);
    this.#worker = new Worker<OutboundJobData, OutboundOutcome>(
      OUTBOUND_QUEUE_NAME,
      (job, token) => this.#look(job, token),
      {
        connection: options.connection,
        prefix: options.queuePrefix,
        concurrency: options.concurrency ?? 4,
        // Looking is safe to repeat: a job that stalls because its worker died is looked at again.
        maxStalledCount: 1000,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      },
    );
    const { queue } = options.outbound;
    this.#unwatchQueue =
      options.metrics?.queueJobs.watch(OUTBOUND_QUEUE_NAME, () => queue.getJobCounts(...QUEUE_JOB_STATES)) ??
      (() => {});
    this.#worker.on('error', (err) => options.logger?.warn({ err }, 'outbound watchdog error'));
  }

  async waitUntilReady(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  /** Stops looking (what is due is looked at by another worker, or after a restart). Idempotent. */
  close(force = false): Promise<void> {
    this.#closing ??= (async () => {
      this.#unwatchQueue();
      await this.#worker.close(force).catch((err: unknown) => {
        this.#options.logger?.warn({ err }, 'closing the outbound watchdog failed');
      });
    })();
    return this.#closing;
  }

  #isNudgeDue(userId: string, now: number): boolean {
    const last = this.#nudgedAt.get(userId);
    if (last !== undefined && now - last < this.#options.outbound.watchdogMs / 2) return false;
    this.#nudgedAt.delete(userId);
    this.#nudgedAt.set(userId, now);
    if (this.#nudgedAt.size > 10_000) {
      const oldest = this.#nudgedAt.keys().next().value;
      if (oldest !== undefined) this.#nudgedAt.delete(oldest);
    }
    return true;
  }

  async #look(job: OutboundBullJob, token: string | undefined): Promise<OutboundOutcome> {
    const { userId } = job.data;
    const record = await this.#options.outbound.store.record(userId, job.id!);
    if (record?.outcome) return record.outcome;
    if (!record?.data) {
      // Its record outlived the retention: nothing can be sent or reported any more.
      return failedOutcome(createError('GW_ERR_INTERNAL', 'the job expired before it could be sent'));
    }
    const credential = await this.#options.credentials.load(userId);
    const refusal =
      credential === undefined
        ? createError('GW_ERR_NO_CREDENTIALS')
        : credential.status !== 'valid'
          ? createError('GW_ERR_CREDENTIALS_INVALID')
          : undefined;
    if (refusal) {
      const outcome = failedOutcome(refusal);
      await this.#options.recorder.record(userId, [{ jobId: job.id!, data: record.data, outcome }]);
      return outcome;
    }
    const now = (this.#options.now ?? Date.now)();
    const { watchdogMs } = this.#options.outbound;
    if (this.#isNudgeDue(userId, now)) {
      this.#options.logger?.info(
        { jobId: job.id, userId },
        'outbound jobs still pending: waking their sender',
      );
      // Wanted again (it may have expired), and the holder, if any, told to read its outbox.
      await this.#options.consumers.register(userId, OUTBOX_CONSUMER_ID, [{ kind: 'user' }], {
        ttlMs: this.#options.outbound.wantedMs,
      });
      const owner = await this.#options.leases.owner(userId);
      if (owner) await this.#control.outbound(owner, { kind: 'outbound', userId });
    }
    // A job pending for long is usually held upstream (rate limits, an outage): look at it less
    // often as it ages, so a big backlog does not keep the queue busy.
    const age = Math.max(0, now - job.timestamp);
    await job.moveToDelayed(now + Math.min(MAX_LOOK_INTERVAL_MS, Math.max(watchdogMs, age / 2)), token);
    throw new DelayedError();
  }
}
