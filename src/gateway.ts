/**
 * The composition root: builds every part from the config, according to the role, and stops
 * them in the order architecture.md gives (not ready -> refuse new requests -> SSE `reconnect`
 * -> workers close -> leases released -> Redis quit). Only this file creates connections.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { type Clock, systemClock } from './clock.js';
import type { GatewayConfig } from './config/index.js';
import { EventLog } from './events/event-log.js';
import { LiveHub } from './events/live-hub.js';
import { createConsoleFeature } from './features/console-feature.js';
import { createDocsFeature } from './features/docs-feature.js';
import { createEventsFeature } from './features/events-feature.js';
import type { FastRoute, Feature, FeatureDeps } from './features/feature.js';
import { createHooksFeature } from './features/hooks-feature.js';
import { createMessagesFeature } from './features/messages-feature.js';
import { createMethodsFeature } from './features/methods-feature.js';
import { createMetricsFeature } from './features/metrics-feature.js';
import { createSessionsFeature } from './features/sessions-feature.js';
import { createWebhooksFeature } from './features/webhooks-feature.js';
import type { GatewayCore } from './gateway-core.js';
import { createApp, createErrorHandler, createFrontHandlers } from './http/app.js';
import { createHttpAuth } from './http/auth/index.js';
import type { HttpContext, Lifecycle } from './http/context.js';
import { createFastPath, expressServerOptions } from './http/fast-path.js';
import { fixedRoute } from './http/middleware/http-metrics.js';
import { chainHandlers, createRateLimit } from './http/rate-limit.js';
import { createMetricsApp } from './http/routes/metrics.js';
import type { Logger } from './log/index.js';
import type { Metrics, SessionRefusalLabel } from './metrics/index.js';
import { createRedisClient, createSubscriberClient, type RedisClient } from './redis/connection.js';
import { createKeys } from './redis/keys.js';
import { RocketChatRestClient } from './rocketchat/rest-client.js';
import { CallRouter } from './sessions/call-router.js';
import { ConsumerRegistry } from './sessions/consumer-registry.js';
import { createCredentialStore } from './sessions/credential-store.js';
import { SessionLeases } from './sessions/lease.js';
import { SessionPool, type SessionRefusalReason } from './sessions/session-pool.js';
import { createTokenCipherFromConfig } from './sessions/token-cipher.js';
import type { UserSessionState } from './sessions/user-session.js';
import { WorkerPresence } from './sessions/worker-presence.js';

export type { GatewayCore } from './gateway-core.js';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The one clock every part reads time and sets timers on. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** The pool's refusal reasons as the metric's label values (Prometheus labels use `_`). */
const SESSION_REFUSAL_LABEL: Record<SessionRefusalReason, SessionRefusalLabel> = {
  capacity: 'capacity',
  'no-credentials': 'no_credentials',
  'credentials-invalid': 'credentials_invalid',
};

const SESSION_STATE_METRIC: Partial<
  Record<UserSessionState, 'connecting' | 'connected' | 'reconnecting' | 'unauthorized'>
> = {
  starting: 'connecting',
  'catching-up': 'connected',
  live: 'connected',
  reconnecting: 'reconnecting',
  unauthorized: 'unauthorized',
};

/** A command connection (standalone or Cluster, as configured), its errors counted and logged. */
export function createRedis(
  config: GatewayConfig,
  name: string,
  logger: Logger,
  metrics: Metrics,
  options: { readonly isAutoPipelined?: boolean } = {},
): RedisClient {
  // Auto-pipelining on the event log's connection: sessions append concurrently (one message
  // reaches every member's session at once). Measured with bench/sessions at 1,000 sessions:
  // p99 frame-to-log lag 700 ms -> 100 ms.
  return reportErrors(createRedisClient(config.redis, { name, ...options }), name, logger, metrics);
}

function reportErrors<T extends RedisClient>(
  redis: T,
  name: string,
  logger: Logger,
  metrics: Metrics,
  clock: Clock = systemClock,
): T {
  let lastErrorLogMs = 0;
  redis.on('error', (err: Error) => {
    metrics.redisErrors.inc();
    // One line per few seconds: a down Redis must not flood the log.
    const now = clock.now();
    if (now - lastErrorLogMs > 5000) {
      lastErrorLogMs = now;
      logger.warn({ err: { message: err.message }, connection: name }, 'redis connection error');
    }
  });
  return redis;
}

