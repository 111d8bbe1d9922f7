/**
 * Everything a webhook integration test needs, built the way the composition root builds it but
 * on a private key prefix: config from an env map, Redis, the event log and live hub, the
 * credential store, the webhook service behind its router on port 0 (with a test-only auth
 * middleware that takes the user from `x-test-user`), and webhook workers started on demand.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import { type GatewayConfig, loadConfig } from '../../src/config/index.js';
import { createError, toErrorBody, toGatewayError } from '../../src/errors.js';
import { type AppendedEvent, EventLog } from '../../src/events/event-log.js';
import { LiveHub } from '../../src/events/live-hub.js';
import { parseTopics } from '../../src/events/topics.js';
import type { GatewayEventType } from '../../src/events/types.js';
import { createKeys, type GatewayKeys } from '../../src/redis/keys.js';
import { ConsumerRegistry } from '../../src/sessions/consumer-registry.js';
import { type CredentialStore, createCredentialStore } from '../../src/sessions/credential-store.js';
import { createTokenCipher, type TokenCipher } from '../../src/sessions/token-cipher.js';
import {
  createWebhookRouter,
  createWebhookService,
  startWebhookWorkers,
  type WebhookService,
  type WebhookServiceDeps,
  type WebhookWorker,
  type WebhookWorkerOptions,
} from '../../src/webhooks/index.js';
import type { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { waitFor } from './wait-for.js';
import { webhookConnections } from './webhook-connections.js';

/** Timings that make a test run in seconds, not hours. */
export const FAST_WORKER: WebhookWorkerOptions = {
  concurrency: 8,
  lockDurationMs: 2000,
  stalledIntervalMs: 500,
  dispatchLeaseTtlMs: 1000,
  safetySweepMs: 1000,
  resumeCheckMs: 100,
  pausedRecheckMs: 60_000,
  credentialCacheMs: 100,
  queueMetricsIntervalMs: 0,
};

export interface WebhookFixture {
  readonly prefix: string;
  readonly env: Readonly<Record<string, string>>;
  readonly config: GatewayConfig;
  readonly redis: Redis;
  readonly keys: GatewayKeys;
  readonly eventLog: EventLog;
  readonly liveHub: LiveHub;
  readonly cipher: TokenCipher;
  readonly credentials: CredentialStore;
  readonly consumers: ConsumerRegistry;
  readonly service: WebhookService;
  readonly apiUrl: string;
  /** Calls the API as `userId`. */
  api(method: string, path: string, userId: string | undefined, body?: unknown): Promise<ApiResponse>;
  /** Starts webhook workers in this process (closed by `close()`). */
  startWorker(options?: WebhookWorkerOptions, config?: GatewayConfig): Promise<WebhookWorker>;
  /** Logs a `notification` event (topic `user`) for the user. */
  logEvent(userId: string, data?: unknown, type?: GatewayEventType, roomId?: string): Promise<AppendedEvent>;
  /** Stores a valid Rocket.Chat credential for the user. */
  saveCredential(userId: string): Promise<void>;
  close(): Promise<void>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON bodies.
  readonly body: any;
}

