/**
 * Reads the environment once, at start: every variable through `envSchema`, then the rules that
 * span variables, then the typed `GatewayConfig`. All problems are collected and thrown together
 * as one `ConfigError`. Nothing else in the gateway reads `process.env`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { deepFreeze } from '../deep-freeze.js';
import { ConfigProblems } from './config-problems.js';
import { resolveEncryption } from './encryption-keys.js';
import { readEnvInput } from './env-input.js';
import { ENV_VARIABLES, envSchema, type ParsedEnv, SECRET_VARIABLES } from './env-schema.js';
import type { GatewayConfig, RocketChatConfig } from './gateway-config.js';
import { resolveJwtKeys } from './jwt-keys.js';

export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): GatewayConfig {
  const problems = new ConfigProblems();
  const input = readEnvInput(env, problems);
  const parsed = parseEach(input, problems);
  const warnings: string[] = [];
  const isProduction = parsed.NODE_ENV === 'production';

  if (parsed.METRICS_PORT !== undefined && parsed.METRICS_PORT === parsed.PORT && !problems.hasAny('PORT')) {
    problems.add('METRICS_PORT', 'must differ from PORT (leave it unset to serve /metrics on PORT)');
  }
  if (parsed.REDIS_CLUSTER && !problems.hasAny('REDIS_URL') && !/^\/?0?$/.test(parsed.REDIS_URL.pathname)) {
    problems.add(
      'REDIS_URL',
      'must not name a database when REDIS_CLUSTER is true (a Redis Cluster has only database 0)',
    );
  }
  const jwt = resolveJwtKeys(parsed, isProduction, problems, warnings);
  const encryption = resolveEncryption(parsed, isProduction, problems, warnings);
  if (isProduction && parsed.PUBLIC_URL === undefined) {
    warnings.push('PUBLIC_URL is not set: incoming-hook URLs will point at localhost');
  }
  problems.throwIfAny();

  const publicUrl = parsed.PUBLIC_URL
    ? withoutTrailingSlash(parsed.PUBLIC_URL.href)
    : `http://localhost:${parsed.PORT}`;
  return deepFreeze<GatewayConfig>({
    nodeEnv: parsed.NODE_ENV,
    isProduction,
    role: parsed.GATEWAY_ROLE,
    workerId: parsed.WORKER_ID ?? defaultWorkerId(),
    shutdownGraceMs: parsed.SHUTDOWN_GRACE_MS,
    warnings,
    rocketchat: rocketChatUrls(parsed.ROCKETCHAT_URL),
    redis: {
      url: parsed.REDIS_URL.href,
      isCluster: parsed.REDIS_CLUSTER,
      keyPrefix: parsed.REDIS_KEY_PREFIX,
      queuePrefix: `{${parsed.REDIS_KEY_PREFIX}}:q`,
    },
    http: {
      port: parsed.PORT,
      host: parsed.HOST,
      metricsPort: parsed.METRICS_PORT,
      publicUrl,
      corsOrigins: [...parsed.CORS_ORIGINS],
      requestBodyLimitBytes: parsed.REQUEST_BODY_LIMIT_BYTES,
      rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
      loginFailures: {
        perAddress: parsed.LOGIN_MAX_FAILURES_PER_ADDRESS,
        perUser: parsed.LOGIN_MAX_FAILURES_PER_USER,
        windowMs: parsed.LOGIN_FAILURE_WINDOW_MS,
      },
      isConsoleEnabled: parsed.CONSOLE_ENABLED ?? !isProduction,
      trustProxy: parsed.TRUST_PROXY,
    },
    jwt: {
      ...jwt.keys,
      issuer: parsed.JWT_ISSUER,
      audience: parsed.JWT_AUDIENCE,
      ttlSeconds: parsed.JWT_TTL_SECONDS,
      sseQueryTokenTtlSeconds: parsed.SSE_QUERY_TOKEN_TTL_SECONDS,
      isEphemeral: jwt.isEphemeral,
    },
    encryption,
    log: { level: parsed.LOG_LEVEL },
    sessions: {
      workerMaxSessions: parsed.WORKER_MAX_SESSIONS,
      leaseTtlMs: parsed.SESSION_LEASE_TTL_MS,
      idleMs: parsed.SESSION_IDLE_MS,
      subscriptionLingerMs: parsed.SUBSCRIPTION_LINGER_MS,
      forwardTimeoutMs: parsed.FORWARD_TIMEOUT_MS,
      ddpHeartbeatMs: parsed.DDP_HEARTBEAT_MS,
      ddpCallTimeoutMs: parsed.DDP_CALL_TIMEOUT_MS,
      reconnectMaxDelayMs: parsed.RECONNECT_MAX_DELAY_MS,
    },
    events: { logMaxLen: parsed.EVENT_LOG_MAX_LEN, logMaxAgeMs: parsed.EVENT_LOG_MAX_AGE_MS },
    sse: {
      heartbeatMs: parsed.SSE_HEARTBEAT_MS,
      retryMs: parsed.SSE_RETRY_MS,
      maxBufferBytes: parsed.SSE_MAX_BUFFER_BYTES,
      maxStreamsPerUser: parsed.SSE_MAX_STREAMS_PER_USER,
    },
    webhooks: {
      isPrivateTargetAllowed: parsed.WEBHOOK_ALLOW_PRIVATE_TARGETS,
      isHttpAllowed: parsed.WEBHOOK_ALLOW_HTTP ?? !isProduction,
      timeoutMs: parsed.WEBHOOK_TIMEOUT_MS,
      retryScheduleMs: [...parsed.WEBHOOK_RETRY_SCHEDULE_MS],
      disableAfterFailures: parsed.WEBHOOK_DISABLE_AFTER_FAILURES,
      concurrencyPerEndpoint: parsed.WEBHOOK_CONCURRENCY_PER_ENDPOINT,
      secretGraceMs: parsed.WEBHOOK_SECRET_GRACE_MS,
    },
    outbound: { concurrency: parsed.OUTBOUND_CONCURRENCY, maxAttempts: parsed.OUTBOUND_MAX_ATTEMPTS },
  });
}

/**
 * Parses variable by variable rather than the whole object, so that a bad one does not hide the
 * rules that span the others: a variable that fails is recorded and takes its default (never
 * used, since the problems are thrown before the config is built).
 */
function parseEach(input: Readonly<Record<string, string | undefined>>, problems: ConfigProblems): ParsedEnv {
  const parsed: Record<string, unknown> = {};
  for (const variable of ENV_VARIABLES) {
    const schema = envSchema.shape[variable];
    const raw = input[variable];
    const result = schema.safeParse(raw);
    if (result.success) {
      parsed[variable] = result.data;
      continue;
    }
    const message = result.error.issues[0]?.message ?? 'is invalid';
    const got = raw === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(raw)})`;
    problems.add(variable, `${message}${got}`);
    parsed[variable] = schema.parse(undefined);
  }
  return parsed as ParsedEnv;
}

/** DDP and REST live under Rocket.Chat's base URL, which may have a path (`https://host/chat`). */
function rocketChatUrls(base: URL): RocketChatConfig {
  const url = withoutTrailingSlash(base.href);
  const ddpBase = withoutTrailingSlash(
    `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${base.pathname}`,
  );
  return { url, ddpUrl: `${ddpBase}/websocket`, restUrl: `${url}/api/v1` };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function defaultWorkerId(): string {
  // Hostnames are already safe in a Kubernetes pod; elsewhere, keep the id a plain identifier.
  const host = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 100);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
