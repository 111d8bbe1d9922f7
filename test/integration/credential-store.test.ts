import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createKeys } from '../../src/redis/keys.js';
import {
  type CredentialStore,
  createCredentialStore,
  Secret,
  type StoredCredential,
  type ValidCredential,
} from '../../src/sessions/credential-store.js';
import {
  CredentialDecryptError,
  createTokenCipher,
  type TokenCipher,
} from '../../src/sessions/token-cipher.js';

const prefix = `t-${randomUUID()}`;
const keys = createKeys(prefix);
const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);
const clock = createManualClock(1_700_000_000_000);

let redis: Redis;

function cipherWith(currentKeyId: string, keyIds: readonly string[]): TokenCipher {
  const all: Record<string, Buffer> = { k1: KEY_1, k2: KEY_2 };
  return createTokenCipher({ currentKeyId, keys: new Map(keyIds.map((id) => [id, all[id]!])) });
}

function storeWith(cipher: TokenCipher): CredentialStore {
  return createCredentialStore({ redis, keys, cipher, clock });
}

/** A fresh user id and a token shaped like a Rocket.Chat resume token (43 base64url chars). */
function freshUser(): { userId: string; token: string } {
  return { userId: `u${randomUUID().replaceAll('-', '')}`, token: randomBytes(32).toString('base64url') };
}

function expectValid(credential: StoredCredential | undefined): ValidCredential {
  if (credential?.status !== 'valid') {
    throw new Error(`expected a valid credential, got ${credential?.status}`);
  }
  return credential;
}

beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { lazyConnect: false });
});

