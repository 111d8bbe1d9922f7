import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, type GatewayConfig, loadConfig, redactConfig } from '../../src/config/index.js';
import { isGatewayError } from '../../src/errors.js';

const SECRET = 'an-hs256-secret-that-is-long-enough-0123456789';
const KEY = randomBytes(32);
const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: SECRET,
  GATEWAY_ENCRYPTION_KEY: KEY.toString('base64'),
  PUBLIC_URL: 'https://gw.example.com/',
};

function pem(kind: 'rsa' | 'ec', options: { modulusLength?: number; namedCurve?: string }) {
  const pair =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 })
      : generateKeyPairSync('ec', { namedCurve: options.namedCurve ?? 'prime256v1' });
  return {
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** The ConfigError thrown for `env`, as its message lines. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n');
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('applies every documented default', () => {
    expect(config).toMatchObject({
      nodeEnv: 'development',
      isProduction: false,
      role: 'all',
      shutdownGraceMs: 25_000,
      rocketchat: {
        url: 'http://127.0.0.1:3100',
        ddpUrl: 'ws://127.0.0.1:3100/websocket',
        restUrl: 'http://127.0.0.1:3100/api/v1',
      },
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'gw', queuePrefix: '{gw}:q' },
      http: {
        port: 3000,
        host: '0.0.0.0',
        metricsPort: undefined,
        publicUrl: 'http://localhost:3000',
        corsOrigins: [],
        requestBodyLimitBytes: 1024 * 1024,
        rateLimitPerMinute: 600,
        isConsoleEnabled: true,
      },
      jwt: {
        algorithm: 'HS256',
        issuer: 'rocketchat-gateway',
        audience: 'rocketchat-gateway',
        ttlSeconds: 3600,
        sseQueryTokenTtlSeconds: 300,
        isEphemeral: true,
      },
      encryption: { current: { id: 'k1' }, oldKeys: [], isEphemeral: true },
      log: { level: 'info' },
      sessions: {
        workerMaxSessions: 5000,
        leaseTtlMs: 6000,
        idleMs: 300_000,
        subscriptionLingerMs: 10_000,
        forwardTimeoutMs: 15_000,
        ddpHeartbeatMs: 25_000,
        ddpCallTimeoutMs: 30_000,
        reconnectMaxDelayMs: 30_000,
      },
      events: { logMaxLen: 10_000, logMaxAgeMs: 86_400_000 },
      sse: { heartbeatMs: 15_000, retryMs: 2000, maxBufferBytes: 1024 * 1024 },
      webhooks: {
        isPrivateTargetAllowed: false,
        isHttpAllowed: true,
        timeoutMs: 10_000,
        retryScheduleMs: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        disableAfterFailures: 20,
        concurrencyPerEndpoint: 4,
        secretGraceMs: 86_400_000,
      },
      outbound: { concurrency: 16, maxAttempts: 20 },
    });
  });

  it('generates ephemeral secrets outside production and says so', () => {
    expect(config.jwt.algorithm === 'HS256' && config.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(config.encryption.current.key).toHaveLength(32);
    expect(config.warnings).toEqual([
      expect.stringContaining('JWT_SECRET is not set'),
      expect.stringContaining('GATEWAY_ENCRYPTION_KEY is not set'),
    ]);
    const other = loadConfig({});
    expect(other.jwt.algorithm === 'HS256' && other.jwt.secret).not.toBe(
      config.jwt.algorithm === 'HS256' && config.jwt.secret,
    );
  });

  it('names the worker after host, pid and a random suffix', () => {
    expect(config.workerId).toMatch(new RegExp(`^[A-Za-z0-9._-]+-${process.pid}-[0-9a-f]{6}$`));
    expect(loadConfig({}).workerId).not.toBe(config.workerId);
  });

  it('is deeply frozen', () => {
    const mutable = config as unknown as { http: { port: number }; webhooks: { retryScheduleMs: number[] } };
    expect(() => {
      mutable.http.port = 1;
    }).toThrow(TypeError);
    expect(() => mutable.webhooks.retryScheduleMs.push(1)).toThrow(TypeError);
    expect(Object.isFrozen(config.encryption.oldKeys)).toBe(true);
    expect(Object.isFrozen(config.warnings)).toBe(true);
  });

  it('does not share state between calls', () => {
    const custom = loadConfig({ CORS_ORIGINS: 'https://a.example' });
    expect(custom.http.corsOrigins).toEqual(['https://a.example']);
    expect(loadConfig({}).http.corsOrigins).toEqual([]);
  });
});

