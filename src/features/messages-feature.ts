/**
 * `/v1/messages` and the outbound path behind it: every role has the queue (it is in Redis, and
 * incoming hooks and `rocketchat` webhook replies post through it); API roles mount the router;
 * roles that hold sessions also send (`startOutboundSending`).
 */
import type { GatewayCore } from '../gateway-core.js';
import { jsonBody } from '../http/app.js';
import {
  createMessagesRouter,
  createSendHandler,
  OutboundQueue,
  type OutboundQueueOptions,
  type OutboundSending,
  startOutboundSending,
} from '../outbound/index.js';
import type { OutboundSendingOptions } from '../outbound/outbound-sending.js';
import type { SessionPool } from '../sessions/session-pool.js';
import { type Feature, type FeatureDeps, isWorker, runEvery } from './feature.js';

export interface MessagesFeature extends Feature {
  /** Accepts outbound jobs; other features post through it. */
  readonly outbound: OutboundQueue;
}

/** The outbound queue on the core's parts. Every role has one: it only writes to Redis. */
export function createOutboundQueue(
  core: GatewayCore,
  overrides: Partial<Pick<OutboundQueueOptions, 'redis' | 'watchdogMs' | 'wantedMs' | 'retentionMs'>> = {},
): OutboundQueue {
  return new OutboundQueue({
    redis: core.redis,
    keys: core.keys,
    queuePrefix: core.config.redis.queuePrefix,
    rest: core.rest,
    credentials: core.credentials,
    now: () => core.clock.now(),
    ...overrides,
  });
}

/**
 * Outbound sending for `outbound` on the core's parts (a role that holds sessions); await its
 * `waitUntilReady()`. `overrides` are for tests (shorter timings).
 */
export function startCoreOutboundSending(
  core: GatewayCore & { readonly pool: SessionPool },
  outbound: OutboundQueue,
  overrides: Partial<OutboundSendingOptions> = {},
): OutboundSending {
  const { config } = core;
  return startOutboundSending({
    outbound,
    redis: core.redis,
    keys: core.keys,
    queuePrefix: config.redis.queuePrefix,
    pool: core.pool,
    calls: core.calls,
    leases: core.leases,
    consumers: core.consumers,
    credentials: core.credentials,
    rest: core.rest,
    eventLog: core.eventLog,
    window: config.outbound.concurrency,
    maxAttempts: config.outbound.maxAttempts,
    logger: core.logger,
    metrics: core.metrics,
    clock: core.clock,
    ...overrides,
  });
}

export function createMessagesFeature(core: GatewayCore, deps: FeatureDeps): MessagesFeature {
  // Its own auto-pipelined connection: every accept and every send is a handful of small
  // commands (scripts, a BullMQ add or remove) issued from many requests at once, and those of
  // one tick then share one write (bench/outbound measures the path this way).
  const redis = core.connection('outbound', { isAutoPipelined: true });
  const outbound = createOutboundQueue(core, { redis });
  const sending = isWorker(core) ? startCoreOutboundSending(core, outbound, { redis }) : undefined;
  return {
    name: 'messages',
    outbound,
    routers: deps.isApi
      ? [
          {
            path: '/v1/messages',
            router: createMessagesRouter({ outbound, authenticate: deps.authenticated }),
          },
        ]
      : [],
    // The busiest request of all, served without the app's router and helmet (fast-path.ts).
    fastRoutes: deps.isApi
      ? [
          {
            method: 'POST',
            path: '/v1/messages',
            handlers: [deps.authenticated, jsonBody(deps.http), createSendHandler({ outbound })],
          },
        ]
      : [],
    start: async () => {
      await sending?.waitUntilReady();
    },
    close: async () => {
      // Sends in flight finish before the queue closes (and, in the gateway, before the pool).
      await runEvery([
        async () => sending?.close(),
        () => outbound.close(),
        () => redis.quit().then(() => undefined),
      ]);
    },
  };
}
