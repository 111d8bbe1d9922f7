/**
 * The composition root: builds every part from the config, according to the role, and stops
 * them in the order architecture.md gives (not ready -> refuse new requests -> SSE `reconnect`
 * -> workers close -> leases released -> Redis quit). Only this file creates connections.
 */
import { Redis } from 'ioredis';
import type { GatewayConfig } from './config/index.js';
import { EventLog } from './events/event-log.js';
import type { Logger } from './log/index.js';
import type { Metrics } from './metrics/index.js';
import { createKeys, type GatewayKeys } from './redis/keys.js';
import { RocketChatRestClient } from './rocketchat/rest-client.js';
import { CallRouter } from './sessions/call-router.js';
import { ConsumerRegistry } from './sessions/consumer-registry.js';
import { type CredentialStore, createCredentialStore } from './sessions/credential-store.js';
import { SessionLeases } from './sessions/lease.js';
import { SessionPool } from './sessions/session-pool.js';
import { createTokenCipher } from './sessions/token-cipher.js';
import type { UserSessionState } from './sessions/user-session.js';

export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The parts every role shares. */
export interface GatewayCore {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly processId: string;
  readonly redis: Redis;
  readonly keys: GatewayKeys;
  readonly eventLog: EventLog;
  readonly credentials: CredentialStore;
  readonly consumers: ConsumerRegistry;
  readonly leases: SessionLeases;
  readonly rest: RocketChatRestClient;
  readonly calls: CallRouter;
  readonly pool: SessionPool | undefined;
  /** A new connection to the same Redis (for Pub/Sub and blocking commands). */
  connect(name: string): Redis;
}

const SESSION_STATE_METRIC: Partial<
  Record<UserSessionState, 'connecting' | 'connected' | 'reconnecting' | 'unauthorized'>
> = {
  starting: 'connecting',
  'catching-up': 'connected',
  live: 'connected',
  reconnecting: 'reconnecting',
  unauthorized: 'unauthorized',
};

export function createRedis(config: GatewayConfig, name: string, logger: Logger, metrics: Metrics): Redis {
  const redis = new Redis(config.redis.url, {
    connectionName: `gw:${name}`,
    // Commands wait for a reconnect instead of failing after 20 retries: a Redis restart must
    // not turn into lost events. Callers that cannot wait have their own timeouts.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(2000, 50 * 2 ** Math.min(attempt, 6)),
  });
  let lastErrorLogMs = 0;
  redis.on('error', (err: Error) => {
    metrics.redisErrors.inc();
    // One line per few seconds: a down Redis must not flood the log.
    const now = Date.now();
    if (now - lastErrorLogMs > 5000) {
      lastErrorLogMs = now;
      logger.warn({ err: { message: err.message }, connection: name }, 'redis connection error');
    }
  });
  return redis;
}

/** Builds the shared parts and, for `worker`/`all`, the session pool. Nothing is listening yet. */
export function createCore({ config, logger, metrics }: GatewayDeps): GatewayCore {
  const processId = config.workerId;
  const connect = (name: string): Redis => createRedis(config, name, logger, metrics);
  const redis = connect('commands');
  const keys = createKeys(config.redis.keyPrefix);
  const eventLog = new EventLog({
    redis,
    keys,
    maxLength: config.events.logMaxLen,
    maxAgeMs: config.events.logMaxAgeMs,
  });
  const cipherKeys = new Map<string, Buffer>([[config.encryption.current.id, config.encryption.current.key]]);
  for (const old of config.encryption.oldKeys) cipherKeys.set(old.id, old.key);
  const credentials = createCredentialStore({
    redis,
    keys,
    cipher: createTokenCipher({ currentKeyId: config.encryption.current.id, keys: cipherKeys }),
  });
  const consumers = new ConsumerRegistry({ redis, keys });
  const leases = new SessionLeases({
    redis,
    keys,
    workerId: config.workerId,
    ttlMs: config.sessions.leaseTtlMs,
  });
  const rest = new RocketChatRestClient({ baseUrl: config.rocketchat.url });
  const isWorker = config.role === 'worker' || config.role === 'all';
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
        subscriber: connect('pool-sub'),
        keys,
        leases,
        consumers,
        credentials,
        eventLog,
        rest,
        ddpUrl: config.rocketchat.ddpUrl,
        maxSessions: config.sessions.workerMaxSessions,
        lingerMs: config.sessions.subscriptionLingerMs,
        idleMs: config.sessions.idleMs,
        ddp: {
          heartbeatIntervalMs: config.sessions.ddpHeartbeatMs,
          callTimeoutMs: config.sessions.ddpCallTimeoutMs,
          reconnectMaxDelayMs: config.sessions.reconnectMaxDelayMs,
        },
        onRefused: (userId, reason) => {
          metrics.sessionRefusals[
            reason === 'capacity'
              ? 'capacity'
              : reason === 'no-credentials'
                ? 'no_credentials'
                : 'credentials_invalid'
          ].inc();
          if (reason === 'capacity')
            logger.warn({ userId, reason }, 'session refused: worker at WORKER_MAX_SESSIONS');
        },
        onError: (error, context) => logger.warn({ err: error, context }, 'session error'),
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
    subscriber: connect('calls-sub'),
    keys,
    leases,
    consumers,
    ...(pool ? { pool } : {}),
    processId,
    forwardTimeoutMs: config.sessions.forwardTimeoutMs,
  });
  return {
    config,
    logger,
    metrics,
    processId,
    redis,
    keys,
    eventLog,
    credentials,
    consumers,
    leases,
    rest,
    calls,
    pool,
    connect,
  };
}

export interface RunningGateway {
  readonly core: GatewayCore;
  /** Graceful stop within the grace period; idempotent. */
  close(): Promise<void>;
}

/** Starts the worker side (and, later in this file's life, the HTTP side) of the gateway. */
export async function startGateway(deps: GatewayDeps): Promise<RunningGateway> {
  const core = createCore(deps);
  await core.calls.start();
  await core.pool?.start();
  let closing: Promise<void> | undefined;
  return {
    core,
    close: () => {
      closing ??= (async () => {
        await core.pool?.close();
        await core.calls.close();
        await core.redis.quit().catch(() => core.redis.disconnect());
      })();
      return closing;
    },
  };
}
