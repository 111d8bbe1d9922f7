/**
 * Everything the HTTP tier needs, injected by the composition root (src/gateway.ts). Routes take
 * what they use from here; nothing in src/http creates connections or reads the environment.
 */

import { type Clock, systemClock } from '../clock.js';
import type { GatewayConfig } from '../config/index.js';
import type { EventLog } from '../events/event-log.js';
import type { LiveHub } from '../events/live-hub.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { CredentialStore } from '../sessions/credential-store.js';

/** Shutdown state shared by every route: once draining, new work is refused with 503. */
export interface Lifecycle {
  isDraining(): boolean;
  /** Runs `listener` when draining starts (SSE streams send `reconnect` and end). */
  onDrain(listener: () => void): () => void;
}

export interface HttpContext {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly eventLog: EventLog;
  readonly liveHub: LiveHub;
  readonly credentials: CredentialStore;
  readonly consumers: ConsumerRegistry;
  readonly calls: CallRouter;
  readonly rest: RocketChatRestClient;
  readonly lifecycle: Lifecycle;
  /** Unique per process: names this replica's SSE consumers in Redis. */
  readonly processId: string;
  /** Time for token expiry, caches and timeouts, so tests can move it. @defaultValue systemClock */
  readonly clock?: Clock;
}

/** The context's clock, or the system clock when it has none. */
export function clockOf(ctx: Pick<HttpContext, 'clock'>): Clock {
  return ctx.clock ?? systemClock;
}

/** The authenticated caller. The user id always comes from a verified token, never a parameter. */
export interface Principal {
  readonly userId: string;
  readonly username: string | undefined;
  /** How the request proved who it is. */
  readonly via: 'jwt' | 'rocketchat-headers' | 'query-token' | 'cookie';
  /** The logout generation of a gateway token (tokens.ts); tokens issued from it carry it on. */
  readonly generation?: number;
}

declare global {
  namespace Express {
    interface Request {
      /** Set by the `authenticate` middleware. */
      principal?: Principal;
      /** Set by the request-id middleware; on every log line of the request. */
      requestId?: string;
    }
  }
}