describe('loadConfig parsing', () => {
  it('reports a bad variable with its name and value', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(['PORT: must be an integer between 0 and 65535 (got "abc")']);
  });

  it('reports every problem at once, one line per variable, in schema order', () => {
    const lines = problemsOf({
      NODE_ENV: 'production',
      WEBHOOK_ALLOW_HTTP: 'maybe',
      LOG_LEVEL: 'loud',
      PORT: '70000',
      SSE_HEARTBEAT_MS: '1.5',
      WEBHOOK_RETRY_SCHEDULE_MS: '1000,soon',
    });
    expect(lines).toEqual([
      'PORT: must be an integer between 0 and 65535 (got "70000")',
      'JWT_SECRET: required in production (or JWT_PUBLIC_KEY and JWT_PRIVATE_KEY)',
      'GATEWAY_ENCRYPTION_KEY: required in production (32 bytes, base64; generate one with: openssl rand -base64 32)',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'SSE_HEARTBEAT_MS: must be a whole number of milliseconds between 1 and 2147483647 (got "1.5")',
      'WEBHOOK_ALLOW_HTTP: must be one of true, false, 1, 0, yes, no (got "maybe")',
      'WEBHOOK_RETRY_SCHEDULE_MS: must be a comma-separated list of whole milliseconds, each between 0 and 2147483647 (got "1000,soon")',
    ]);
  });

  it('throws a GatewayError with code GW_ERR_CONFIG and structured problems', () => {
    try {
      loadConfig({ PORT: '-1', NODE_ENV: 'staging' });
      expect.unreachable();
    } catch (error) {
      expect(isGatewayError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'GW_ERR_CONFIG', status: 500 });
      expect((error as ConfigError).problems.map((problem) => problem.variable)).toEqual([
        'NODE_ENV',
        'PORT',
      ]);
    }
  });

  it('never echoes a secret value', () => {
    const lines = problemsOf({
      JWT_SECRET: 'short-but-secret',
      GATEWAY_ENCRYPTION_KEY: 'bm90LTMyLWJ5dGVz',
      REDIS_URL: 'http://user:hunter2@redis',
    });
    expect(lines).toEqual([
      'REDIS_URL: must be a redis:// or rediss:// URL',
      'JWT_SECRET: must be at least 32 characters (HS256 needs a 256-bit key, RFC 7518 §3.2)',
      'GATEWAY_ENCRYPTION_KEY: must be 32 bytes, base64-encoded (generate one with: openssl rand -base64 32)',
    ]);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', METRICS_PORT: '', CORS_ORIGINS: '' }).http).toMatchObject({
      port: 3000,
      metricsPort: undefined,
      corsOrigins: [],
    });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    [' No ', false],
  ])('reads the boolean %j as %s', (raw, expected) => {
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: raw }).webhooks.isPrivateTargetAllowed).toBe(expected);
  });

  it('derives Rocket.Chat URLs, keeping a path prefix', () => {
    expect(loadConfig({ ROCKETCHAT_URL: 'https://chat.example.com/rc/' }).rocketchat).toEqual({
      url: 'https://chat.example.com/rc',
      ddpUrl: 'wss://chat.example.com/rc/websocket',
      restUrl: 'https://chat.example.com/rc/api/v1',
    });
    expect(problemsOf({ ROCKETCHAT_URL: 'ftp://chat' })[0]).toMatch(/^ROCKETCHAT_URL: must be an http/);
    expect(problemsOf({ ROCKETCHAT_URL: 'https://u:p@chat' })[0]).toMatch(/^ROCKETCHAT_URL: /);
  });

  it('hash-tags the BullMQ prefix with the key prefix', () => {
    expect(loadConfig({ REDIS_KEY_PREFIX: 'gw-prod' }).redis).toMatchObject({
      keyPrefix: 'gw-prod',
      queuePrefix: '{gw-prod}:q',
    });
    expect(problemsOf({ REDIS_KEY_PREFIX: '{gw}' })[0]).toMatch(/^REDIS_KEY_PREFIX: /);
  });

  it('parses lists', () => {
    const config = loadConfig({
      CORS_ORIGINS: 'https://a.example, http://localhost:5173/,',
      WEBHOOK_RETRY_SCHEDULE_MS: '1000, 60000',
    });
    expect(config.http.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(config.webhooks.retryScheduleMs).toEqual([1000, 60_000]);
    expect(problemsOf({ CORS_ORIGINS: 'https://a.example/path' })[0]).toMatch(/^CORS_ORIGINS: /);
  });

  it('rejects a metrics port equal to the main port', () => {
    expect(problemsOf({ PORT: '8080', METRICS_PORT: '8080' })).toEqual([
      'METRICS_PORT: must differ from PORT (leave it unset to serve /metrics on PORT)',
    ]);
  });

  it('reads TRUST_PROXY as hops or addresses, and refuses true', () => {
    expect(loadConfig({}).http.trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }).http.trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    for (const bad of ['true', '10.0.0.0/33', 'example.com', '1.2.3.4/8/9']) {
      expect(problemsOf({ TRUST_PROXY: bad })[0], bad).toMatch(
        /^TRUST_PROXY: must be false, a number of proxy hops/,
      );
    }
  });

  it('takes REDIS_CLUSTER with a seed URL, but no database number', () => {
    expect(
      loadConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://:pw@redis-cluster:6379' }).redis,
    ).toMatchObject({
      isCluster: true,
      url: 'redis://:pw@redis-cluster:6379',
    });
    expect(loadConfig({}).redis.isCluster).toBe(false);
    expect(problemsOf({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://redis-cluster:6379/2' })).toEqual([
      'REDIS_URL: must not name a database when REDIS_CLUSTER is true (a Redis Cluster has only database 0)',
    ]);
  });

  it('rejects timer durations Node would fire at once', () => {
    expect(problemsOf({ SESSION_IDLE_MS: '2147483648' })[0]).toMatch(/^SESSION_IDLE_MS: /);
  });
});

