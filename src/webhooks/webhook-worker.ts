/**
 * The worker side of webhooks, for the composition root: the dispatcher (log -> jobs), the BullMQ
 * worker (jobs -> HTTP), the credential gate (pause/resume) and a queue-size collector, started
 * together and closed together.
 *
 * Per-endpoint concurrency. BullMQ's group concurrency is a Pro feature, so it is done here with
 * a Redis semaphore per endpoint (`delivery-ledger.ts`): a job that finds its endpoint at the
 * limit is put back in the delayed set for a few ms (no attempt counted) and the worker slot goes
 * to the next job. One queue with one worker per process was chosen over one queue per endpoint
 * because the latter needs a blocking Redis connection per endpoint per process and a worker to
 * be started and stopped as webhooks come and go; the semaphore costs nothing when the endpoint
 * is under its limit (it is read in the same script as the webhook record) and a slow receiver
 * holds at most `concurrencyPerEndpoint` worker slots cluster-wide, so it cannot starve others.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { GatewayConfig } from '../config/index.js';
import type { EventLog } from '../events/event-log.js';
import type { LiveHub } from '../events/live-hub.js';
import type { Logger } from '../log/index.js';
import { createNoopMetrics, type Metrics, QUEUE_JOB_STATES } from '../metrics/index.js';
import type { OutboundQueue } from '../outbound/outbound-queue.js';
import { duplicateClient, type RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { TokenCipher } from '../sessions/token-cipher.js';
import { CredentialGate } from './credential-gate.js';
import { DeliveryClient } from './delivery-client.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { DeliveryProcessor } from './delivery-processor.js';
import { DirectAttempts } from './direct-attempts.js';
import { WebhookDispatcher } from './dispatcher.js';
import { checkEvictionPolicy } from './eviction-policy.js';
import { createGuardedAgent, type LookupFunction } from './guarded-agent.js';
import { RoomNameCache } from './room-names.js';
import { WebhookSigner } from './signer.js';
import {
  createWebhookQueue,
  DEFAULT_RETENTION,
  type DeliveryJobRetention,
  WEBHOOK_QUEUE_NAME,
  type WebhookJobData,
} from './webhook-queue.js';
import { WebhookStore } from './webhook-store.js';
import { withPlainDuplicates } from './worker-connection.js';

/** Tuning knobs; the defaults suit production. Tests shorten the timings. */
export interface WebhookWorkerOptions {
  /** Deliveries in flight per process (all endpoints). @defaultValue 32 */
  readonly concurrency?: number;
  /** BullMQ job lock; a killed worker's jobs are retried after it expires. @defaultValue 30000 */
  readonly lockDurationMs?: number;
  /** How often BullMQ looks for jobs whose worker died. @defaultValue 30000 */
  readonly stalledIntervalMs?: number;
  /** Worker deaths a job survives before it fails. @defaultValue 3 */
  readonly maxStalledCount?: number;
  /** Dispatch lease; a dead dispatcher's users are taken over after it. @defaultValue 10000 */
  readonly dispatchLeaseTtlMs?: number;
  /** Owned logs are re-read this often without a notice. @defaultValue 30000 */
  readonly safetySweepMs?: number;
  /** @defaultValue 500 */
  readonly dispatchBatchSize?: number;
  /** Run the dispatcher in this process. @defaultValue true */
  readonly isDispatchEnabled?: boolean;
  /**
   * First attempts made by the dispatcher itself, without the queue's hand-over
   * (direct-attempts.ts); false sends every job through the queue. @defaultValue true
   */
  readonly isDirectAttemptEnabled?: boolean;
  /** First attempts in flight at once in the dispatcher, besides the workers' `concurrency`. @defaultValue concurrency */
  readonly directConcurrency?: number;
  /** How long a dispatch pass waits for a free first attempt before queueing the rest. @defaultValue 1000 */
  readonly directWaitMs?: number;
  /** @defaultValue 1000 */
  readonly credentialCacheMs?: number;
  /** @defaultValue 2000 */
  readonly resumeCheckMs?: number;
  /** @defaultValue 600000 */
  readonly pausedRecheckMs?: number;
  /** @defaultValue 21600000 (6 h) */
  readonly maxRetryAfterMs?: number;
  /** @defaultValue DEFAULT_RETENTION */
  readonly retention?: DeliveryJobRetention;
  /** @defaultValue 100 */
  readonly maxAttemptRecords?: number;
  /** @defaultValue 10000 */
  readonly maxDeadLetters?: number;
  /** How often queue sizes are read into `gateway_queue_jobs`; 0 turns it off. @defaultValue 15000 */
  readonly queueMetricsIntervalMs?: number;
  /** DNS for the SSRF guard. @defaultValue dns.lookup */
  readonly lookup?: LookupFunction;
}

