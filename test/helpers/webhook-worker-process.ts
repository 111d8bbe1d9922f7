/**
 * A webhook worker in its own process, for tests that kill it (`kill -9`). Configured from the
 * environment like the gateway (`loadConfig`), plus `WEBHOOK_TEST_WORKER_OPTIONS` (JSON
 * `WebhookWorkerOptions`). Prints `ready` once it dispatches and delivers, then runs until killed.
 *
 *   node --import tsx test/helpers/webhook-worker-process.ts
 */
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { LiveHub } from '../../src/events/live-hub.js';
import { createKeys } from '../../src/redis/keys.js';
import { ConsumerRegistry } from '../../src/sessions/consumer-registry.js';
import { createCredentialStore } from '../../src/sessions/credential-store.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { startWebhookWorkers, type WebhookWorkerOptions } from '../../src/webhooks/index.js';
import { webhookConnections } from './webhook-connections.js';

const config = loadConfig(process.env);
const options = JSON.parse(process.env['WEBHOOK_TEST_WORKER_OPTIONS'] ?? '{}') as WebhookWorkerOptions;
const redis = new Redis(config.redis.url);
const keys = createKeys(config.redis.keyPrefix);
const cipher = createTokenCipher({
  currentKeyId: config.encryption.current.id,
  keys: new Map([[config.encryption.current.id, config.encryption.current.key]]),
});
const worker = await startWebhookWorkers({
  redis,
  connections: webhookConnections(redis, config),
  keys,
  config,
  eventLog: new EventLog({
    redis,
    keys,
    maxLength: config.events.logMaxLen,
    maxAgeMs: config.events.logMaxAgeMs,
  }),
  liveHub: new LiveHub({ subscriber: redis.duplicate(), keys }),
  credentials: createCredentialStore({ redis, keys, cipher }),
  cipher,
  consumers: new ConsumerRegistry({ redis, keys }),
  options,
});
process.stdout.write(`ready ${process.pid}\n`);
process.on('SIGTERM', () => {
  void worker.close().finally(() => process.exit(0));
});
