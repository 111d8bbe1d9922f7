/**
 * A user's Rocket.Chat credential in Redis, so any worker can resume the user's session after
 * another dies (architecture invariant 3), with the token sealed at rest (invariant 6).
 *
 * One HASH per user at `keys.user(id).credential`:
 *   sealedToken       the resume token, sealed by the TokenCipher with AAD = user id
 *   tokenExpiresAtMs  when Rocket.Chat says the token expires (absent if unknown)
 *   username          the Rocket.Chat username (not secret; absent if unknown)
 *   status            `valid` | `invalid`
 *   reason            why it is invalid (only while invalid)
 *   updatedAtMs       when it was last saved or marked invalid
 *   revision          bumped by every save and markInvalid, so a stale writer can be told apart
 *   generation        bumped by every logout and kept by saves: gateway tokens carry the
 *                     generation they were issued under, so a logout ends every token issued
 *                     before it, even after the user logs in again (absent = 0)
 *   origin            `login` when the gateway obtained the token with a password (so a logout
 *                     may revoke it upstream), `given` when a caller handed it over
 *
 * Only the resume token is kept; a password is exchanged for a token at login and never reaches
 * this store (it has no field or parameter for one).
 */
import { inspect } from 'node:util';
import { type Clock, systemClock } from '../clock.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { resealField } from '../rotation/reseal-field.js';
import { ControlPublisher } from './control-plane.js';
import { CredentialDecryptError, type TokenCipher } from './token-cipher.js';

const REDACTED = '[REDACTED]';

/** The hash field holding the sealed token (the re-sealer finds it by this name too). */
export const SEALED_FIELD = 'sealedToken';

/**
 * A string that does not print. Chosen over a non-enumerable `token` property because that
 * hides the token only from `JSON.stringify` and default `util.inspect`: `inspect` with
 * `showHidden` prints it, and a spread (`{ ...credential }`) silently drops it, which turns into
 * "token undefined" bugs far away. Here the value sits in an ES private field, every way of
 * printing (`JSON.stringify`, pino, `util.inspect`, `String()`, template literals) shows
 * `[REDACTED]`, and the one way to read it, `reveal()`, is explicit and easy to grep for.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself. Call it only where the value is sent upstream. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

interface StoredCredentialBase {
  readonly username?: string;
  /** When the credential was last saved or marked invalid (ms since the epoch). */
  readonly updatedAtMs: number;
  /** Changes with every save and markInvalid; pass it to `markInvalid` to act only on this one. */
  readonly revision: number;
}

export interface ValidCredential extends StoredCredentialBase {
  readonly status: 'valid';
  /** The resume token; prints as `[REDACTED]`, read it with `reveal()`. */
  readonly token: Secret;
  readonly tokenExpiresAt?: Date;
  /** How the gateway came by the token (see `CredentialInput.origin`). */
  readonly origin: CredentialOrigin;
}

/**
 * `login`: the gateway logged in with a password and the token is its own (a logout revokes it
 * upstream). `given`: a caller handed over a token other clients may share.
 */
export type CredentialOrigin = 'login' | 'given';

/** The token stopped working: nothing usable is kept, only why and when. */
export interface InvalidCredential extends StoredCredentialBase {
  readonly status: 'invalid';
  readonly reason: string;
}

/** Discriminated on `status`: only a valid credential has a token. */
export type StoredCredential = ValidCredential | InvalidCredential;

export interface CredentialInput {
  /** The Rocket.Chat resume token (never a password). */
  readonly token: string;
  readonly tokenExpiresAt?: Date;
  readonly username?: string;
  /** @defaultValue 'given' */
  readonly origin?: CredentialOrigin;
}

/** What a request check needs, read in one HMGET. */
export interface CredentialAccess {
  /** Undefined when nothing is stored. */
  readonly status: StoredCredential['status'] | undefined;
  /** Bumped by each logout; tokens issued under an older one are void. */
  readonly generation: number;
}

/** What `save` stored. */
export interface SavedCredential {
  readonly revision: number;
  /** The generation to put in tokens issued for this credential. */
  readonly generation: number;
}