/**
 * The connections the worker runs on besides the shared client, made by its caller (in the
 * gateway, `createCore`'s `connection` and `subscriber`) and closed by the worker.
 */
export interface WebhookConnections {
  /**
   * The hot path (two scripts per attempt from every concurrent job, the dispatcher's reads),
   * auto-pipelined: commands issued in the same tick go out in one write, which measurably cut
   * the CPU per delivery (socket writes were its largest item).
   */
  readonly commands: RedisClient;
  /**
   * The BullMQ worker's connection (it needs `maxRetriesPerRequest: null`, as every gateway client
   * has): its non-blocking commands run here, and its blocking read on a duplicate BullMQ opens.
   * Best auto-pipelined: the worker keeps that off for the duplicate (`withPlainDuplicates`).
   */
  readonly blocking: RedisClient;
  /** The dispatcher's Pub/Sub (webhook changes). */
  readonly subscriber: Redis;
}

export interface WebhookWorkerDeps {
  /** The shared client (the BullMQ queue and the eviction check use it); it stays open. */
  readonly redis: RedisClient;
  readonly connections: WebhookConnections;
  readonly keys: GatewayKeys;
  readonly config: Pick<GatewayConfig, 'webhooks' | 'redis' | 'workerId' | 'rocketchat'>;
  readonly eventLog: EventLog;
  readonly liveHub: LiveHub;
  readonly credentials: Pick<CredentialStore, 'load'>;
  /** Opens the stored webhook secrets (the same cipher as the credential store's). */
  readonly cipher: TokenCipher;
  /** Re-registers claimed users' webhooks as durable consumers (self-healing). */
  readonly consumers?: ConsumerRegistry;
  /** Posts the replies of `rocketchat` webhooks (the gateway's outbound queue). */
  readonly outbound?: Pick<OutboundQueue, 'accept'>;
  /** Asks Rocket.Chat for room names (`channel_name` of `rocketchat` bodies). */
  readonly calls?: Pick<CallRouter, 'call'>;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly options?: WebhookWorkerOptions;
}

type WorkerState = 'running' | 'closing' | 'closed';

/** What `close()` shuts down besides the dispatcher and the BullMQ worker. */
interface WebhookWorkerParts {
  readonly gate: CredentialGate;
  readonly client: DeliveryClient;
  readonly queue: ReturnType<typeof createWebhookQueue>;
  /** The queue the dispatcher's first attempts finish through, and its own connection (Cluster only). */
  readonly directMoves:
    | { readonly queue: ReturnType<typeof createWebhookQueue>; readonly connection: RedisClient | undefined }
    | undefined;
  readonly blocking: RedisClient;
  /** The auto-pipelining connection of the ledger, store, gate and dispatcher. */
  readonly commands: RedisClient;
  readonly metricsTimer: TimerHandle | undefined;
  readonly clock: Clock;
}

export class WebhookWorker {
  readonly dispatcher: WebhookDispatcher | undefined;
  readonly worker: Worker<WebhookJobData>;
  /** The dispatcher's first attempts (undefined when it is off). */
  readonly direct: DirectAttempts | undefined;
  readonly #parts: WebhookWorkerParts;
  #state: WorkerState = 'running';
  #closing: Promise<void> | undefined;