/** Builds the shared parts and, for `worker`/`all`, the session pool. Nothing is listening yet. */
export function createCore({ config, logger, metrics, clock = systemClock }: GatewayDeps): GatewayCore {
  const processId = config.workerId;
  const subscriber = (name: string): Redis =>
    reportErrors(createSubscriberClient(config.redis, { name }), name, logger, metrics, clock);
  const redis = createRedis(config, 'commands', logger, metrics);
  const keys = createKeys(config.redis.keyPrefix);
  const logRedis = createRedis(config, 'event-log', logger, metrics, { isAutoPipelined: true });
  const eventLog = new EventLog({
    redis: logRedis,
    keys,
    maxLength: config.events.logMaxLen,
    maxAgeMs: config.events.logMaxAgeMs,
    clock,
  });
  const cipher = createTokenCipherFromConfig(config.encryption);
  const credentials = createCredentialStore({ redis, keys, cipher, clock });
  const consumers = new ConsumerRegistry({ redis, keys, clock });
  const leases = new SessionLeases({
    redis,
    keys,
    workerId: config.workerId,
    ttlMs: config.sessions.leaseTtlMs,
  });
  const rest = new RocketChatRestClient({ baseUrl: config.rocketchat.url, clock });
  const isWorker = config.role === 'worker' || config.role === 'all';
  const presence = new WorkerPresence({
    redis,
    keys,
    ...(isWorker ? { workerId: config.workerId } : {}),
    clock,
    onError: (err) => logger.warn({ err }, 'worker presence not renewed'),
  });
  const sessionStates = new Map<string, 'connecting' | 'connected' | 'reconnecting' | 'unauthorized'>();
  const trackSessionState = (userId: string, state: UserSessionState): void => {
    const previous = sessionStates.get(userId);
    if (previous) metrics.sessions[previous].dec();
    const next = SESSION_STATE_METRIC[state];
    if (next) {
      metrics.sessions[next].inc();
      sessionStates.set(userId, next);
    } else {
      sessionStates.delete(userId);
    }
  };
  const pool = isWorker
    ? new SessionPool({
        redis,
        subscriber: subscriber('pool-sub'),
        keys,
        leases,
        presence,
        consumers,
        credentials,
        eventLog,
        rest,
        ddpUrl: config.rocketchat.ddpUrl,
        maxSessions: config.sessions.workerMaxSessions,
        lingerMs: config.sessions.subscriptionLingerMs,
        idleMs: config.sessions.idleMs,
        clock,
        ddp: {
          heartbeatIntervalMs: config.sessions.ddpHeartbeatMs,
          callTimeoutMs: config.sessions.ddpCallTimeoutMs,
          reconnectMaxDelayMs: config.sessions.reconnectMaxDelayMs,
          counters: {
            framesIn: metrics.upstreamFrames.in,
            framesOut: metrics.upstreamFrames.out,
            reconnects: metrics.upstreamReconnects,
          },
        },
        onRefused: (userId, reason) => {
          metrics.sessionRefusals[SESSION_REFUSAL_LABEL[reason]].inc();
          if (reason === 'capacity')
            logger.warn({ userId, reason }, 'session refused: worker at WORKER_MAX_SESSIONS');
        },
        onError: (error, context) => logger.warn({ err: error, context }, 'session error'),
        onSkipped: (reason) => metrics.upstreamFramesSkipped[reason].inc(),
        onLogged: (event, lagMs) => {
          metrics.eventsLogged.labels(event.type).inc();
          metrics.eventLag.log.observe(lagMs / 1000);
        },
        onSessionState: (userId, state) => {
          trackSessionState(userId, state);
          logger.debug({ userId, state }, 'session state');
        },
      })
    : undefined;
  const calls = new CallRouter({
    redis,
    subscriber: subscriber('calls-sub'),
    keys,
    leases,
    presence,
    consumers,
    ...(pool ? { pool } : {}),
    processId,
    forwardTimeoutMs: config.sessions.forwardTimeoutMs,
    clock,
    onForwarded: (outcome) => metrics.forwardedCalls[outcome].inc(),
  });
  return {
    config,
    logger,
    metrics,
    clock,
    processId,
    redis,
    keys,
    eventLog,
    credentials,
    cipher,
    consumers,
    leases,
    presence,
    rest,
    calls,
    pool,
    connection: (name, options = {}) => createRedis(config, name, logger, metrics, options),
    subscriber,
    quitRedis: async () => {
      await Promise.all(
        [redis, logRedis].map((connection) => connection.quit().catch(() => connection.disconnect())),
      );
    },
  };
}

export interface RunningGateway {
  readonly core: GatewayCore;
  /** The HTTP server (every role serves at least /healthz, /readyz and /metrics). */
  readonly server: Server;
  /** The port actually bound (useful with PORT=0 in tests). */
  readonly port: number;
  /** Graceful stop within the grace period; idempotent. */
  close(): Promise<void>;
}