export interface WebhookFixtureOptions {
  readonly redisUrl: string;
  /** Extra environment (e.g. `WEBHOOK_RETRY_SCHEDULE_MS`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly service?: Partial<Pick<WebhookServiceDeps, 'resolve' | 'options'>>;
}

export async function createWebhookFixture(options: WebhookFixtureOptions): Promise<WebhookFixture> {
  const prefix = `t${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: prefix,
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_SCHEDULE_MS: '50,50',
    WEBHOOK_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'silent',
    ...options.env,
  };
  const config = loadConfig(env);
  const redis = new Redis(options.redisUrl);
  const keys = createKeys(prefix);
  const eventLog = new EventLog({ redis, keys, maxLength: 10_000, maxAgeMs: 86_400_000 });
  const liveHub = new LiveHub({ subscriber: redis.duplicate(), keys });
  const cipher = createTokenCipher({
    currentKeyId: config.encryption.current.id,
    keys: new Map([[config.encryption.current.id, config.encryption.current.key]]),
  });
  const credentials = createCredentialStore({ redis, keys, cipher });
  const consumers = new ConsumerRegistry({ redis, keys });
  const service = createWebhookService({
    redis,
    keys,
    config,
    consumers,
    cipher,
    eventLog,
    ...options.service,
  });

  const app = express();
  app.use(
    '/v1/webhooks',
    createWebhookRouter({
      authenticate: (req: Request, _res: Response, next: NextFunction) => {
        const userId = req.get('x-test-user');
        if (!userId) return next(createError('GW_ERR_UNAUTHENTICATED'));
        req.principal = { userId, username: undefined, via: 'jwt' };
        next();
      },
      webhooks: service,
    }),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = toGatewayError(err);
    res.status(error.status).json(toErrorBody(error));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const workers: WebhookWorker[] = [];
  let logSeq = 0;

  return {
    prefix,
    env,
    config,
    redis,
    keys,
    eventLog,
    liveHub,
    cipher,
    credentials,
    consumers,
    service,
    apiUrl,
    async api(method, path, userId, body) {
      const headers: Record<string, string> = {};
      if (userId) headers['x-test-user'] = userId;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${apiUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async startWorker(workerOptions = FAST_WORKER, workerConfig = config) {
      const worker = await startWebhookWorkers({
        redis,
        connections: webhookConnections(redis, workerConfig),
        keys,
        config: workerConfig,
        eventLog,
        liveHub,
        credentials,
        cipher,
        consumers,
        options: workerOptions,
      });
      workers.push(worker);
      return worker;
    },
    async logEvent(userId, data = { seq: ++logSeq }, type = 'notification', roomId) {
      const logged = await eventLog.append({
        type,
        userId,
        ...(roomId === undefined ? {} : { roomId }),
        ts: new Date().toISOString(),
        data,
      });
      if (!logged) throw new Error('event was not logged');
      return logged;
    },
    async saveCredential(userId) {
      await credentials.save(userId, { token: randomBytes(32).toString('base64url') });
    },
    async close() {
      for (const worker of workers) await worker.close().catch(() => undefined);
      await service.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await liveHub.close();
      for (const pattern of [`${prefix}:*`, `{${prefix}}:*`]) {
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          if (batch.length > 0) await redis.del(...batch);
          cursor = next;
        } while (cursor !== '0');
      }
      await redis.quit();
    },
  };
}

/** A user id shaped like Rocket.Chat's (17 alphanumerics). */
export function newUserId(): string {
  return `u${randomBytes(8).toString('hex')}`;
}

/**
 * The delivery attempts recorded for `webhookId`, newest first, once there are at least `count`
 * (an attempt is recorded right after its response arrives, so a receiver's hit comes first).
 */
export function recordedAttempts(
  fx: Pick<WebhookFixture, 'service'>,
  userId: string,
  webhookId: string,
  count: number,
): ReturnType<WebhookFixture['service']['deliveries']> {
  return waitFor(
    async () => {
      const recorded = await fx.service.deliveries(userId, webhookId, 10);
      return recorded.length >= count ? recorded : undefined;
    },
    10_000,
    `${count} attempts recorded`,
  );
}

/**
 * A webhook of every `user` event written straight to the store, as another process or version
 * might: no change notice reaches any dispatcher, only the webhook version the store moves.
 */
export function storeWebhookSilently(
  store: WebhookStore,
  userId: string,
  webhookId: string,
  url: string,
): ReturnType<WebhookStore['create']> {
  return store.create(
    userId,
    webhookId,
    { url, topics: parseTopics(['user']), eventTypes: [], description: '' },
    'whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=',
    Date.now(),
    10,
  );
}
