/**
 * AES-256-GCM sealing of Rocket.Chat resume tokens at rest (architecture invariant 6).
 *
 * A sealed value names the key that made it, so keys rotate without losing stored credentials:
 * add the new key, make it current, keep the old ones until every value has been re-sealed
 * (the credential store does that lazily on read, see `needsReencryption`).
 *
 *   v1.<keyId>.<base64url iv>.<base64url ciphertext>.<base64url tag>
 *
 * The caller's AAD (the user id) is authenticated with the ciphertext, so a sealed token copied
 * into another user's record fails to open instead of logging that user in as someone else.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import type { EncryptionConfig } from '../config/index.js';
import { GatewayError } from '../errors.js';

const FORMAT_VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit random IVs, as NIST SP 800-38D recommends for GCM. Random IVs keep the collision risk
// negligible below ~2^32 encryptions per key, far beyond one seal per credential save.
const IV_BYTES = 12;
// The full 128-bit tag, enforced on decrypt: without `authTagLength` Node accepts a truncated
// tag, which weakens authentication (Node deprecation DEP0090).
const TAG_BYTES = 16;
// Key ids appear between dots in the sealed value and in operators' config.
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

export interface TokenCipherOptions {
  /** Id of the key new values are sealed with; must be one of `keys`. */
  readonly currentKeyId: string;
  /**
   * Every key that may have sealed a stored value, by id: the current one and the old ones still
   * in use. Each is exactly 32 bytes. The cipher keeps its own copy.
   */
  readonly keys: ReadonlyMap<string, Buffer>;
}

export interface TokenCipher {
  /** Seals `plaintext` under the current key, bound to `aad` (the user id). */
  encrypt(plaintext: string, aad: string): string;
  /**
   * Opens a value sealed by `encrypt` with the key it names.
   * @throws CredentialDecryptError when it is malformed, names a key not configured, was
   *   tampered with, or was sealed for another `aad`.
   */
  decrypt(sealed: string, aad: string): string;
  /**
   * True when `sealed` was made with a key other than the current one, so it should be
   * re-sealed. @throws CredentialDecryptError when it is not a sealed value at all.
   */
  needsReencryption(sealed: string): boolean;
}

/** Why a sealed value could not be opened. */
export type CredentialDecryptReason =
  /** Not in the `v1.<keyId>.<iv>.<ciphertext>.<tag>` shape (or not canonical base64url). */
  | 'malformed'
  /** Names a key id that is not configured (an old key was removed too early). */
  | 'unknown-key'
  /** GCM authentication failed: tampered data, another user's AAD, or a different key. */
  | 'authentication-failed';

/**
 * A stored credential cannot be opened. Its message names the failure (and, for an unknown key,
 * the key id, which is not secret) but never any part of the token, ciphertext or key material.
 * It renders as `GW_ERR_INTERNAL`: the caller cannot fix it; an operator (missing key) or a
 * fresh registration (corrupt record) can.
 */
export class CredentialDecryptError extends GatewayError {
  readonly reason: CredentialDecryptReason;
  /** The key id the value named, when it was well formed. */
  readonly keyId: string | undefined;

  constructor(reason: CredentialDecryptReason, message: string, keyId?: string) {
    super('GW_ERR_INTERNAL', message);
    this.reason = reason;
    this.keyId = keyId;
  }
}

interface SealedParts {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function createTokenCipher(options: TokenCipherOptions): TokenCipher {
  const { currentKeyId } = options;
  // KeyObjects rather than Buffers: `util.inspect` of one shows its size, never its bytes.
  const keys = new Map<string, KeyObject>();
  for (const [keyId, key] of options.keys) {
    if (!KEY_ID_PATTERN.test(keyId)) throw new RangeError('key ids must match [A-Za-z0-9_-]{1,64}');
    if (!Buffer.isBuffer(key)) throw new TypeError(`key "${keyId}" must be a Buffer`);
    if (key.length !== KEY_BYTES) {
      throw new RangeError(`key "${keyId}" must be exactly ${KEY_BYTES} bytes (got ${key.length})`);
    }
    keys.set(keyId, createSecretKey(Buffer.from(key)));
  }
  const currentKey = keys.get(currentKeyId);
  if (!currentKey) throw new RangeError(`current key id "${currentKeyId}" is not among the keys`);