function createLifecycle(): Lifecycle & { startDraining(): void } {
  let draining = false;
  const listeners = new Set<() => void>();
  return {
    isDraining: () => draining,
    onDrain: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    startDraining: () => {
      if (draining) return;
      draining = true;
      for (const listener of listeners) listener();
    },
  };
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** What every route of the HTTP tier is handed, from the core's parts. */
export function httpContextOf(core: GatewayCore, liveHub: LiveHub, lifecycle: Lifecycle): HttpContext {
  return {
    config: core.config,
    logger: core.logger,
    metrics: core.metrics,
    redis: core.redis,
    keys: core.keys,
    eventLog: core.eventLog,
    liveHub,
    credentials: core.credentials,
    consumers: core.consumers,
    calls: core.calls,
    rest: core.rest,
    lifecycle,
    processId: core.processId,
    clock: core.clock,
  };
}

/**
 * Starts the gateway for its role. `api` and `all` serve the whole HTTP surface; `worker`
 * serves only health, metrics and the API description (for Kubernetes probes and scraping) and
 * holds sessions. Every feature is built the same way (src/features/feature.ts); this is where
 * they are composed.
 */
export async function startGateway(
  deps: GatewayDeps & { readonly metricsRegistry?: Registry },
): Promise<RunningGateway> {
  const core = createCore(deps);
  const { config, logger } = core;
  const lifecycle = createLifecycle();
  const isApi = config.role === 'api' || config.role === 'all';
  const liveHub = new LiveHub({ subscriber: core.subscriber('live-sub'), keys: core.keys });
  const ctx = httpContextOf(core, liveHub, lifecycle);
  // Built once: every route shares its login throttle and `X-Auth-Token` cache.
  const auth = createHttpAuth(ctx);
  const featureDeps: FeatureDeps = {
    http: ctx,
    auth,
    authenticated: chainHandlers(auth.authenticate(), createRateLimit(ctx)),
    isApi,
  };
  const messages = createMessagesFeature(core, featureDeps);
  const withQueue = { ...featureDeps, outbound: messages.outbound, liveHub };
  // Routers mount in this order (the `/` routers of metrics and docs first, the events router,
  // also at `/`, last); features start in it and close in reverse (so webhook deliveries, which
  // may post replies, stop before outbound sending).
  const features: Feature[] = [
    createMetricsFeature(core, deps.metricsRegistry ? { registry: deps.metricsRegistry } : {}),
    createDocsFeature(core),
    createSessionsFeature(core, featureDeps),
    createConsoleFeature(core, featureDeps),
    messages,
    createWebhooksFeature(core, withQueue),
    createHooksFeature(core, withQueue),
    createMethodsFeature(core, featureDeps),
    createEventsFeature(core, withQueue),
  ];

  const app = createApp(
    ctx,
    features.flatMap((feature) => feature.routers),
  );
  const server = createServer(
    expressServerOptions(app),
    withFastRoutes(
      app,
      ctx,
      features.flatMap((feature) => feature.fastRoutes ?? []),
    ),
  );
  // SSE responses live for hours: no request timeout; idle keep-alive sockets still close.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const metricsServer =
    deps.metricsRegistry && config.http.metricsPort !== undefined
      ? createServer(createMetricsApp({ registry: deps.metricsRegistry, logger }))
      : undefined;

  await core.calls.start();
  await core.presence.start();
  await core.pool?.start();
  for (const feature of features) await feature.start?.();
  const port = await listen(server, config.http.port, config.http.host);
  if (metricsServer && config.http.metricsPort !== undefined)
    await listen(metricsServer, config.http.metricsPort, config.http.host);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Order from architecture.md: not ready -> refuse new requests -> SSE `reconnect` ->
      // workers close -> leases released -> Redis quit. Each step runs even if one fails.
      lifecycle.startDraining();
      const steps: [string, () => Promise<unknown>][] = [
        ...features
          .filter((feature) => feature.closeStreams)
          .map((feature): [string, () => Promise<unknown>] => [
            `${feature.name} streams`,
            async () => feature.closeStreams?.(),
          ]),
        ['http', () => closeServer(server)],
        ['metrics http', () => (metricsServer ? closeServer(metricsServer) : Promise.resolve())],
        // Before the pool, in reverse order of composition: webhook deliveries and outbound
        // sends in flight finish on live sessions.
        ...[...features]
          .reverse()
          .map((feature): [string, () => Promise<unknown>] => [feature.name, () => feature.close()]),
        ['session pool', async () => core.pool?.close()],
        ['worker presence', () => core.presence.close()],
        ['call router', () => core.calls.close()],
        ['live hub', () => liveHub.close()],
        ['redis', () => core.quitRedis()],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          logger.error({ err, step: name }, 'shutdown step failed');
        }
      }
    })();
    return closing;
  };
  return { core, server, port, close };
}

/**
 * The server's request listener: the features' fast routes (served without Express' router, behind
 * the same front handlers), and the app for everything else.
 */
export function withFastRoutes(
  app: Express,
  ctx: HttpContext,
  fastRoutes: readonly FastRoute[],
): RequestListener {
  if (fastRoutes.length === 0) return app;
  const front = createFrontHandlers(ctx);
  const errorHandler = createErrorHandler(ctx);
  const fastPaths = fastRoutes.map((route) =>
    createFastPath({
      app,
      method: route.method,
      path: route.path,
      handlers: [
        front.requestId,
        front.requestLogger,
        front.httpMetrics,
        fixedRoute(route.path),
        front.cors,
        front.refuseWhileDraining,
        ...route.handlers,
      ],
      errorHandler,
      headers: { 'X-Content-Type-Options': 'nosniff' },
    }),
  );
  return (req, res) => {
    if (!fastPaths.some((fastPath) => fastPath(req, res))) app(req, res);
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive sockets would hold close() open until they time out.
    server.closeIdleConnections();
  });
}
