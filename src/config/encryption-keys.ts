/**
 * The AES-256-GCM keys that protect stored Rocket.Chat credentials: the current one encrypts,
 * old ones (rotation) still decrypt.
 */
import { randomBytes } from 'node:crypto';
import type { ConfigProblems } from './config-problems.js';
import type { ParsedEnv } from './env-schema.js';
import type { EncryptionConfig } from './gateway-config.js';

type EncryptionEnv = Pick<
  ParsedEnv,
  'GATEWAY_ENCRYPTION_KEY' | 'GATEWAY_ENCRYPTION_KEY_ID' | 'GATEWAY_ENCRYPTION_OLD_KEYS'
>;

export function resolveEncryption(
  env: EncryptionEnv,
  isProduction: boolean,
  problems: ConfigProblems,
  warnings: string[],
): EncryptionConfig {
  const id = env.GATEWAY_ENCRYPTION_KEY_ID;
  const oldKeys = env.GATEWAY_ENCRYPTION_OLD_KEYS ?? [];
  const seen = new Set<string>([id]);
  for (const oldKey of oldKeys) {
    if (seen.has(oldKey.id)) {
      const clash = oldKey.id === id ? ' (it is GATEWAY_ENCRYPTION_KEY_ID)' : '';
      problems.add('GATEWAY_ENCRYPTION_OLD_KEYS', `key id "${oldKey.id}" is used twice${clash}`);
    }
    seen.add(oldKey.id);
  }

  let key = env.GATEWAY_ENCRYPTION_KEY;
  const isEphemeral = key === undefined;
  if (key === undefined && !problems.hasAny('GATEWAY_ENCRYPTION_KEY')) {
    if (isProduction) {
      problems.add(
        'GATEWAY_ENCRYPTION_KEY',
        'required in production (32 bytes, base64; generate one with: openssl rand -base64 32)',
      );
    } else {
      warnings.push(
        'GATEWAY_ENCRYPTION_KEY is not set: using a random key for this process only; stored Rocket.Chat credentials cannot be read after a restart or by other replicas',
      );
    }
  }
  key ??= randomBytes(32);
  return { current: { id, key }, oldKeys, isEphemeral };
}
