/**
 * A real `HttpContext` for tests of the HTTP tier: the configuration from `loadConfig`, the
 * credential store sealing with a real cipher in a private Redis key prefix, the REST client
 * against the Rocket.Chat simulator, no-op metrics and a logger whose lines are kept in memory
 * (nothing is printed; tests can assert on what was logged). Parts a test does not exercise
 * (event log, live hub, consumers, call router) are the real classes, built but not started.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import type { Clock } from '../../src/clock.js';
import { type GatewayConfig, loadConfig } from '../../src/config/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { LiveHub } from '../../src/events/live-hub.js';
import { type GatewayCore, httpContextOf } from '../../src/gateway.js';
import type { HttpContext, Lifecycle } from '../../src/http/context.js';
import { createLogger } from '../../src/log/index.js';
import { createNoopMetrics } from '../../src/metrics/index.js';
import { createKeys } from '../../src/redis/keys.js';
import { RocketChatRestClient } from '../../src/rocketchat/rest-client.js';
import { CallRouter } from '../../src/sessions/call-router.js';
import { ConsumerRegistry } from '../../src/sessions/consumer-registry.js';
import { createCredentialStore } from '../../src/sessions/credential-store.js';
import { SessionLeases } from '../../src/sessions/lease.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { WorkerPresence } from '../../src/sessions/worker-presence.js';

export interface HttpTestContextOptions {
  readonly redisUrl: string;
  readonly rocketchatUrl: string;
  /** Environment on top of the test defaults (fresh key prefix, JWT secret, encryption key). */
  readonly env?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** The Redis client the context uses; the helper's own by default (closed by `close()`). */
  readonly redis?: Redis;
}

/** A lifecycle a test can put into draining. */
export interface TestLifecycle extends Lifecycle {
  startDraining(): void;
}

export interface HttpTestContext {
  readonly ctx: HttpContext;
  readonly config: GatewayConfig;
  readonly lifecycle: TestLifecycle;
  /** A client on the same Redis, for assertions (and SUBSCRIBE, via `duplicate()`). */
  readonly redis: Redis;
  /** Every line the logger wrote, raw, in order. */
  readonly logLines: readonly string[];
  /** Deletes the context's keys and closes its connections. */
  close(): Promise<void>;
}

export function createTestLifecycle(): TestLifecycle {
  let isDraining = false;
  const listeners = new Set<() => void>();
  return {
    isDraining: () => isDraining,
    onDrain(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    startDraining() {
      if (isDraining) return;
      isDraining = true;
      for (const listener of listeners) listener();
    },
  };
}

/**
 * The `HttpContext` over a gateway core's own parts (`createTestCore`), with a fresh test lifecycle
 * and a `LiveHub` on `subscriber` (the caller owns that connection and closes it).
 */
export function httpContextFromCore(
  core: GatewayCore,
  options: { readonly subscriber: Redis; readonly processId?: string },
): HttpContext {
  // The gateway's own assembly, with what a test process varies: its lifecycle and process id.
  const liveHub = new LiveHub({ subscriber: options.subscriber, keys: core.keys });
  return {
    ...httpContextOf(core, liveHub, createTestLifecycle()),
    processId: options.processId ?? randomUUID(),
  };
}

export async function createHttpTestContext(options: HttpTestContextOptions): Promise<HttpTestContext> {
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    ROCKETCHAT_URL: options.rocketchatUrl,
    REDIS_KEY_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'trace',
    ...options.env,
  });
  const keys = createKeys(config.redis.keyPrefix);
  const ownRedis = new Redis(options.redisUrl);
  const redis = options.redis ?? ownRedis;
  // Pub/Sub connections for the parts that need one; lazy, so they connect only if used.
  const hubSubscriber = new Redis(options.redisUrl, { lazyConnect: true });
  const routerSubscriber = new Redis(options.redisUrl, { lazyConnect: true });

  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(line);
      callback();
    },
  });
  const logger = createLogger({ level: config.log.level, destination: sink });

  const { id: keyId, key } = config.encryption.current;
  const cipher = createTokenCipher({ currentKeyId: keyId, keys: new Map([[keyId, key]]) });
  const credentials = createCredentialStore({
    redis,
    keys,
    cipher,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const consumers = new ConsumerRegistry({ redis, keys });
  const leases = new SessionLeases({
    redis,
    keys,
    workerId: config.workerId,
    ttlMs: config.sessions.leaseTtlMs,
  });
  const processId = randomUUID();
  const lifecycle = createTestLifecycle();

  const ctx: HttpContext = {
    config,
    logger,
    metrics: createNoopMetrics(),
    redis,
    keys,
    eventLog: new EventLog({
      redis,
      keys,
      maxLength: config.events.logMaxLen,
      maxAgeMs: config.events.logMaxAgeMs,
    }),
    liveHub: new LiveHub({ subscriber: hubSubscriber, keys }),
    credentials,
    consumers,
    calls: new CallRouter({
      redis,
      subscriber: routerSubscriber,
      keys,
      leases,
      presence: new WorkerPresence({ redis, keys }),
      consumers,
      processId,
    }),
    rest: new RocketChatRestClient({ baseUrl: config.rocketchat.url, timeoutMs: 5000 }),
    lifecycle,
    processId,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  await ownRedis.ping();

  return {
    ctx,
    config,
    lifecycle,
    redis: ownRedis,
    logLines,
    async close() {
      let cursor = '0';
      do {
        const [next, batch] = await ownRedis.scan(
          cursor,
          'MATCH',
          `${config.redis.keyPrefix}:*`,
          'COUNT',
          1000,
        );
        if (batch.length > 0) await ownRedis.del(...batch);
        cursor = next;
      } while (cursor !== '0');
      hubSubscriber.disconnect();
      routerSubscriber.disconnect();
      await ownRedis.quit();
    },
  };
}