afterAll(async () => {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

describe('credential store', () => {
  it('saves and loads a credential with its expiry and username', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId, token } = freshUser();
    const expiresAt = new Date('2030-01-02T03:04:05.678Z');

    await store.save(userId, { token, tokenExpiresAt: expiresAt, username: 'alice' });
    const loaded = expectValid(await store.load(userId));

    expect(loaded.token).toBeInstanceOf(Secret);
    expect(loaded.token.reveal()).toBe(token);
    expect(loaded.tokenExpiresAt?.getTime()).toBe(expiresAt.getTime());
    expect(loaded.username).toBe('alice');
    expect(loaded.updatedAtMs).toBe(clock.now());
    expect(loaded.revision).toBe(1);
    expect(Object.isFrozen(loaded)).toBe(true);
  });

  it('loads nothing for a user with no credential', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    expect(await store.load(freshUser().userId)).toBeUndefined();
  });

  it('replaces the whole record on save, dropping an earlier expiry, username and invalid state', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId, token } = freshUser();
    await store.save(userId, { token: 'old-token', tokenExpiresAt: new Date(2e12), username: 'alice' });
    await store.markInvalid(userId, 'logged out');
    clock.advance(1000);

    await store.save(userId, { token });
    const loaded = expectValid(await store.load(userId));
    expect(loaded.token.reveal()).toBe(token);
    expect(loaded).not.toHaveProperty('tokenExpiresAt');
    expect(loaded).not.toHaveProperty('username');
    expect(loaded.updatedAtMs).toBe(clock.now());
    expect(loaded.revision).toBe(3);
    expect(Object.keys(await redis.hgetall(keys.user(userId).credential)).sort()).toEqual([
      'origin',
      'revision',
      'sealedToken',
      'status',
      'updatedAtMs',
    ]);
  });

  it('logout voids the token, bumps the generation, and keeps it across a new save', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId, token } = freshUser();
    expect(await store.access(userId)).toEqual({ status: undefined, generation: 0 });
    expect(await store.save(userId, { token, origin: 'login' })).toEqual({ revision: 1, generation: 0 });
    expect(expectValid(await store.load(userId)).origin).toBe('login');

    const ended = await store.logout(userId, 'logout');
    expect(ended?.token.reveal()).toBe(token);
    expect(ended?.origin).toBe('login');
    expect(await store.access(userId)).toEqual({ status: 'invalid', generation: 1 });
    expect(await store.load(userId)).toMatchObject({ status: 'invalid', reason: 'logout' });
    expect(await redis.hget(keys.user(userId).credential, 'sealedToken')).toBeNull();

    // A new login is valid again, under the new generation.
    expect((await store.save(userId, { token })).generation).toBe(1);
    expect(await store.access(userId)).toEqual({ status: 'valid', generation: 1 });
    expect(expectValid(await store.load(userId)).origin).toBe('given');
  });

  it('logout of a user with nothing stored leaves a tombstone carrying the generation', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId } = freshUser();
    expect(await store.logout(userId, 'logout')).toBeUndefined();
    expect(await store.access(userId)).toEqual({ status: 'invalid', generation: 1 });
  });

  it('rejects bad input without quoting the token', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId, token } = freshUser();
    await expect(store.save(userId, { token: '' })).rejects.toThrow(TypeError);
    await expect(store.save(userId, { token, tokenExpiresAt: new Date(Number.NaN) })).rejects.toThrow(
      /^tokenExpiresAt must be a valid Date$/,
    );
    await expect(store.save('bad{id}', { token })).rejects.toThrow(RangeError);
    expect(await redis.exists(keys.user(userId).credential)).toBe(0);
  });

  describe('markInvalid', () => {
    it('keeps nothing usable, only the status, the reason and the time', async () => {
      const store = storeWith(cipherWith('k1', ['k1']));
      const { userId, token } = freshUser();
      await store.save(userId, { token, tokenExpiresAt: new Date(2e12), username: 'bob' });
      clock.advance(5000);

      expect(await store.markInvalid(userId, 'resume token rejected: 403')).toBe(true);

      const raw = await redis.hgetall(keys.user(userId).credential);
      expect(raw).not.toHaveProperty('sealedToken');
      expect(raw).not.toHaveProperty('tokenExpiresAtMs');
      const loaded = await store.load(userId);
      expect(loaded).toEqual({
        status: 'invalid',
        reason: 'resume token rejected: 403',
        username: 'bob',
        updatedAtMs: clock.now(),
        revision: 2,
      });
      expect(loaded).not.toHaveProperty('token');
    });

    it('does not create a record for a user who has none', async () => {
      const store = storeWith(cipherWith('k1', ['k1']));
      const { userId } = freshUser();
      expect(await store.markInvalid(userId, 'rejected')).toBe(false);
      expect(await redis.exists(keys.user(userId).credential)).toBe(0);
    });

    it('with a revision, leaves alone a token saved after the one that failed', async () => {
      const store = storeWith(cipherWith('k1', ['k1']));
      const { userId, token } = freshUser();
      await store.save(userId, { token: 'token-that-will-fail' });
      const failed = expectValid(await store.load(userId));
      await store.save(userId, { token }); // the user registers again meanwhile

      expect(await store.markInvalid(userId, 'rejected', { revision: failed.revision })).toBe(false);
      expect(expectValid(await store.load(userId)).token.reveal()).toBe(token);

      const current = expectValid(await store.load(userId));
      expect(await store.markInvalid(userId, 'rejected', { revision: current.revision })).toBe(true);
      expect((await store.load(userId))?.status).toBe('invalid');
    });
  });

  it('removes a credential', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId, token } = freshUser();
    await store.save(userId, { token });
    await store.remove(userId);
    expect(await store.load(userId)).toBeUndefined();
    expect(await redis.exists(keys.user(userId).credential)).toBe(0);
    await store.remove(userId); // removing nothing is fine
  });

  describe('lazy key rotation', () => {
    it('re-seals a token made with an old key under the current key and writes it back', async () => {
      const { userId, token } = freshUser();
      const key = keys.user(userId).credential;
      await storeWith(cipherWith('k1', ['k1'])).save(userId, { token, username: 'carol' });
      const before = await redis.hgetall(key);
      expect(before['sealedToken']).toMatch(/^v1\.k1\./);

      const rotated = storeWith(cipherWith('k2', ['k1', 'k2']));
      const loaded = expectValid(await rotated.load(userId));
      expect(loaded.token.reveal()).toBe(token);

      const after = await redis.hgetall(key);
      expect(after['sealedToken']).toMatch(/^v1\.k2\./);
      // Only the seal changed: re-encryption is not an update of the credential.
      expect({ ...after, sealedToken: undefined }).toEqual({ ...before, sealedToken: undefined });

      // The old key can now be retired.
      const k2Only = storeWith(cipherWith('k2', ['k2']));
      expect(expectValid(await k2Only.load(userId)).token.reveal()).toBe(token);
      // A value already under the current key is not rewritten on load.
      await k2Only.load(userId);
      expect((await redis.hgetall(key))['sealedToken']).toBe(after['sealedToken']);
    });

    it('never overwrites a token saved while the old one was being re-sealed', async () => {
      const { userId, token } = freshUser();
      await storeWith(cipherWith('k1', ['k1'])).save(userId, { token: 'old-token' });
      const current = cipherWith('k2', ['k1', 'k2']);
      const writer = storeWith(current);
      // The save is issued between the read and the write-back of the re-seal, on the same
      // connection, so Redis runs it first: the write-back must then see it and give up.
      let raced: Promise<unknown> | undefined;
      const racingCipher: TokenCipher = {
        ...current,
        encrypt(plaintext, aad) {
          raced ??= writer.save(userId, { token });
          return current.encrypt(plaintext, aad);
        },
      };

      const loaded = expectValid(await storeWith(racingCipher).load(userId));
      await raced;
      expect(loaded.token.reveal()).toBe('old-token');
      expect(expectValid(await writer.load(userId)).token.reveal()).toBe(token);
    });

    it('fails clearly when the key that sealed the token is no longer configured', async () => {
      const { userId, token } = freshUser();
      await storeWith(cipherWith('k1', ['k1'])).save(userId, { token });
      const error = await storeWith(cipherWith('k2', ['k2']))
        .load(userId)
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(CredentialDecryptError);
      expect((error as CredentialDecryptError).reason).toBe('unknown-key');
      expect(inspect(error)).not.toContain(token);
    });
  });

  it('binds the sealed token to its user: copied to another user it does not open', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const alice = freshUser();
    const mallory = freshUser();
    await store.save(alice.userId, { token: alice.token });
    await store.save(mallory.userId, { token: mallory.token });
    const aliceSealed = await redis.hget(keys.user(alice.userId).credential, 'sealedToken');
    await redis.hset(keys.user(mallory.userId).credential, 'sealedToken', aliceSealed!);

    const error = await store.load(mallory.userId).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CredentialDecryptError);
    expect((error as CredentialDecryptError).reason).toBe('authentication-failed');
    for (const text of [String(error), inspect(error), JSON.stringify(error)]) {
      expect(text).not.toContain(alice.token);
      expect(text).not.toContain(mallory.token);
    }
  });

  it('reports a corrupt record as malformed', async () => {
    const store = storeWith(cipherWith('k1', ['k1']));
    const { userId } = freshUser();
    await redis.hset(keys.user(userId).credential, { status: 'valid', updatedAtMs: '1', revision: '1' });
    const error = await store.load(userId).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CredentialDecryptError);
    expect((error as CredentialDecryptError).reason).toBe('malformed');
  });

  describe('the token stays secret', () => {
    it('is not in Redis in clear, in any encoding', async () => {
      const store = storeWith(cipherWith('k1', ['k1']));
      const { userId, token } = freshUser();
      await store.save(userId, { token, username: 'dave' });
      await store.load(userId);

      const raw = await redis.hgetall(keys.user(userId).credential);
      const dump = (await redis.dumpBuffer(keys.user(userId).credential))!;
      const encodings = [
        token,
        Buffer.from(token).toString('base64'),
        Buffer.from(token).toString('base64url'),
      ];
      for (const encoded of encodings) {
        for (const [field, value] of Object.entries(raw)) {
          expect(field).not.toContain(encoded);
          expect(value).not.toContain(encoded);
        }
        expect(dump.includes(encoded)).toBe(false);
      }
    });

    it('does not show in JSON, util.inspect, String() or template literals of what load returns', async () => {
      const store = storeWith(cipherWith('k1', ['k1']));
      const { userId, token } = freshUser();
      await store.save(userId, { token, tokenExpiresAt: new Date(2e12), username: 'erin' });
      const loaded = expectValid(await store.load(userId));

      const printed = [
        JSON.stringify(loaded),
        JSON.stringify({ ...loaded }),
        inspect(loaded),
        inspect(loaded, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true }),
        String(loaded.token),
        `${loaded.token}`,
        JSON.stringify(loaded.token),
        inspect(loaded.token, { showHidden: true }),
      ];
      for (const text of printed) expect(text).not.toContain(token);
      expect(JSON.parse(JSON.stringify(loaded))).toMatchObject({ status: 'valid', token: '[REDACTED]' });
      expect(inspect(loaded)).toContain('[REDACTED]');
      // A spread keeps the Secret (a non-enumerable property would have been dropped silently).
      expect({ ...loaded }.token.reveal()).toBe(token);
    });
  });
});
