/**
 * The outbound path for tests, built from the real parts: the gateway core (`createTestCore`:
 * SessionPool, CallRouter, leases, consumers, credential store with a real cipher, event log,
 * REST client) against the simulator, an `OutboundQueue` and outbound sending (outbox and watchdog), and the real
 * Express app with the messages and methods routers behind a test-only authentication
 * middleware (`x-test-user: <username>`).
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { Redis } from 'ioredis';
import { createError } from '../../src/errors.js';
import { isWorker } from '../../src/features/feature.js';
import { createOutboundQueue, startCoreOutboundSending } from '../../src/features/messages-feature.js';
import type { GatewayCore } from '../../src/gateway.js';
import { createApp } from '../../src/http/app.js';
import { createMethodsRouter } from '../../src/http/routes/methods.js';
import type { Metrics } from '../../src/metrics/index.js';
import { createMessagesRouter, type OutboundQueue, type OutboundSending } from '../../src/outbound/index.js';
import type { OutboundSendingOptions } from '../../src/outbound/outbound-sending.js';
import { httpContextFromCore } from './http-context.js';
import { createTestCore, sharedEnv, type TestCore } from './test-core.js';

export interface OutboundHarnessOptions {
  readonly redisUrl: string;
  readonly rocketchatUrl: string;
  /** Users to log in (REST `/api/v1/login`, `<name>-pass`) and store credentials for. */
  readonly users?: readonly string[];
  /** Shared env (key prefix, encryption key) when several harnesses or processes must agree. */
  readonly shared?: Record<string, string>;
  readonly env?: Record<string, string>;
  /** Start sending (the outbox and the watchdog) in this process. @defaultValue true */
  readonly worker?: boolean;
  readonly workerOptions?: Partial<OutboundSendingOptions>;
  /** `callTimeoutMs` of the methods router. @defaultValue 15000 */
  readonly methodsCallTimeoutMs?: number;
  /** How long an accepted job may stay pending before the watchdog looks. @defaultValue 10000 */
  readonly watchdogMs?: number;
  /** Real metrics, for tests that read them. @defaultValue no-op metrics */
  readonly metrics?: Metrics;
  /** More principals the test middleware accepts (username -> user id), with no credentials stored. */
  readonly extraPrincipals?: Readonly<Record<string, string>>;
}

export interface OutboundHarness {
  readonly core: TestCore;
  readonly outbound: OutboundQueue;
  readonly worker: OutboundSending | undefined;
  readonly app: Express;
  /** Username -> Rocket.Chat user id, for the users logged in. */
  readonly userIds: Readonly<Record<string, string>>;
  /** Starts sending now (for tests that start it late). */
  startWorker(options?: Partial<OutboundSendingOptions>): Promise<OutboundSending>;
  close(): Promise<void>;
}

/** `x-test-user: alice` authenticates as alice (who must be in `userIds`); stands in for src/http/auth. */
export function testAuthenticate(userIds: Readonly<Record<string, string>>): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const username = req.get('x-test-user');
    const userId = username ? userIds[username] : undefined;
    if (!username || !userId) {
      next(createError('GW_ERR_UNAUTHENTICATED'));
      return;
    }
    req.principal = { userId, username, via: 'jwt' };
    next();
  };
}

/** The core's `OutboundQueue`, as the gateway's messages feature builds it. */
export function createCoreOutboundQueue(core: GatewayCore, watchdogMs?: number): OutboundQueue {
  return createOutboundQueue(core, watchdogMs === undefined ? {} : { watchdogMs });
}

/** Outbound sending on the core's parts for `outbound`, as the gateway starts it (await `waitUntilReady()`). */
export function createCoreOutboundSending(
  core: GatewayCore,
  outbound: OutboundQueue,
  options: Partial<OutboundSendingOptions> = {},
): OutboundSending {
  if (!isWorker(core)) throw new Error('outbound sending needs a core with a session pool');
  return startCoreOutboundSending(core, outbound, options);
}

/** Deletes the core's keys only: its key prefix and its BullMQ prefix. */
export async function deleteCoreKeys(core: GatewayCore): Promise<void> {
  for (const pattern of [`${core.config.redis.keyPrefix}:*`, `${core.config.redis.queuePrefix}:*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await core.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      if (batch.length > 0) await core.redis.del(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
}

export async function startOutboundHarness(options: OutboundHarnessOptions): Promise<OutboundHarness> {
  const shared = options.shared ?? sharedEnv();
  const core = createTestCore({
    redisUrl: options.redisUrl,
    rocketchatUrl: options.rocketchatUrl,
    shared,
    env: { OUTBOUND_CONCURRENCY: '16', OUTBOUND_MAX_ATTEMPTS: '8', ...options.env },
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  await core.calls.start();
  await core.pool?.start();
  const userIds: Record<string, string> = {};
  for (const username of options.users ?? []) {
    const auth = await core.rest.loginWithPassword(username, `${username}-pass`);
    await core.credentials.save(auth.userId, { token: auth.token, username });
    userIds[username] = auth.userId;
  }
  const outbound = createCoreOutboundQueue(core, options.watchdogMs);
  const workers: OutboundSending[] = [];
  const startWorker = async (extra: Partial<OutboundSendingOptions> = {}): Promise<OutboundSending> => {
    const worker = createCoreOutboundSending(core, outbound, { ...options.workerOptions, ...extra });
    workers.push(worker);
    await worker.waitUntilReady();
    return worker;
  };
  const worker = options.worker === false ? undefined : await startWorker();

  const hubSubscriber = new Redis(options.redisUrl, { lazyConnect: true });
  const ctx = httpContextFromCore(core, { subscriber: hubSubscriber });
  const authenticate = testAuthenticate({ ...options.extraPrincipals, ...userIds });
  const app = createApp(ctx, [
    { path: '/v1/messages', router: createMessagesRouter({ outbound, authenticate }) },
    {
      path: '/v1/methods',
      router: createMethodsRouter({
        calls: core.calls,
        credentials: core.credentials,
        authenticate,
        ...(options.methodsCallTimeoutMs === undefined
          ? {}
          : { callTimeoutMs: options.methodsCallTimeoutMs }),
      }),
    },
  ]);

  return {
    core,
    outbound,
    worker,
    app,
    userIds,
    startWorker,
    close: async () => {
      await Promise.allSettled(workers.map((w) => w.close(0)));
      await outbound.close();
      hubSubscriber.disconnect();
      await deleteCoreKeys(core);
      await core.close();
    },
  };
}
