/**
 * Every environment variable the gateway reads, with its type and default. This is the list
 * the README's configuration table must match (`test/unit/config-docs.test.ts`). Defaults that depend on
 * another variable (`PUBLIC_URL`, `CONSOLE_ENABLED`, `WEBHOOK_ALLOW_HTTP`, `WORKER_ID`) and rules
 * across variables (JWT keys, encryption keys in production) are applied in `load-config.ts`.
 */
import { z } from 'zod';
import {
  boolean,
  durationList,
  durationMs,
  encryptionKey,
  encryptionKeyList,
  identifier,
  integer,
  keyId,
  MAX_TIMER_MS,
  MiB,
  oneOf,
  origins,
  port,
  text,
  trustProxy,
  url,
} from './env-fields.js';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const GATEWAY_ROLES = ['api', 'worker', 'all'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;

/**
 * Svix's schedule (svix-server `config.default.toml`): after the first attempt, 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h; 8 attempts over about 27.6 hours.
 */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND_MS,
  5 * MINUTE_MS,
  30 * MINUTE_MS,
  2 * HOUR_MS,
  5 * HOUR_MS,
  10 * HOUR_MS,
  10 * HOUR_MS,
];

const httpUrl = () =>
  url(['http:', 'https:'], 'must be an http:// or https:// URL without user, query or fragment');

export const envSchema = z.object({
  NODE_ENV: oneOf(NODE_ENVS).default('development'),

  ROCKETCHAT_URL: httpUrl().default(new URL('http://127.0.0.1:3100')),
  REDIS_URL: url(['redis:', 'rediss:'], 'must be a redis:// or rediss:// URL', true).default(
    new URL('redis://127.0.0.1:6379'),
  ),
  REDIS_KEY_PREFIX: identifier(32).default('gw'),
  REDIS_CLUSTER: boolean().default(false),

  // 0: any free port, reported in the `gateway started` line (tests, several local replicas).
  PORT: integer(0, 65_535).default(3000),
  HOST: text().default('0.0.0.0'),
  METRICS_PORT: port().optional(),
  GATEWAY_ROLE: oneOf(GATEWAY_ROLES).default('all'),
  WORKER_ID: identifier(128).optional(),

  // RFC 7518 §3.2: an HS256 key must be at least 256 bits; 32 characters is the floor we check.
  JWT_SECRET: text(
    32,
    'must be at least 32 characters (HS256 needs a 256-bit key, RFC 7518 §3.2)',
  ).optional(),
  JWT_PUBLIC_KEY: text().optional(),
  JWT_PRIVATE_KEY: text().optional(),
  JWT_ALGORITHM: oneOf(JWT_ALGORITHMS).optional(),
  JWT_ISSUER: text().default('rocketchat-gateway'),
  JWT_AUDIENCE: text().default('rocketchat-gateway'),
  JWT_TTL_SECONDS: integer(1, 366 * 24 * 3600).default(3600),
  SSE_QUERY_TOKEN_TTL_SECONDS: integer(1, 24 * 3600).default(300),

  GATEWAY_ENCRYPTION_KEY: encryptionKey().optional(),
  GATEWAY_ENCRYPTION_KEY_ID: keyId().default('k1'),
  GATEWAY_ENCRYPTION_OLD_KEYS: encryptionKeyList().optional(),

  LOG_LEVEL: oneOf(LOG_LEVELS).default('info'),
  PUBLIC_URL: httpUrl().optional(),
  SHUTDOWN_GRACE_MS: durationMs(0).default(25 * SECOND_MS),
  CORS_ORIGINS: origins().default([]),
  REQUEST_BODY_LIMIT_BYTES: integer(1, 100 * MiB).default(MiB),
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
  LOGIN_MAX_FAILURES_PER_ADDRESS: integer(1, 1_000_000).default(20),
  LOGIN_MAX_FAILURES_PER_USER: integer(1, 1_000_000).default(10),
  LOGIN_FAILURE_WINDOW_MS: durationMs(1000).default(5 * MINUTE_MS),
  CONSOLE_ENABLED: boolean().optional(),
  TRUST_PROXY: trustProxy().default(false),

  WORKER_MAX_SESSIONS: integer(1, 1_000_000).default(5000),
  SESSION_LEASE_TTL_MS: durationMs(100).default(6 * SECOND_MS),
  SESSION_IDLE_MS: durationMs().default(5 * MINUTE_MS),
  SUBSCRIPTION_LINGER_MS: durationMs(0).default(10 * SECOND_MS),
  FORWARD_TIMEOUT_MS: durationMs().default(15 * SECOND_MS),
  DDP_HEARTBEAT_MS: durationMs().default(25 * SECOND_MS),
  DDP_CALL_TIMEOUT_MS: durationMs().default(30 * SECOND_MS),
  RECONNECT_MAX_DELAY_MS: durationMs().default(30 * SECOND_MS),

  EVENT_LOG_MAX_LEN: integer(1, 100_000_000).default(10_000),
  // Not a timer (it bounds the stream by entry id), so it may exceed MAX_TIMER_MS.
  EVENT_LOG_MAX_AGE_MS: integer(1, 366 * DAY_MS).default(DAY_MS),

  SSE_HEARTBEAT_MS: durationMs().default(15 * SECOND_MS),
  SSE_RETRY_MS: durationMs(0).default(2 * SECOND_MS),
  SSE_MAX_BUFFER_BYTES: integer(1024, 1024 * MiB).default(MiB),
  SSE_MAX_STREAMS_PER_USER: integer(1, 100_000).default(20),

  WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean().default(false),
  WEBHOOK_ALLOW_HTTP: boolean().optional(),
  WEBHOOK_TIMEOUT_MS: durationMs().default(10 * SECOND_MS),
  WEBHOOK_RETRY_SCHEDULE_MS: durationList(0, MAX_TIMER_MS).default([...DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS]),
  // See WebhooksConfig.disableAfterFailures for why 20.
  WEBHOOK_DISABLE_AFTER_FAILURES: integer(0, 1_000_000).default(20),
  WEBHOOK_CONCURRENCY_PER_ENDPOINT: integer(1, 1000).default(4),
  WEBHOOK_SECRET_GRACE_MS: integer(0, 30 * DAY_MS).default(DAY_MS),

  OUTBOUND_CONCURRENCY: integer(1, 10_000).default(16),
  OUTBOUND_MAX_ATTEMPTS: integer(1, 1000).default(20),
});

export type EnvVariable = keyof typeof envSchema.shape;
export type ParsedEnv = z.output<typeof envSchema>;

export const ENV_VARIABLES = Object.keys(envSchema.shape) as EnvVariable[];

/** Variables whose value is never echoed in an error message (a Redis URL may hold a password). */
export const SECRET_VARIABLES: ReadonlySet<EnvVariable> = new Set<EnvVariable>([
  'REDIS_URL',
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWT_PRIVATE_KEY',
  'GATEWAY_ENCRYPTION_KEY',
  'GATEWAY_ENCRYPTION_OLD_KEYS',
]);