  /** @internal Use `startWebhookWorkers`. */
  constructor(
    dispatcher: WebhookDispatcher | undefined,
    worker: Worker<WebhookJobData>,
    direct: DirectAttempts | undefined,
    parts: WebhookWorkerParts,
  ) {
    this.dispatcher = dispatcher;
    this.worker = worker;
    this.direct = direct;
    this.#parts = parts;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /**
   * Stops dispatching (releasing dispatch leases at once), lets attempts in flight finish (each
   * is bounded by `webhooks.timeoutMs`), then closes connections. Every step runs even if an
   * earlier one fails; the errors are thrown together at the end. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      const { gate, client, queue, directMoves, blocking, commands, metricsTimer, clock } = this.#parts;
      clock.clearInterval(metricsTimer);
      const errors: unknown[] = [];
      const step = async (fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      };
      await step(async () => this.dispatcher?.close());
      // The dispatcher's own attempts finish through the queue and the worker: before they close.
      await step(async () => this.direct?.close());
      await step(() => gate.close());
      await step(() => this.worker.close());
      await step(() => client.close());
      await step(() => queue.close());
      await step(async () => directMoves?.queue.close());
      const movesConnection = directMoves?.connection;
      await step(async () => movesConnection?.quit().catch(() => movesConnection.disconnect()));
      await step(() => blocking.quit().catch(() => blocking.disconnect()));
      await step(() => commands.quit().catch(() => commands.disconnect()));
      this.#state = 'closed';
      if (errors.length > 0) throw new AggregateError(errors, 'webhook worker closed with errors');
    })();
    return this.#closing;
  }
}

