/**
 * Re-sealing one sealed hash field under the current key (key rotation), shared by every store
 * that seals a value: credentials, webhook secrets, incoming-hook secrets.
 */
import type { RedisClient } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { TokenCipher } from '../sessions/token-cipher.js';

// KEYS, ARGV and reply: see the header of each file.
const RESEAL_SCRIPT = LuaScript.fromFile(import.meta.url, './reseal-field/reseal.lua', 1);

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
