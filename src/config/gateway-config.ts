/**
 * The gateway's configuration as the rest of the code sees it: typed, with units in the names,
 * deeply frozen. Built once by `loadConfig()`; the environment variable behind each field is
 * named in its comment and documented in the README's configuration table.
 */
import type { GATEWAY_ROLES, JWT_ALGORITHMS, LOG_LEVELS, NODE_ENVS } from './env-schema.js';

export type NodeEnv = (typeof NODE_ENVS)[number];
export type GatewayRole = (typeof GATEWAY_ROLES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export interface RocketChatConfig {
  /** `ROCKETCHAT_URL`, without a trailing slash. @defaultValue 'http://127.0.0.1:3100' */
  readonly url: string;
  /** DDP endpoint: `ws(s)://<host><path>/websocket`. */
  readonly ddpUrl: string;
  /** REST base: `<url>/api/v1`. */
  readonly restUrl: string;
}

export interface RedisConfig {
  /** `REDIS_URL`. May carry a password: never log it. @defaultValue 'redis://127.0.0.1:6379' */
  readonly url: string;
  /**
   * `REDIS_CLUSTER`: `url` is one seed node of a Redis Cluster; the client discovers the rest.
   * @defaultValue false
   */
  readonly isCluster: boolean;
  /** `REDIS_KEY_PREFIX`, the first part of every key. @defaultValue 'gw' */
  readonly keyPrefix: string;
  /**
   * BullMQ `prefix`: `{<keyPrefix>}:q`. The hash tag puts every queue key in one Cluster slot,
   * which BullMQ's multi-key Lua scripts require.
   */
  readonly queuePrefix: string;
}

export interface HttpConfig {
  /** `PORT`. @defaultValue 3000 */
  readonly port: number;
  /** `HOST`. @defaultValue '0.0.0.0' */
  readonly host: string;
  /** `METRICS_PORT`: serve `/metrics` on its own port; undefined means on `port`. */
  readonly metricsPort: number | undefined;
  /** `PUBLIC_URL`, the base of incoming-hook URLs, without a trailing slash. @defaultValue `http://localhost:<port>` */
  readonly publicUrl: string;
  /** `CORS_ORIGINS`; empty means no CORS headers, `['*']` means any origin. @defaultValue [] */
  readonly corsOrigins: readonly string[];
  /** `REQUEST_BODY_LIMIT_BYTES`. @defaultValue 1048576 (1 MiB) */
  readonly requestBodyLimitBytes: number;
  /** `RATE_LIMIT_PER_MINUTE`, per authenticated user. @defaultValue 600 */
  readonly rateLimitPerMinute: number;
  /** Failed logins allowed before `POST /v1/sessions` (and header checks) answer 429. */
  readonly loginFailures: LoginFailureLimits;
  /** `CONSOLE_ENABLED`: serve the browser console. @defaultValue true, false in production */
  readonly isConsoleEnabled: boolean;
  /**
   * `TRUST_PROXY`, Express' `trust proxy`: which hops may set `X-Forwarded-For`, so that the
   * per-IP rate limits see clients rather than the ingress. @defaultValue false
   */
  readonly trustProxy: false | number | readonly string[];
}

export interface LoginFailureLimits {
  /** `LOGIN_MAX_FAILURES_PER_ADDRESS`, per client address (`req.ip`). @defaultValue 20 */
  readonly perAddress: number;
  /** `LOGIN_MAX_FAILURES_PER_USER`, per username or user id tried. @defaultValue 10 */
  readonly perUser: number;
  /** `LOGIN_FAILURE_WINDOW_MS`, the sliding window both count in. @defaultValue 300000 */
  readonly windowMs: number;
}

/** How tokens are signed: a shared secret (HS256) or a key pair (RS256, ES256). */
export type JwtKeyConfig =
  | {
      readonly algorithm: 'HS256';
      /** `JWT_SECRET`, or a random one outside production (see `isEphemeral`). */
      readonly secret: string;
    }
  | {
      readonly algorithm: 'RS256' | 'ES256';
      /** `JWT_PUBLIC_KEY` (PEM), or derived from the private key. */
      readonly publicKey: string;
      /** `JWT_PRIVATE_KEY` (PEM); undefined means tokens are verified but not issued. */
      readonly privateKey: string | undefined;
    };

export type JwtConfig = JwtKeyConfig & {
  /** `JWT_ISSUER` (`iss`). @defaultValue 'rocketchat-gateway' */
  readonly issuer: string;
  /** `JWT_AUDIENCE` (`aud`). @defaultValue 'rocketchat-gateway' */
  readonly audience: string;
  /** `JWT_TTL_SECONDS`, lifetime of issued tokens. @defaultValue 3600 */
  readonly ttlSeconds: number;
  /** `SSE_QUERY_TOKEN_TTL_SECONDS`, lifetime of the short token for `?access_token=`. @defaultValue 300 */
  readonly sseQueryTokenTtlSeconds: number;
  /** True when the secret was generated at start: tokens die with the process. */
  readonly isEphemeral: boolean;
};

export interface EncryptionKeyConfig {
  readonly id: string;
  /** 32 bytes for AES-256-GCM. Not frozen (a Buffer cannot be): never write to it. */
  readonly key: Buffer;
}

export interface EncryptionConfig {
  /** `GATEWAY_ENCRYPTION_KEY_ID` and `GATEWAY_ENCRYPTION_KEY`: encrypts everything new. */
  readonly current: EncryptionKeyConfig;
  /** `GATEWAY_ENCRYPTION_OLD_KEYS`: still decrypt, never encrypt. @defaultValue [] */
  readonly oldKeys: readonly EncryptionKeyConfig[];
  /** True when the key was generated at start: stored credentials die with the process. */
  readonly isEphemeral: boolean;
}

export interface LogConfig {
  /** `LOG_LEVEL`. @defaultValue 'info' */
  readonly level: LogLevel;
}

export interface SessionsConfig {
  /** `WORKER_MAX_SESSIONS`: upstream sessions one worker holds at most. @defaultValue 5000 */
  readonly workerMaxSessions: number;
  /** `SESSION_LEASE_TTL_MS`: a dead worker's sessions are taken over after this. @defaultValue 6000 */
  readonly leaseTtlMs: number;
  /** `SESSION_IDLE_MS`: a session nobody uses is closed after this. @defaultValue 300000 */
  readonly idleMs: number;
  /** `SUBSCRIPTION_LINGER_MS`: an unwanted subscription stays this long before unsubscribing. @defaultValue 10000 */
  readonly subscriptionLingerMs: number;
  /** `FORWARD_TIMEOUT_MS`: wait for the owning worker's answer to a forwarded call. @defaultValue 15000 */
  readonly forwardTimeoutMs: number;
  /** `DDP_HEARTBEAT_MS`: ping interval on an idle DDP connection. @defaultValue 25000 */
  readonly ddpHeartbeatMs: number;
  /** `DDP_CALL_TIMEOUT_MS`: wait for a DDP method result. @defaultValue 30000 */
  readonly ddpCallTimeoutMs: number;
  /** `RECONNECT_MAX_DELAY_MS`: cap of the jittered reconnect backoff. @defaultValue 30000 */
  readonly reconnectMaxDelayMs: number;
}

export interface EventsConfig {
  /** `EVENT_LOG_MAX_LEN`: entries kept per user log (approximate `MAXLEN ~`). @defaultValue 10000 */
  readonly logMaxLen: number;
  /** `EVENT_LOG_MAX_AGE_MS`: entries older than this are trimmed (`MINID`). @defaultValue 86400000 (24 h) */
  readonly logMaxAgeMs: number;
}

export interface SseConfig {
  /** `SSE_HEARTBEAT_MS`: comment line after this much silence. @defaultValue 15000 */
  readonly heartbeatMs: number;
  /** `SSE_RETRY_MS`: the `retry:` field sent to clients. @defaultValue 2000 */
  readonly retryMs: number;
  /** `SSE_MAX_BUFFER_BYTES`: a client whose unsent bytes exceed this is dropped. @defaultValue 1048576 (1 MiB) */
  readonly maxBufferBytes: number;
  /**
   * `SSE_MAX_STREAMS_PER_USER`: streams one user may hold open on one replica; one more is
   * refused with 429. Each stream may buffer up to `maxBufferBytes`. @defaultValue 20
   */
  readonly maxStreamsPerUser: number;
}

export interface WebhooksConfig {
  /** `WEBHOOK_ALLOW_PRIVATE_TARGETS`: allow loopback, private and link-local targets. @defaultValue false */
  readonly isPrivateTargetAllowed: boolean;
  /** `WEBHOOK_ALLOW_HTTP`: allow `http:` targets. @defaultValue true, false in production */
  readonly isHttpAllowed: boolean;
  /** `WEBHOOK_TIMEOUT_MS`: one delivery attempt. @defaultValue 10000 */
  readonly timeoutMs: number;
  /**
   * `WEBHOOK_RETRY_SCHEDULE_MS`: delay before each retry; attempts = length + 1.
   * @defaultValue [5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000] (Svix's)
   */
  readonly retryScheduleMs: readonly number[];
  /**
   * `WEBHOOK_DISABLE_AFTER_FAILURES`: an endpoint is disabled after this many consecutive
   * deliveries that exhausted every retry (any 2xx resets the count); 0 never disables.
   *
   * Why 20: with the default schedule one exhausted delivery already means about 27.6 hours
   * without a success, which alone can be one poisoned payload the receiver always rejects.
   * Twenty in a row, with no success in between, is a dead endpoint rather than a bad message,
   * and for an endpoint with steady traffic it triggers a little over a day into the outage:
   * sooner than Svix (disable after 5 days of failure) because our retries already span 27.6 h
   * per message, yet never on a brief outage, which a count of failed attempts would do.
   * @defaultValue 20
   */
  readonly disableAfterFailures: number;
  /** `WEBHOOK_CONCURRENCY_PER_ENDPOINT`: deliveries in flight to one endpoint. @defaultValue 4 */
  readonly concurrencyPerEndpoint: number;
  /** `WEBHOOK_SECRET_GRACE_MS`: after a rotation, the old secret also signs for this long. @defaultValue 86400000 (24 h) */
  readonly secretGraceMs: number;
}

export interface OutboundConfig {
  /** `OUTBOUND_CONCURRENCY`: outbound jobs processed at once per worker. @defaultValue 16 */
  readonly concurrency: number;
  /** `OUTBOUND_MAX_ATTEMPTS`: attempts before a message is reported failed. @defaultValue 20 */
  readonly maxAttempts: number;
}

export interface GatewayConfig {
  /** `NODE_ENV`. @defaultValue 'development' */
  readonly nodeEnv: NodeEnv;
  readonly isProduction: boolean;
  /** `GATEWAY_ROLE`. @defaultValue 'all' */
  readonly role: GatewayRole;
  /** `WORKER_ID`: names this process in leases. @defaultValue `<hostname>-<pid>-<random>` */
  readonly workerId: string;
  /** `SHUTDOWN_GRACE_MS`: how long a graceful stop may take before it is forced. @defaultValue 25000 */
  readonly shutdownGraceMs: number;
  /** Things an operator should know but that do not stop the start (ephemeral keys...). Log them. */
  readonly warnings: readonly string[];
  readonly rocketchat: RocketChatConfig;
  readonly redis: RedisConfig;
  readonly http: HttpConfig;
  readonly jwt: JwtConfig;
  readonly encryption: EncryptionConfig;
  readonly log: LogConfig;
  readonly sessions: SessionsConfig;
  readonly events: EventsConfig;
  readonly sse: SseConfig;
  readonly webhooks: WebhooksConfig;
  readonly outbound: OutboundConfig;
}
