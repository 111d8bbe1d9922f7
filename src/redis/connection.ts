/**
 * The one place that turns `RedisConfig` into an ioredis client: a standalone `Redis`, or a
 * `Cluster` when `REDIS_CLUSTER` is set (REDIS_URL is then one seed node; ioredis learns the
 * others from CLUSTER SLOTS and follows MOVED/ASK redirections).
 *
 * Both kinds answer the same commands, so the rest of the gateway is written against
 * `RedisClient`. What a Cluster refuses is a MULTI, pipeline or Lua script whose keys span
 * slots: keys are hash-tagged per user (`src/redis/keys.ts`) so that never happens, and the
 * few batches that do span users (lease renewal, hook listing) send their commands one by one.
 *
 * Pub/Sub connections are always standalone (`createSubscriberClient`): see there why.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/index.js';
import { coalesceWrites } from './coalesced-writes.js';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Shown by `CLIENT LIST` as `gw:<name>`: tells an operator which part holds a connection. */
  readonly name: string;
  /**
   * Coalesce commands issued in the same turn into one write: on a standalone client by corking
   * its socket for the turn (`coalesced-writes.ts`: ioredis' auto-pipelines outlive young-generation
   * collections), on a Cluster with ioredis' auto-pipelining (per node).
   */
  readonly isAutoPipelined?: boolean;
}

/** Reconnect backoff for a lost connection: 50 ms doubling to 2 s, then every 2 s, forever. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
}

export function createRedisClient(config: RedisConfig, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    connectionName: `gw:${options.name}`,
    // Commands wait for a reconnect instead of failing after 20 retries: a Redis restart must
    // not turn into lost events. Callers that cannot wait have their own timeouts. BullMQ
    // workers require it too.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
  };
  if (!config.isCluster) {
    const client = new Redis(config.url, { ...common, retryStrategy: reconnectDelayMs });
    return options.isAutoPipelined ? coalesceWrites(client) : client;
  }
  const seed = new URL(config.url);
  const clusterOptions: ClusterOptions = {
    enableAutoPipelining: options.isAutoPipelined ?? false,
    enableReadyCheck: true,
    // The whole cluster unreachable (all seeds down): keep trying, as the standalone client does.
    clusterRetryStrategy: reconnectDelayMs,
    redisOptions: {
      ...common,
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      ...(seed.protocol === 'rediss:' ? { tls: { servername: seed.hostname } } : {}),
    },
    // With TLS, node addresses go to the TLS layer unresolved: certificates name hosts, and a
    // resolved IP would fail verification (managed clusters announce their nodes by hostname).
    ...(seed.protocol === 'rediss:' ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], clusterOptions);
}

/**
 * A connection for SUBSCRIBE/PSUBSCRIBE only. Always a standalone client, also on a Cluster:
 * classic Pub/Sub is broadcast to every node of a cluster, so one connection to any node hears
 * every channel, and a standalone client keeps the semantics the gateway relies on: `ready` after
 * each reconnect (listeners re-read the log for what Pub/Sub dropped meanwhile) and channels
 * re-subscribed by ioredis. ioredis' cluster subscriber does neither visibly (and in 5.x its
 * lazily opened connection failed its ready check when subscriptions raced the handshake,
 * ioredis issue #2037, which turned SSE opens into 500s). On a Cluster it connects to
 * REDIS_URL's node: behind a Service that spreads connections, a reconnect lands on a live node.
 */
export function createSubscriberClient(config: RedisConfig, options: { readonly name: string }): Redis {
  return new Redis(config.url, {
    connectionName: `gw:${options.name}`,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: reconnectDelayMs,
  });
}

export interface DuplicateOverrides {
  /** Each turn's commands in one write, as `RedisClientOptions.isAutoPipelined` (coalesced writes on a standalone client). */
  readonly enableAutoPipelining?: boolean;
  /** BullMQ's blocking reads refuse a client that gives up on a command after N retries. */
  readonly maxRetriesPerRequest?: null;
}

/** A new connection of the same kind, to the same server(s), with a few options changed. */
export function duplicateClient(redis: RedisClient, overrides: DuplicateOverrides = {}): RedisClient {
  if (!(redis instanceof Cluster)) {
    const { enableAutoPipelining, ...rest } = overrides;
    const duplicate = redis.duplicate({ ...rest, enableAutoPipelining: false });
    return enableAutoPipelining ? coalesceWrites(duplicate) : duplicate;
  }
  const { maxRetriesPerRequest, ...clusterOverrides } = overrides;
  // Cluster.duplicate merges options shallowly: node options must be passed whole.
  return redis.duplicate([], {
    ...clusterOverrides,
    ...(maxRetriesPerRequest === null
      ? { redisOptions: { ...redis.options.redisOptions, maxRetriesPerRequest } }
      : {}),
  });
}
