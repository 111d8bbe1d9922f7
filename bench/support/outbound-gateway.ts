/**
 * The gateway side of bench/outbound.bench.ts, in its own process as in a deployment: the real
 * core (session pool, call router, event log), the outbound queue and worker, and the Express
 * app with the messages router. Every request is alice (logged in here through REST), so the
 * bench measures sending, not authentication. Prints `<port>` when ready.
 *
 * Usage: tsx bench/support/outbound-gateway.ts <redisUrl> <rocketchatUrl>
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/index.js';
import { LiveHub } from '../../src/events/live-hub.js';
import { isWorker } from '../../src/features/feature.js';
import { startCoreOutboundSending } from '../../src/features/messages-feature.js';
import { createCore, httpContextOf, withFastRoutes } from '../../src/gateway.js';
import { createApp, jsonBody } from '../../src/http/app.js';
import { expressServerOptions } from '../../src/http/fast-path.js';
import { createLogger } from '../../src/log/index.js';
import { createNoopMetrics } from '../../src/metrics/index.js';
import { createMessagesRouter, createSendHandler, OutboundQueue } from '../../src/outbound/index.js';

const [redisUrl, rocketchatUrl] = process.argv.slice(2);
if (!redisUrl || !rocketchatUrl) throw new Error('usage: outbound-gateway.ts <redisUrl> <rocketchatUrl>');

const config = loadConfig({
  NODE_ENV: 'test',
  REDIS_URL: redisUrl,
  ROCKETCHAT_URL: rocketchatUrl,
  REDIS_KEY_PREFIX: `bench-${randomUUID().slice(0, 8)}`,
  GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  JWT_SECRET: randomBytes(32).toString('hex'),
  LOG_LEVEL: 'silent',
  OUTBOUND_CONCURRENCY: process.env.OUTBOUND_CONCURRENCY ?? '16',
});
const logger = createLogger({ level: 'silent' });
const core = createCore({ config, logger, metrics: createNoopMetrics() });
await core.calls.start();
await core.pool?.start();
const alice = await core.rest.loginWithPassword('alice', 'alice-pass');
await core.credentials.save(alice.userId, { token: alice.token, username: 'alice' });

// Its own connection with auto-pipelining: commands issued in one tick share one write, which
// matters more than anything else here (each job is a handful of small Redis commands).
const queueRedis = new Redis(redisUrl, {
  maxRetriesPerRequest: null,
  enableAutoPipelining: process.env.BENCH_AUTOPIPELINE !== '0',
});
const outbound = new OutboundQueue({
  redis: queueRedis,
  keys: core.keys,
  queuePrefix: config.redis.queuePrefix,
  rest: core.rest,
  credentials: core.credentials,
});
if (!isWorker(core)) throw new Error('the bench gateway runs role all');
const sending = startCoreOutboundSending(core, outbound, { redis: queueRedis });
await sending.waitUntilReady();

const authenticate = (req: Request, _res: Response, next: NextFunction): void => {
  req.principal = { userId: alice.userId, username: 'alice', via: 'jwt' };
  next();
};
const ctx = httpContextOf(core, new LiveHub({ subscriber: core.subscriber('bench-hub'), keys: core.keys }), {
  isDraining: () => false,
  onDrain: () => () => {},
});
const app = createApp(ctx, [
  { path: '/v1/messages', router: createMessagesRouter({ outbound, authenticate }) },
]);
// Served as the gateway serves it: `POST /v1/messages` on the fast path, the rest by the app.
const server = createServer(
  expressServerOptions(app),
  withFastRoutes(app, ctx, [
    {
      method: 'POST',
      path: '/v1/messages',
      handlers: [authenticate, jsonBody(ctx), createSendHandler({ outbound })],
    },
  ]),
);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
// Exit through process.exit so that a --cpu-prof profile is written.
process.on('SIGTERM', () => process.exit(0));
