/**
 * The sending half of outbound, as a worker runs it: the outbox that sends the jobs of the
 * sessions this worker holds, and the watchdog that backs it. Built in one place for the
 * gateway, the tests and the benchmarks.
 */
import type { Clock } from '../clock.js';
import type { EventLog } from '../events/event-log.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { SessionLeases } from '../sessions/lease.js';
import type { SessionPool } from '../sessions/session-pool.js';
import { JobRunner } from './job-runner.js';
import type { OutboundQueue } from './outbound-queue.js';
import { OutboundWatchdog } from './outbound-watchdog.js';
import { Outbox, type OutboxOptions } from './outbox.js';
import { OutcomeRecorder } from './outcome-recorder.js';

export interface OutboundSendingOptions {
  readonly outbound: OutboundQueue;
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly queuePrefix: string;
  readonly pool: SessionPool;
  readonly calls: Pick<CallRouter, 'setOutboundListener'>;
  readonly leases: Pick<SessionLeases, 'owner'>;
  readonly consumers: ConsumerRegistry;
  readonly credentials: CredentialStore;
  readonly rest: RocketChatRestClient;
  readonly eventLog: EventLog;
  /** `OUTBOUND_CONCURRENCY`: calls in flight per session. */
  readonly window: number;
  /** `OUTBOUND_MAX_ATTEMPTS`. */
  readonly maxAttempts: number;
  readonly outbox?: Partial<Pick<OutboxOptions, 'callTimeoutMs' | 'maxBackoffMs' | 'maxSilentAttempts'>>;
  /** See `JobRunnerOptions.unknownOutcomeWaitMs`. */
  readonly unknownOutcomeWaitMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
}

export interface OutboundSending {
  readonly outbox: Outbox;
  readonly watchdog: OutboundWatchdog;
  waitUntilReady(): Promise<void>;
  /** Lets the calls in flight finish (up to `drainMs`), then stops. Idempotent. */
  close(drainMs?: number): Promise<void>;
}

export function startOutboundSending(options: OutboundSendingOptions): OutboundSending {
  const { outbound, logger, metrics, clock } = options;
  const withClock = clock ? { clock } : {};
  const withNow = clock ? { now: () => clock.now() } : {};
  const recorder = new OutcomeRecorder({
    store: outbound.store,
    eventLog: options.eventLog,
    queue: outbound.queue,
    ...(metrics ? { metrics } : {}),
    ...withNow,
  });
  const runner = new JobRunner({
    credentials: options.credentials,
    rest: options.rest,
    eventLog: options.eventLog,
    ...withClock,
    ...(options.unknownOutcomeWaitMs === undefined
      ? {}
      : { unknownOutcomeWaitMs: options.unknownOutcomeWaitMs }),
  });
  const outbox = new Outbox({
    store: outbound.store,
    runner,
    recorder,
    pool: options.pool,
    consumers: options.consumers,
    window: options.window,
    maxAttempts: options.maxAttempts,
    ...options.outbox,
    ...(logger ? { logger } : {}),
    ...(metrics ? { metrics } : {}),
    ...withClock,
  });
  outbox.attach(options.calls);
  const watchdog = new OutboundWatchdog({
    outbound,
    connection: options.redis,
    queuePrefix: options.queuePrefix,
    redis: options.redis,
    keys: options.keys,
    leases: options.leases,
    consumers: options.consumers,
    credentials: options.credentials,
    recorder,
    ...(logger ? { logger } : {}),
    ...(metrics ? { metrics } : {}),
    ...withNow,
  });
  let closing: Promise<void> | undefined;
  return {
    outbox,
    watchdog,
    waitUntilReady: () => watchdog.waitUntilReady(),
    close: (drainMs = 10_000) => {
      closing ??= (async () => {
        await Promise.all([outbox.close(drainMs), watchdog.close()]);
        options.calls.setOutboundListener(undefined);
      })();
      return closing;
    },
  };
}
