import type { GatewayConfig } from './gateway-config.js';

const HIDDEN = '[REDACTED]';

/**
 * The configuration with every secret replaced, safe to log at start so operators see the
 * effective values (including defaults) without keys or the Redis password.
 */
export function redactConfig(config: GatewayConfig): Record<string, unknown> {
  const redisUrl = new URL(config.redis.url);
  if (redisUrl.password) redisUrl.password = HIDDEN;
  const jwt =
    config.jwt.algorithm === 'HS256'
      ? { ...config.jwt, secret: HIDDEN }
      : { ...config.jwt, privateKey: config.jwt.privateKey === undefined ? undefined : HIDDEN };
  return {
    ...config,
    redis: { ...config.redis, url: redisUrl.href },
    jwt,
    encryption: {
      current: { id: config.encryption.current.id, key: HIDDEN },
      oldKeys: config.encryption.oldKeys.map(({ id }) => ({ id, key: HIDDEN })),
      isEphemeral: config.encryption.isEphemeral,
    },
  };
}
