/**
 * `/v1/messages` and the outbound path behind it: every role has the queue (it is in Redis, and
 * incoming hooks and `rocketchat` webhook replies post through it); API roles mount the router;
 * roles that hold sessions also send (`startOutboundSending`).
 */
import type { GatewayCore } from '../gateway.js';
import {
  createMessagesRouter,
  OutboundQueue,
  type OutboundSending,
  startOutboundSending,
} from '../outbound/index.js';
import { type Feature, type FeatureDeps, isWorker, runEvery } from './feature.js';

export interface MessagesFeature extends Feature {
  /** Accepts outbound jobs; other features post through it. */
  readonly outbound: OutboundQueue;
}

export function createMessagesFeature(core: GatewayCore, deps: FeatureDeps): MessagesFeature {
  const { config } = core;
  const outbound = new OutboundQueue({
    redis: core.redis,
    keys: core.keys,
    queuePrefix: config.redis.queuePrefix,
    rest: core.rest,
    credentials: core.credentials,
    now: () => core.clock.now(),
  });
  const sending: OutboundSending | undefined = isWorker(core)
    ? startOutboundSending({
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
      })
    : undefined;
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
    start: async () => {
      await sending?.waitUntilReady();
    },
    close: async () => {
      // Sends in flight finish before the queue closes (and, in the gateway, before the pool).
      await runEvery([async () => sending?.close(), () => outbound.close()]);
    },
  };
}
