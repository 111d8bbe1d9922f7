/**
 * Re-sealing one sealed hash field under the current key (key rotation), shared by every store
 * that seals a value: credentials, webhook secrets, incoming-hook secrets.
 */
import type { RedisClient } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { TokenCipher } from '../sessions/token-cipher.js';

/**
 * Swaps the field only if it still holds the value that was read, so a re-sealed old value never
 * overwrites one written meanwhile (a new login, a rotated secret). KEYS: hash. ARGV: field,
 * expected sealed value, new sealed value.
 */
const RESEAL_SCRIPT = new LuaScript(
  `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`,
  1,
);

/**
 * `current`: already under the current key. `resealed`: written back under it. `changed`: the
 * field changed meanwhile (its new value was written under the current key by its writer).
 */
export type ResealOutcome = 'current' | 'resealed' | 'changed';

/**
 * Re-seals `sealed` (the value of `field` in `key`) under the current key when another key made
 * it. @throws CredentialDecryptError when it cannot be opened (malformed, unknown key, tampered).
 */
export async function resealField(
  redis: RedisClient,
  cipher: TokenCipher,
  target: { readonly key: string; readonly field: string; readonly aad: string },
  sealed: string,
): Promise<ResealOutcome> {
  if (!cipher.needsReencryption(sealed)) return 'current';
  const plaintext = cipher.decrypt(sealed, target.aad);
  const written = await RESEAL_SCRIPT.run<number>(
    redis,
    [target.key],
    [target.field, sealed, cipher.encrypt(plaintext, target.aad)],
  );
  return written === 1 ? 'resealed' : 'changed';
}