describe('loadConfig in production', () => {
  it('accepts a complete environment and tightens defaults', () => {
    const config = loadConfig(PRODUCTION);
    expect(config.isProduction).toBe(true);
    expect(config.http.isConsoleEnabled).toBe(false);
    expect(config.webhooks.isHttpAllowed).toBe(false);
    expect(config.http.publicUrl).toBe('https://gw.example.com');
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', secret: SECRET, isEphemeral: false });
    expect(config.encryption.current.key.equals(KEY)).toBe(true);
    expect(config.encryption.isEphemeral).toBe(false);
    expect(config.warnings).toEqual([]);
  });

  it('lets explicit values override production defaults', () => {
    const config = loadConfig({ ...PRODUCTION, CONSOLE_ENABLED: 'yes', WEBHOOK_ALLOW_HTTP: '1' });
    expect(config.http.isConsoleEnabled).toBe(true);
    expect(config.webhooks.isHttpAllowed).toBe(true);
  });

  it('warns when PUBLIC_URL is left to its localhost default', () => {
    const { PUBLIC_URL: _, ...rest } = PRODUCTION;
    expect(loadConfig(rest).warnings).toEqual([expect.stringContaining('PUBLIC_URL is not set')]);
  });
});

describe('loadConfig JWT keys', () => {
  const rsa = pem('rsa', {});
  const ec = pem('ec', {});

  it('infers RS256 and ES256 from the key type', () => {
    const fromRsa = loadConfig({ JWT_PUBLIC_KEY: rsa.publicKey, JWT_PRIVATE_KEY: rsa.privateKey });
    expect(fromRsa.jwt).toMatchObject({
      algorithm: 'RS256',
      publicKey: rsa.publicKey,
      privateKey: rsa.privateKey,
    });
    expect(fromRsa.warnings).toEqual([expect.stringContaining('GATEWAY_ENCRYPTION_KEY')]);
    const fromEc = loadConfig({
      JWT_PUBLIC_KEY: ec.publicKey,
      JWT_PRIVATE_KEY: ec.privateKey,
      JWT_ALGORITHM: 'ES256',
    });
    expect(fromEc.jwt.algorithm).toBe('ES256');
  });

  it('derives the public key from a private key alone', () => {
    const config = loadConfig({ JWT_PRIVATE_KEY: ec.privateKey });
    expect(config.jwt).toMatchObject({ algorithm: 'ES256', publicKey: ec.publicKey });
  });

  it('verifies without issuing when only the public key is set, outside production', () => {
    const config = loadConfig({ JWT_PUBLIC_KEY: rsa.publicKey });
    expect(config.jwt).toMatchObject({ algorithm: 'RS256', privateKey: undefined });
    expect(config.warnings).toContainEqual(expect.stringContaining('JWT_PRIVATE_KEY is not set'));
    const { JWT_SECRET: _, ...production } = PRODUCTION;
    expect(problemsOf({ ...production, JWT_PUBLIC_KEY: rsa.publicKey })).toEqual([
      'JWT_PRIVATE_KEY: required in production with JWT_PUBLIC_KEY (the gateway issues tokens)',
    ]);
  });

  it('rejects inconsistent key settings', () => {
    expect(problemsOf({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: rsa.publicKey })).toEqual([
      'JWT_SECRET: set either JWT_SECRET (HS256) or JWT_PUBLIC_KEY/JWT_PRIVATE_KEY, not both',
    ]);
    expect(problemsOf({ JWT_SECRET: SECRET, JWT_ALGORITHM: 'RS256' })).toEqual([
      'JWT_ALGORITHM: must be HS256 with JWT_SECRET (got "RS256")',
    ]);
    expect(
      problemsOf({ JWT_PUBLIC_KEY: rsa.publicKey, JWT_PRIVATE_KEY: rsa.privateKey, JWT_ALGORITHM: 'ES256' }),
    ).toEqual(['JWT_ALGORITHM: must be RS256 for the JWT_PUBLIC_KEY given (got "ES256")']);
    expect(problemsOf({ JWT_PUBLIC_KEY: rsa.publicKey, JWT_PRIVATE_KEY: pem('rsa', {}).privateKey })).toEqual(
      ['JWT_PRIVATE_KEY: does not match JWT_PUBLIC_KEY'],
    );
    expect(problemsOf({ JWT_ALGORITHM: 'ES256' })).toEqual([
      'JWT_ALGORITHM: ES256 needs JWT_PUBLIC_KEY and JWT_PRIVATE_KEY',
    ]);
  });

  it('rejects unusable keys without echoing them', () => {
    expect(problemsOf({ JWT_PUBLIC_KEY: 'not a pem', JWT_PRIVATE_KEY: 'nor this' })).toEqual([
      'JWT_PUBLIC_KEY: must be a PEM-encoded public key',
      'JWT_PRIVATE_KEY: must be a PEM-encoded private key',
    ]);
    expect(problemsOf({ JWT_PUBLIC_KEY: rsa.privateKey })).toEqual([
      'JWT_PUBLIC_KEY: must be a PEM-encoded public key',
    ]);
    expect(problemsOf({ JWT_PRIVATE_KEY: pem('rsa', { modulusLength: 1024 }).privateKey })).toEqual([
      'JWT_PRIVATE_KEY: RSA key must be at least 2048 bits (got 1024)',
    ]);
    expect(problemsOf({ JWT_PRIVATE_KEY: pem('ec', { namedCurve: 'secp384r1' }).privateKey })).toEqual([
      'JWT_PRIVATE_KEY: must be an RSA (RS256) or P-256 EC (ES256) key (got ec secp384r1)',
    ]);
  });
});