export interface MarkInvalidOptions {
  /**
   * Mark only if the stored credential still has this revision (the one whose token failed).
   * Without it a session that failed with an old token could invalidate a new token the user
   * registered meanwhile. @defaultValue undefined (mark whatever is stored)
   */
  readonly revision?: number;
}

export interface CredentialStoreOptions {
  /** The shared client; the store only runs commands on it. */
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly cipher: TokenCipher;
  /** Source of `updatedAtMs`. @defaultValue systemClock */
  readonly clock?: Clock;
}

export interface CredentialStore {
  /** Stores (or replaces) the user's credential as valid, clearing any earlier invalid state. */
  save(userId: string, credential: CredentialInput): Promise<SavedCredential>;
  /**
   * The user's credential, or undefined when none is stored. A token sealed with an old key is
   * re-sealed under the current key and written back (lazy key rotation).
   * @throws CredentialDecryptError when the stored record cannot be read or opened.
   */
  load(userId: string): Promise<StoredCredential | undefined>;
  /**
   * Only the stored status, in one HGET and without opening the token: for checks on every
   * request (the HTTP tier refuses a user whose credential was marked invalid).
   * Undefined when nothing is stored.
   */
  status(userId: string): Promise<StoredCredential['status'] | undefined>;
  /** The status and the logout generation, in one HMGET: the per-request token check. */
  access(userId: string): Promise<CredentialAccess>;
  /**
   * Ends the credential on the user's request: marked `invalid` with `reason` (the token is
   * deleted, as by `markInvalid`, so sessions and webhooks stop as for a revoked token) and the
   * generation is bumped, voiding every gateway token issued before. A tombstone is written when
   * nothing was stored, so the generation survives. Resolves with the token that was stored, if
   * any, and how the gateway came by it (for revoking it upstream).
   */
  logout(userId: string, reason: string): Promise<{ token: Secret; origin: CredentialOrigin } | undefined>;
  /**
   * Records that the token no longer works: the sealed token and its expiry are deleted, the
   * status becomes `invalid` with `reason` and the time. `reason` is stored and shown, so it must
   * not contain the token. Resolves false when nothing was marked (no credential stored, or its
   * revision differs from `options.revision`).
   */
  markInvalid(userId: string, reason: string, options?: MarkInvalidOptions): Promise<boolean>;
  /** Deletes the user's credential. */
  remove(userId: string): Promise<void>;
}

// Each script touches one key (the credential hash), so it is legal on Redis Cluster; its KEYS,
// ARGV and reply are in the header of its file.
const SAVE_SCRIPT = LuaScript.fromFile(import.meta.url, './credential-store/save.lua', 1);
const LOGOUT_SCRIPT = LuaScript.fromFile(import.meta.url, './credential-store/logout.lua', 1);
const MARK_INVALID_SCRIPT = LuaScript.fromFile(import.meta.url, './credential-store/mark-invalid.lua', 1);

