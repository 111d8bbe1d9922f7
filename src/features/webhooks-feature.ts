/**
 * Outgoing webhooks: the `/v1/webhooks` registry (API roles) and, in roles that hold sessions,
 * the dispatcher and delivery workers (`startWebhookWorkers`), on connections the core opens.
 */
import type { LiveHub } from '../events/live-hub.js';
import type { GatewayCore } from '../gateway-core.js';
import type { OutboundQueue } from '../outbound/index.js';
import {
  createWebhookRouter,
  createWebhookService,
  startWebhookWorkers,
  type WebhookWorker,
} from '../webhooks/index.js';
import { type Feature, type FeatureDeps, isWorker, runEvery } from './feature.js';

export function createWebhooksFeature(
  core: GatewayCore,
  deps: FeatureDeps & { readonly outbound: OutboundQueue; readonly liveHub: LiveHub },
): Feature {
  const { config, logger, metrics } = core;
  const webhooks = deps.isApi
    ? createWebhookService({
        redis: core.redis,
        keys: core.keys,
        config,
        consumers: core.consumers,
        cipher: core.cipher,
        calls: core.calls,
        eventLog: core.eventLog,
        logger,
      })
    : undefined;
  let worker: WebhookWorker | undefined;
  return {
    name: 'webhooks',
    routers: webhooks
      ? [
          {
            path: '/v1/webhooks',
            // Its own JSON parser, with its lower limit (64 kB), must be the one that runs.
            readsOwnBody: true,
            router: createWebhookRouter({ webhooks, authenticate: deps.authenticated }),
          },
        ]
      : [],
    start: async () => {
      if (!isWorker(core)) return;
      worker = await startWebhookWorkers({
        redis: core.redis,
        connections: {
          commands: core.connection('webhook-commands', { isAutoPipelined: true }),
          blocking: core.connection('webhook-blocking', { isAutoPipelined: true }),
          subscriber: core.subscriber('webhook-sub'),
        },
        keys: core.keys,
        config,
        eventLog: core.eventLog,
        liveHub: deps.liveHub,
        credentials: core.credentials,
        cipher: core.cipher,
        consumers: core.consumers,
        outbound: deps.outbound,
        calls: core.calls,
        metrics,
        logger,
      });
    },
    // The worker first: attempts in flight finish before the registry's queue closes.
    close: () => runEvery([async () => worker?.close(), async () => webhooks?.close()]),
  };
}