describe('loadConfig encryption keys', () => {
  it('parses old keys for rotation', () => {
    const old = randomBytes(32);
    const config = loadConfig({
      GATEWAY_ENCRYPTION_KEY: KEY.toString('base64url'),
      GATEWAY_ENCRYPTION_KEY_ID: 'k2',
      GATEWAY_ENCRYPTION_OLD_KEYS: `k1:${old.toString('base64')}`,
    });
    expect(config.encryption.current.id).toBe('k2');
    expect(config.encryption.current.key.equals(KEY)).toBe(true);
    expect(config.encryption.oldKeys).toHaveLength(1);
    expect(config.encryption.oldKeys[0]?.id).toBe('k1');
    expect(config.encryption.oldKeys[0]?.key.equals(old)).toBe(true);
  });

  it('rejects malformed and clashing key ids', () => {
    const key = KEY.toString('base64');
    expect(problemsOf({ GATEWAY_ENCRYPTION_OLD_KEYS: `k1:${key}` })).toEqual([
      'GATEWAY_ENCRYPTION_OLD_KEYS: key id "k1" is used twice (it is GATEWAY_ENCRYPTION_KEY_ID)',
    ]);
    expect(problemsOf({ GATEWAY_ENCRYPTION_OLD_KEYS: `k0:${key},k0:${key}` })).toEqual([
      'GATEWAY_ENCRYPTION_OLD_KEYS: key id "k0" is used twice',
    ]);
    expect(problemsOf({ GATEWAY_ENCRYPTION_OLD_KEYS: `k0=${key}` })[0]).toMatch(
      /^GATEWAY_ENCRYPTION_OLD_KEYS: must be a comma-separated list of <key id>:<32 bytes, base64>, e\.g\. \S+$/,
    );
    expect(problemsOf({ GATEWAY_ENCRYPTION_KEY_ID: 'v1.k1' })[0]).toMatch(/^GATEWAY_ENCRYPTION_KEY_ID: /);
  });
});

