/**
 * The connections `startWebhookWorkers` runs on, for tests and benchmarks that start the worker
 * without the gateway (which takes them from `createCore`): the same kinds, made the same way.
 */
import type { RedisConfig } from '../../src/config/index.js';
import { createSubscriberClient, duplicateClient, type RedisClient } from '../../src/redis/connection.js';
import type { WebhookConnections } from '../../src/webhooks/index.js';

export function webhookConnections(
  redis: RedisClient,
  config: { readonly redis: RedisConfig },
): WebhookConnections {
  return {
    commands: duplicateClient(redis, { enableAutoPipelining: true }),
    blocking: duplicateClient(redis, { enableAutoPipelining: true, maxRetriesPerRequest: null }),
    subscriber: createSubscriberClient(config.redis, { name: 'webhook-sub' }),
  };
}
