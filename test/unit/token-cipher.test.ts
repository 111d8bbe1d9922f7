import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import {
  CredentialDecryptError,
  type CredentialDecryptReason,
  createTokenCipher,
  type TokenCipher,
} from '../../src/sessions/token-cipher.js';

const TOKEN = 'rc-resume-token-Zq3xVb7PL0mYt2Kd9sWn4HfJ8aGc1eRu5iOp6';
const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);
const SEALED_PATTERN = /^v1\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;

function cipherWith(currentKeyId: string, keys: Record<string, Buffer>): TokenCipher {
  return createTokenCipher({ currentKeyId, keys: new Map(Object.entries(keys)) });
}

/** The error `fn` throws, checked to be a CredentialDecryptError for `reason`. */
function decryptFailure(fn: () => unknown, reason: CredentialDecryptReason): CredentialDecryptError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CredentialDecryptError);
  const error = thrown as CredentialDecryptError;
  expect(error.reason).toBe(reason);
  return error;
}

/** Flips one bit in the base64url segment at `index` of a sealed value, keeping it canonical. */
function flipBit(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('token cipher', () => {
  const cipher = cipherWith('k1', { k1: KEY_1 });

  it('round-trips a token in the v1 sealed format', () => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    expect(sealed).toMatch(SEALED_PATTERN);
    expect(sealed.split('.')[1]).toBe('k1');
    expect(sealed).not.toContain(TOKEN);
    expect(cipher.decrypt(sealed, 'user-a')).toBe(TOKEN);
  });

  it('round-trips empty and non-ASCII plaintext', () => {
    for (const text of ['', 'ключ-🔑-clé']) {
      expect(cipher.decrypt(cipher.encrypt(text, 'user-a'), 'user-a')).toBe(text);
    }
  });

  it('uses a fresh random iv for every seal', () => {
    const first = cipher.encrypt(TOKEN, 'user-a');
    const second = cipher.encrypt(TOKEN, 'user-a');
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
  });

  it('binds the sealed value to the AAD (the user id)', () => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    decryptFailure(() => cipher.decrypt(sealed, 'user-b'), 'authentication-failed');
    decryptFailure(() => cipher.decrypt(sealed, 'user-a '), 'authentication-failed');
  });

  it.each([
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('detects a tampered %s', (_name, index) => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    decryptFailure(() => cipher.decrypt(flipBit(sealed, index), 'user-a'), 'authentication-failed');
  });

  it('rejects a truncated ciphertext and a truncated or extended tag', () => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    const parts = sealed.split('.');
    const withPart = (index: number, value: string) =>
      parts.map((p, i) => (i === index ? value : p)).join('.');
    const ciphertext = Buffer.from(parts[3]!, 'base64url');
    const tag = Buffer.from(parts[4]!, 'base64url');
    decryptFailure(
      () => cipher.decrypt(withPart(3, ciphertext.subarray(1).toString('base64url')), 'user-a'),
      'authentication-failed',
    );
    // A shorter tag would be accepted by Node without `authTagLength` (DEP0090).
    decryptFailure(
      () => cipher.decrypt(withPart(4, tag.subarray(0, 12).toString('base64url')), 'user-a'),
      'malformed',
    );
    decryptFailure(
      () =>
        cipher.decrypt(withPart(4, Buffer.concat([tag, Buffer.from([0])]).toString('base64url')), 'user-a'),
      'malformed',
    );
  });

  it('rejects non-canonical base64url that would decode to the same bytes', () => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    const parts = sealed.split('.');
    // 12 bytes are 16 characters; Node would silently ignore a 17th.
    parts[2] = `${parts[2]}A`;
    decryptFailure(() => cipher.decrypt(parts.join('.'), 'user-a'), 'malformed');
    parts[2] = `${parts[2]!.slice(0, 15)}=`;
    decryptFailure(() => cipher.decrypt(parts.join('.'), 'user-a'), 'malformed');
  });

  it.each([
    ['not a sealed value', 'garbage'],
    ['a token in clear', TOKEN],
    ['another version', 'v2.k1.AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA'],
    ['too many parts', 'v1.k1.AAAAAAAAAAAAAAAA...AAAAAAAAAAAAAAAAAAAAAA'],
    ['an empty string', ''],
  ])('reports %s as malformed', (_name, sealed) => {
    decryptFailure(() => cipher.decrypt(sealed, 'user-a'), 'malformed');
    decryptFailure(() => cipher.needsReencryption(sealed), 'malformed');
  });

  it('reports an unknown key id, and a known but wrong key as an authentication failure', () => {
    const sealed = cipherWith('gone', { gone: KEY_2 }).encrypt(TOKEN, 'user-a');
    const error = decryptFailure(() => cipher.decrypt(sealed, 'user-a'), 'unknown-key');
    expect(error.keyId).toBe('gone');
    expect(error.message).toContain('"gone"');

    const relabelled = sealed.replace(/^v1\.gone\./, 'v1.k1.');
    decryptFailure(() => cipher.decrypt(relabelled, 'user-a'), 'authentication-failed');
  });

  describe('key rotation', () => {
    const before = cipherWith('k1', { k1: KEY_1 });
    const after = cipherWith('k2', { k1: KEY_1, k2: KEY_2 });

    it('opens a value sealed with the old key and says it needs re-encryption', () => {
      const old = before.encrypt(TOKEN, 'user-a');
      expect(after.decrypt(old, 'user-a')).toBe(TOKEN);
      expect(after.needsReencryption(old)).toBe(true);
      expect(before.needsReencryption(old)).toBe(false);
    });

    it('seals under the current key, which then needs nothing', () => {
      const fresh = after.encrypt(after.decrypt(before.encrypt(TOKEN, 'user-a'), 'user-a'), 'user-a');
      expect(fresh.startsWith('v1.k2.')).toBe(true);
      expect(after.needsReencryption(fresh)).toBe(false);
      expect(cipherWith('k2', { k2: KEY_2 }).decrypt(fresh, 'user-a')).toBe(TOKEN);
    });
  });

  describe('configuration', () => {
    it.each([0, 16, 31, 33, 64])('rejects a %i-byte key with a RangeError', (length) => {
      expect(() => cipherWith('k1', { k1: randomBytes(length) })).toThrow(RangeError);
      // An old key is checked as strictly as the current one.
      expect(() => cipherWith('k1', { k1: KEY_1, old: randomBytes(length) })).toThrow(RangeError);
    });

    it('rejects a current key id that has no key', () => {
      expect(() => cipherWith('k3', { k1: KEY_1 })).toThrow(RangeError);
    });

    it('rejects key ids that could not be read back from a sealed value', () => {
      for (const id of ['', 'a.b', 'a b', 'x'.repeat(65)]) {
        expect(() => cipherWith('k1', { k1: KEY_1, [id]: KEY_2 })).toThrow(RangeError);
      }
    });

    it('rejects a key that is not a Buffer', () => {
      const keys = new Map([['k1', 'x'.repeat(32) as unknown as Buffer]]);
      expect(() => createTokenCipher({ currentKeyId: 'k1', keys })).toThrow(TypeError);
    });

    it('keeps its own copy of the keys', () => {
      const key = Buffer.from(KEY_1);
      const keys = new Map([['k1', key]]);
      const own = createTokenCipher({ currentKeyId: 'k1', keys });
      const sealed = own.encrypt(TOKEN, 'user-a');
      key.fill(0);
      keys.clear();
      expect(own.decrypt(sealed, 'user-a')).toBe(TOKEN);
    });

    it('refuses an empty AAD', () => {
      expect(() => cipher.encrypt(TOKEN, '')).toThrow(TypeError);
      expect(() => cipher.decrypt(cipher.encrypt(TOKEN, 'user-a'), '')).toThrow(TypeError);
    });
  });

  it('never reveals the token or key material in errors or when printed', () => {
    const sealed = cipher.encrypt(TOKEN, 'user-a');
    const errors = [
      decryptFailure(() => cipher.decrypt(sealed, 'user-b'), 'authentication-failed'),
      decryptFailure(() => cipher.decrypt(flipBit(sealed, 3), 'user-a'), 'authentication-failed'),
      decryptFailure(() => cipher.decrypt(TOKEN, 'user-a'), 'malformed'),
      decryptFailure(() => cipherWith('k2', { k2: KEY_2 }).decrypt(sealed, 'user-a'), 'unknown-key'),
    ];
    const secrets = [TOKEN, sealed.split('.')[3]!, ...[KEY_1, KEY_2].flatMap((k) => keyEncodings(k))];
    for (const error of errors) {
      expect(isGatewayError(error)).toBe(true);
      expect(error.code).toBe('GW_ERR_INTERNAL');
      const printed = [
        error.message,
        String(error),
        error.stack ?? '',
        JSON.stringify(error),
        inspect(error),
      ];
      for (const text of printed) for (const secret of secrets) expect(text).not.toContain(secret);
    }
    const printedCipher = inspect(cipher, { showHidden: true, depth: Number.POSITIVE_INFINITY });
    for (const secret of secrets) expect(printedCipher).not.toContain(secret);
  });
});

function keyEncodings(key: Buffer): string[] {
  return [key.toString('hex'), key.toString('base64'), key.toString('base64url')];
}