describe('loadConfig from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads NAME_FILE and drops the trailing newline', () => {
    const secretFile = join(dir, 'jwt');
    const portFile = join(dir, 'port');
    writeFileSync(secretFile, `${SECRET}\n`);
    writeFileSync(portFile, '8080\r\n');
    const config = loadConfig({ JWT_SECRET_FILE: secretFile, PORT_FILE: portFile });
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', secret: SECRET, isEphemeral: false });
    expect(config.http.port).toBe(8080);
  });

  it('rejects NAME with NAME_FILE, unreadable and empty files', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    const missing = join(dir, 'missing');
    expect(
      problemsOf({
        JWT_SECRET: SECRET,
        JWT_SECRET_FILE: empty,
        GATEWAY_ENCRYPTION_KEY_FILE: missing,
        REDIS_URL_FILE: empty,
      }),
    ).toEqual([
      `REDIS_URL_FILE: "${empty}" is empty`,
      'JWT_SECRET: set either JWT_SECRET or JWT_SECRET_FILE, not both',
      `GATEWAY_ENCRYPTION_KEY_FILE: cannot read "${missing}" (ENOENT)`,
    ]);
  });
});

describe('redactConfig', () => {
  it('hides every secret', () => {
    const old = randomBytes(32);
    const config: GatewayConfig = loadConfig({
      ...PRODUCTION,
      REDIS_URL: 'redis://default:hunter2@redis:6379/0',
      GATEWAY_ENCRYPTION_OLD_KEYS: `k0:${old.toString('base64')}`,
    });
    const redacted = redactConfig(config);
    expect(redacted['encryption']).toEqual({
      current: { id: 'k1', key: '[REDACTED]' },
      oldKeys: [{ id: 'k0', key: '[REDACTED]' }],
      isEphemeral: false,
    });
    const text = JSON.stringify(redacted);
    for (const secret of [SECRET, 'hunter2', KEY.toString('base64'), old.toString('base64')]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('redis://default:%5BREDACTED%5D@redis:6379/0');
    expect(JSON.stringify(config)).toContain(SECRET);
  });
});