export function createCredentialStore(options: CredentialStoreOptions): CredentialStore {
  const { redis, keys, cipher } = options;
  const clock = options.clock ?? systemClock;
  // Whoever changes a credential tells the worker holding the user's session (it logs in again
  // with the new token, or closes the session when the credential is gone or invalid).
  const control = new ControlPublisher(redis, keys);
  const announce = (userId: string) => control.userNotice(userId, 'credentials-changed');

  return {
    async save(userId, credential) {
      const key = keys.user(userId).credential;
      const { token, tokenExpiresAt, username } = credential;
      // Messages never quote the token.
      if (typeof token !== 'string' || token.length === 0) {
        throw new TypeError('token must be a non-empty string');
      }
      if (tokenExpiresAt !== undefined && !isValidDate(tokenExpiresAt)) {
        throw new RangeError('tokenExpiresAt must be a valid Date');
      }
      if (username !== undefined && (typeof username !== 'string' || username.length === 0)) {
        throw new TypeError('username must be a non-empty string');
      }
      const fields: string[] = [
        'sealedToken',
        cipher.encrypt(token, userId),
        'status',
        'valid',
        'updatedAtMs',
        String(clock.now()),
        'origin',
        credential.origin === 'login' ? 'login' : 'given',
      ];
      if (tokenExpiresAt !== undefined) fields.push('tokenExpiresAtMs', String(tokenExpiresAt.getTime()));
      if (username !== undefined) fields.push('username', username);
      const [revision, generation] = await SAVE_SCRIPT.run<[number, number]>(redis, [key], fields);
      await announce(userId);
      return { revision, generation };
    },

    async load(userId) {
      const key = keys.user(userId).credential;
      const fields = await redis.hgetall(key);
      if (Object.keys(fields).length === 0) return undefined;

      const updatedAtMs = parseIntField(fields, 'updatedAtMs');
      const revision = parseIntField(fields, 'revision');
      if (updatedAtMs === undefined || revision === undefined) throw malformedRecord();
      const base = {
        ...(fields['username'] === undefined ? {} : { username: fields['username'] }),
        updatedAtMs,
        revision,
      };

      if (fields['status'] === 'invalid') {
        return Object.freeze({ status: 'invalid', reason: fields['reason'] ?? '', ...base });
      }
      const sealed = fields['sealedToken'];
      if (fields['status'] !== 'valid' || sealed === undefined) throw malformedRecord();

      const expiresAtMs = parseIntField(fields, 'tokenExpiresAtMs');
      if (expiresAtMs === undefined && fields['tokenExpiresAtMs'] !== undefined) throw malformedRecord();

      const token = cipher.decrypt(sealed, userId);
      // After a successful decrypt, so only a value known to be good is re-sealed; never over a
      // token saved in the meantime (resealField compares first).
      await resealField(redis, cipher, { key, field: SEALED_FIELD, aad: userId }, sealed);
      return Object.freeze({
        status: 'valid',
        token: new Secret(token),
        origin: fields['origin'] === 'login' ? 'login' : 'given',
        ...(expiresAtMs === undefined ? {} : { tokenExpiresAt: new Date(expiresAtMs) }),
        ...base,
      });
    },

    async status(userId) {
      const status = await redis.hget(keys.user(userId).credential, 'status');
      return status === 'valid' || status === 'invalid' ? status : undefined;
    },

    async access(userId) {
      const [status, generation] = await redis.hmget(keys.user(userId).credential, 'status', 'generation');
      return {
        status: status === 'valid' || status === 'invalid' ? status : undefined,
        generation: Number(generation ?? 0) || 0,
      };
    },

    async logout(userId, reason) {
      if (typeof reason !== 'string') throw new TypeError('reason must be a string');
      const [sealed, origin] = await LOGOUT_SCRIPT.run<[string, string]>(
        redis,
        [keys.user(userId).credential],
        [reason, String(clock.now())],
      );
      await announce(userId);
      if (!sealed) return undefined;
      try {
        return {
          token: new Secret(cipher.decrypt(sealed, userId)),
          origin: origin === 'login' ? 'login' : 'given',
        };
      } catch {
        // Unreadable (a removed key): the logout stands; only the upstream revocation is skipped.
        return undefined;
      }
    },

    async markInvalid(userId, reason, markOptions = {}) {
      const key = keys.user(userId).credential;
      if (typeof reason !== 'string') throw new TypeError('reason must be a string');
      const { revision } = markOptions;
      if (revision !== undefined && !Number.isSafeInteger(revision)) {
        throw new RangeError('revision must be an integer');
      }
      const marked = await MARK_INVALID_SCRIPT.run<number>(
        redis,
        [key],
        [revision === undefined ? '' : String(revision), reason, String(clock.now())],
      );
      if (marked === 1) await announce(userId);
      return marked === 1;
    },

    async remove(userId) {
      await redis.del(keys.user(userId).credential);
      await announce(userId);
    },
  };
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && Number.isFinite(value.getTime());
}

/** The named field as an integer; undefined when absent or not an integer. */
function parseIntField(fields: Record<string, string>, name: string): number | undefined {
  const text = fields[name];
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

function malformedRecord(): CredentialDecryptError {
  return new CredentialDecryptError('malformed', 'stored credential record is malformed');
}
