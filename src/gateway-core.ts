/**
 * What `createCore` (src/gateway.ts) builds: the parts every role shares. Apart from the
 * composition root so that features (src/features) can take it without importing the file that
 * imports them.
 */
import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import type { GatewayConfig } from './config/index.js';
import type { EventLog } from './events/event-log.js';
import type { Logger } from './log/index.js';
import type { Metrics } from './metrics/index.js';
import type { RedisClient } from './redis/connection.js';
import type { GatewayKeys } from './redis/keys.js';
import type { RocketChatRestClient } from './rocketchat/rest-client.js';
import type { CallRouter } from './sessions/call-router.js';
import type { ConsumerRegistry } from './sessions/consumer-registry.js';
import type { CredentialStore } from './sessions/credential-store.js';
import type { SessionLeases } from './sessions/lease.js';
import type { SessionPool } from './sessions/session-pool.js';
import type { TokenCipher } from './sessions/token-cipher.js';
import type { WorkerPresence } from './sessions/worker-presence.js';

/** The parts every role shares. */
export interface GatewayCore {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly processId: string;
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly eventLog: EventLog;
  readonly credentials: CredentialStore;
  /** Seals secrets at rest (resume tokens, incoming-hook signing secrets). */
  readonly cipher: TokenCipher;
  readonly consumers: ConsumerRegistry;
  readonly leases: SessionLeases;
  readonly presence: WorkerPresence;
  readonly rest: RocketChatRestClient;
  readonly calls: CallRouter;
  readonly pool: SessionPool | undefined;
  /** A new command connection for a part that needs its own; the part closes it. */
  connection(name: string, options?: { readonly isAutoPipelined?: boolean }): RedisClient;
  /** A new Pub/Sub connection (standalone even on a Cluster: see `createSubscriberClient`). */
  subscriber(name: string): Redis;
  /** Quits the command connections this core made (last step of a shutdown). */
  quitRedis(): Promise<void>;
}
