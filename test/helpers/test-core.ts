/**
 * The gateway's real composition (src/gateway.ts `createCore`) in the test process, configured
 * like a deployment would be, pointed at a private Redis and the simulator.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/index.js';
import { createCore, type GatewayCore } from '../../src/gateway.js';
import { createLogger, type Logger } from '../../src/log/index.js';
import { createNoopMetrics, type Metrics } from '../../src/metrics/index.js';

export interface TestCoreOptions {
  readonly redisUrl: string;
  readonly rocketchatUrl: string;
  /** Shared by cores that must read each other's state (same prefix and keys). */
  readonly shared?: Record<string, string>;
  readonly env?: Record<string, string>;
  /** Real metrics, for tests that read them. @defaultValue no-op metrics */
  readonly metrics?: Metrics;
  /** A manual clock, for tests that move time by hand. @defaultValue systemClock */
  readonly clock?: Clock;
}

export function sharedEnv(): Record<string, string> {
  return {
    REDIS_KEY_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    GATEWAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(32).toString('hex'),
  };
}

export interface TestCore extends GatewayCore {
  readonly logLines: string[];
  close(): Promise<void>;
}

/**
 * The environment every test core and test gateway starts from: a fresh worker id and short
 * session timings, then the shared secrets and prefix (`sharedEnv()` unless given), then `env`.
 */
export function testEnv(options: {
  readonly redisUrl: string;
  readonly rocketchatUrl: string;
  readonly shared?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly defaults?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    REDIS_URL: options.redisUrl,
    ROCKETCHAT_URL: options.rocketchatUrl,
    WORKER_ID: `w-${randomUUID().slice(0, 8)}`,
    SESSION_LEASE_TTL_MS: '1500',
    SUBSCRIPTION_LINGER_MS: '200',
    RECONNECT_MAX_DELAY_MS: '1000',
    ...options.defaults,
    ...(options.shared ?? sharedEnv()),
    ...options.env,
  };
}

/** A logger whose lines are kept in memory (nothing is printed), for tests that read them. */
export function createMemoryLogger(level: 'trace' | 'debug' = 'debug'): {
  readonly logger: Logger;
  readonly logLines: string[];
} {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination: sink }), logLines };
}

export function createTestCore(options: TestCoreOptions): TestCore {
  const config = loadConfig(testEnv({ ...options, defaults: { DDP_HEARTBEAT_MS: '5000' } }));
  const { logger, logLines } = createMemoryLogger();
  const core = createCore({
    config,
    logger,
    metrics: options.metrics ?? createNoopMetrics(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    ...core,
    logLines,
    close: async () => {
      await core.pool?.close();
      await core.calls.close();
      await core.quitRedis();
    },
  };
}