  return {
    encrypt(plaintext, aad) {
      if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string');
      checkAad(aad);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        FORMAT_VERSION,
        currentKeyId,
        iv.toString('base64url'),
        ciphertext.toString('base64url'),
        tag.toString('base64url'),
      ].join('.');
    },

    decrypt(sealed, aad) {
      checkAad(aad);
      const parts = parseSealed(sealed);
      const key = keys.get(parts.keyId);
      if (!key) {
        throw new CredentialDecryptError(
          'unknown-key',
          `credential was sealed with key id "${parts.keyId}", which is not configured`,
          parts.keyId,
        );
      }
      const decipher = createDecipheriv(ALGORITHM, key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(parts.tag);
      let plaintext: Buffer;
      try {
        // `update` output is unauthenticated until `final` succeeds; nothing leaves before then.
        plaintext = Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
      } catch {
        // No `cause`: OpenSSL's message says nothing useful beyond "unable to authenticate".
        throw new CredentialDecryptError(
          'authentication-failed',
          'credential failed authentication (tampered, sealed for another user, or wrong key)',
          parts.keyId,
        );
      }
      return plaintext.toString('utf8');
    },

    needsReencryption(sealed) {
      return parseSealed(sealed).keyId !== currentKeyId;
    },
  };
}

/** The cipher of a gateway config: `GATEWAY_ENCRYPTION_KEY` seals, it and the old keys open. */
export function createTokenCipherFromConfig(encryption: EncryptionConfig): TokenCipher {
  const keys = new Map<string, Buffer>([[encryption.current.id, encryption.current.key]]);
  for (const old of encryption.oldKeys) keys.set(old.id, old.key);
  return createTokenCipher({ currentKeyId: encryption.current.id, keys });
}

function checkAad(aad: unknown): asserts aad is string {
  // An empty AAD would bind the token to nobody; always pass the user id.
  if (typeof aad !== 'string' || aad.length === 0) throw new TypeError('aad must be a non-empty string');
}

function parseSealed(sealed: unknown): SealedParts {
  // Messages below never quote the input: a malformed value might be a token stored in clear.
  if (typeof sealed !== 'string') throw malformed('credential is not a string');
  const parts = sealed.split('.');
  if (parts.length !== 5) throw malformed('credential does not have the five parts of a sealed value');
  const [version, keyId, iv, ciphertext, tag] = parts as [string, string, string, string, string];
  if (version !== FORMAT_VERSION) throw malformed('credential has an unsupported format version');
  if (!KEY_ID_PATTERN.test(keyId)) throw malformed('credential has an invalid key id');
  const ivBytes = decodeBase64url(iv);
  const ciphertextBytes = decodeBase64url(ciphertext);
  const tagBytes = decodeBase64url(tag);
  if (!ivBytes || !ciphertextBytes || !tagBytes) throw malformed('credential is not valid base64url');
  if (ivBytes.length !== IV_BYTES) throw malformed(`credential iv is not ${IV_BYTES} bytes`);
  if (tagBytes.length !== TAG_BYTES) throw malformed(`credential tag is not ${TAG_BYTES} bytes`);
  return { keyId, iv: ivBytes, ciphertext: ciphertextBytes, tag: tagBytes };
}

/**
 * Strict base64url: Node's decoder skips invalid characters and ignores trailing bits, so an
 * altered encoding could decode to the same bytes. Only the canonical form is accepted.
 */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL_PATTERN.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function malformed(message: string): CredentialDecryptError {
  return new CredentialDecryptError('malformed', message);
}