/** Starts dispatch and delivery in this process. Close the result on shutdown. */
export async function startWebhookWorkers(deps: WebhookWorkerDeps): Promise<WebhookWorker> {
  const { redis, keys, config, eventLog, liveHub, credentials, cipher } = deps;
  const options = deps.options ?? {};
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createNoopMetrics();
  const logger = deps.logger?.child({ component: 'webhooks' });
  const webhooks = config.webhooks;
  const retention = options.retention ?? DEFAULT_RETENTION;

  try {
    await checkEvictionPolicy(redis, logger);
  } catch (err) {
    // The connections were handed over: closing them is this function's job even when it fails.
    for (const connection of Object.values(deps.connections)) connection.disconnect();
    throw err;
  }

  const { commands, blocking, subscriber } = deps.connections;
  // A connection without an error listener prints "Unhandled error event" on a Redis outage.
  // ioredis reconnects by itself; the error is only worth a debug line.
  const onConnectionError = (err: Error): void =>
    logger?.debug({ err: { message: err.message } }, 'webhook redis error');
  commands.on('error', onConnectionError);
  const store = new WebhookStore({ redis: commands, keys, cipher });
  const ledger = new DeliveryLedger({
    redis: commands,
    keys,
    ...(options.maxAttemptRecords === undefined ? {} : { maxAttemptRecords: options.maxAttemptRecords }),
    ...(options.maxDeadLetters === undefined ? {} : { maxDeadLetters: options.maxDeadLetters }),
  });
  const queue = createWebhookQueue(redis, config.redis.queuePrefix);
  queue.on('error', (err) => logger?.error({ err }, 'webhook queue error'));
  const gate = new CredentialGate({
    redis: commands,
    keys,
    credentials,
    queue,
    clock,
    ...(logger ? { logger } : {}),
    ...(options.credentialCacheMs === undefined ? {} : { validCacheMs: options.credentialCacheMs }),
    ...(options.resumeCheckMs === undefined ? {} : { resumeCheckMs: options.resumeCheckMs }),
    ...(options.pausedRecheckMs === undefined ? {} : { pausedRecheckMs: options.pausedRecheckMs }),
  });
  const client = new DeliveryClient({
    agent: createGuardedAgent({
      isPrivateTargetAllowed: webhooks.isPrivateTargetAllowed,
      connectTimeoutMs: webhooks.timeoutMs,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    }),
    clock,
  });
  const processor = new DeliveryProcessor({
    store,
    ledger,
    gate,
    client,
    signer: new WebhookSigner(),
    eventLog,
    config: webhooks,
    metrics,
    clock,
    siteUrl: config.rocketchat.url,
    ...(deps.outbound ? { replies: deps.outbound } : {}),
    ...(deps.calls ? { roomName: new RoomNameCache({ calls: deps.calls, clock }).lookup } : {}),
    ...(logger ? { logger } : {}),
    ...(options.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: options.maxRetryAfterMs }),
  });

  blocking.on('error', onConnectionError);
  const worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE_NAME, processor.process, {
    connection: withPlainDuplicates(blocking),
    prefix: config.redis.queuePrefix,
    concurrency: options.concurrency ?? 32,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 3,
    removeOnComplete: retention.completed,
    removeOnFail: retention.failed,
    settings: { backoffStrategy: processor.backoff },
    name: config.workerId,
  });
  worker.on('error', (err) => logger?.error({ err }, 'webhook worker error'));

  let dispatcher: WebhookDispatcher | undefined;
  let direct: DirectAttempts | undefined;
  let directMoves: WebhookWorkerParts['directMoves'];
  if (options.isDispatchEnabled ?? true) {
    if (options.isDirectAttemptEnabled ?? true) {
      // First attempts' moves go through the ledger's connection on one Redis: a successful
      // attempt's move then leaves in the same write as its `finish`, right behind it (Redis runs
      // a connection's commands in order), instead of a round trip later on a connection of its
      // own, one write per move (bench/RESULTS.md, webhooks eighth pass). Its writes are coalesced
      // by corking (coalesced-writes.ts), which copies nothing per flush. On a Cluster, whose
      // auto-pipelining copies every script defined on the client (BullMQ's ~65) onto each
      // pipeline it builds, they keep a plain connection of their own and follow the finish's reply.
      const isOneRedis = commands instanceof Redis;
      const own = isOneRedis ? undefined : duplicateClient(blocking, { enableAutoPipelining: false });
      own?.on('error', onConnectionError);
      directMoves = { queue: createWebhookQueue(own ?? commands, config.redis.queuePrefix), connection: own };
      directMoves.queue.on('error', (err) => logger?.error({ err }, 'webhook queue error'));
      direct = new DirectAttempts({
        redis: commands,
        worker,
        queue: directMoves.queue,
        isMoveSentWithFinish: isOneRedis,
        processor,
        concurrency: options.directConcurrency ?? options.concurrency ?? 32,
        lockDurationMs: options.lockDurationMs ?? 30_000,
        ...(options.directWaitMs === undefined ? {} : { waitMs: options.directWaitMs }),
        clock,
        ...(logger ? { logger } : {}),
      });
    }
    dispatcher = new WebhookDispatcher({
      redis: commands,
      subscriber: subscriber.on('error', onConnectionError),
      keys,
      eventLog,
      liveHub,
      store,
      ledger,
      queue,
      ...(direct ? { direct } : {}),
      ...(deps.consumers ? { consumers: deps.consumers } : {}),
      workerId: config.workerId,
      retryScheduleMs: webhooks.retryScheduleMs,
      retention,
      clock,
      ...(logger ? { logger } : {}),
      ...(options.dispatchLeaseTtlMs === undefined ? {} : { leaseTtlMs: options.dispatchLeaseTtlMs }),
      ...(options.safetySweepMs === undefined ? {} : { safetySweepMs: options.safetySweepMs }),
      ...(options.dispatchBatchSize === undefined ? {} : { batchSize: options.dispatchBatchSize }),
    });
  } else {
    // Nothing here listens: the connection handed over for the dispatcher is not needed.
    subscriber.disconnect();
  }

  const metricsInterval = options.queueMetricsIntervalMs ?? 15_000;
  const metricsTimer =
    metricsInterval > 0
      ? clock.setInterval(
          () => void collectQueueMetrics(queue, metrics).catch(() => undefined),
          metricsInterval,
        )
      : undefined;
  metricsTimer?.unref();

  const handle = new WebhookWorker(dispatcher, worker, direct, {
    gate,
    client,
    queue,
    directMoves,
    blocking,
    commands,
    metricsTimer,
    clock,
  });
  try {
    await worker.waitUntilReady();
    gate.start();
    await dispatcher?.start();
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return handle;
}

async function collectQueueMetrics(
  queue: ReturnType<typeof createWebhookQueue>,
  metrics: Metrics,
): Promise<void> {
  const counts = await queue.getJobCounts(...QUEUE_JOB_STATES);
  for (const state of QUEUE_JOB_STATES)
    metrics.queueJobs.labels(WEBHOOK_QUEUE_NAME, state).set(counts[state] ?? 0);
}
