/**
 * Incoming hooks in Redis (architecture invariant 3). One HASH per hook at `keys.hook(id)`:
 *
 *   userId                      the owner: messages are posted as this user
 *   roomId                      where posts go unless they name a `channel`
 *   alias, emoji, avatar        defaults for posts that do not set their own
 *   description
 *   enabled                     `1` | `0`
 *   channelOverride             `1` when posts may name another `channel` (set at creation only)
 *   tokenHash                   SHA-256 of the URL token (hook-token.ts); the token itself is never stored
 *   secret                      the Standard Webhooks signing secret, sealed with the TokenCipher
 *                               (AAD binds it to the hook), when posts must be signed
 *   createdAtMs, updatedAtMs, tokenRotatedAtMs
 *
 * plus the owner's SET of hook ids and, per hook, a bounded LIST of its recent posts. The hook's
 * keys share the tag `{hook:<id>}` (the public endpoint knows only the id); the owner's set is
 * under the owner's tag. No script spans both, so this holds on Redis Cluster.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { pushNumbered, readNumbered } from '../redis/numbered-list.js';
import { resealField } from '../rotation/reseal-field.js';
import type { TokenCipher } from '../sessions/token-cipher.js';

export interface HookRecord {
  readonly id: string;
  readonly userId: string;
  readonly roomId: string;
  readonly alias: string | undefined;
  readonly emoji: string | undefined;
  readonly avatar: string | undefined;
  readonly description: string;
  readonly isEnabled: boolean;
  /** Posts may name another room in `channel`; otherwise they go to `roomId` only. */
  readonly isChannelOverrideAllowed: boolean;
  readonly tokenHash: string;
  /** The signing secret (opened), when posts must be signed. */
  readonly signingSecret: string | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly tokenRotatedAtMs: number | undefined;
}

export interface NewHook {
  readonly roomId: string;
  readonly alias?: string | undefined;
  readonly emoji?: string | undefined;
  readonly avatar?: string | undefined;
  readonly description?: string | undefined;
  readonly signingSecret?: string | undefined;
  /** @defaultValue false */
  readonly allowChannelOverride?: boolean | undefined;
}

/** A change; `null` removes an optional field. */
export interface HookPatch {
  readonly roomId?: string;
  readonly alias?: string | null;
  readonly emoji?: string | null;
  readonly avatar?: string | null;
  readonly description?: string;
  readonly signingSecret?: string | null;
  readonly enabled?: boolean;
}

/** One post to a hook, as `GET /v1/hooks/:id/requests` lists it. */
export interface HookRequestEntry {
  readonly atMs: number;
  /** The HTTP status the sender got. */
  readonly status: number;
  /** The outbound job, when the post was accepted. */
  readonly jobId?: string;
  readonly messageId?: string;
  readonly roomId?: string;
  /** Why the post was refused. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface HookStoreOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly cipher: TokenCipher;
  /** Posts kept per hook for `GET /v1/hooks/:id/requests`. @defaultValue 100 */
  readonly maxRequestsKept?: number;
}

// KEYS, ARGV and reply: see the header of each file.
const UPDATE_SCRIPT = LuaScript.fromFile(import.meta.url, './hook-store/update.lua', 1);

const RESERVE_SCRIPT = LuaScript.fromFile(import.meta.url, './hook-store/reserve.lua', 1);

const OPTIONAL_FIELDS = ['alias', 'emoji', 'avatar'] as const;

export class HookStore {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #cipher: TokenCipher;
  readonly #maxRequests: number;

  constructor(options: HookStoreOptions) {
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#cipher = options.cipher;
    this.#maxRequests = options.maxRequestsKept ?? 100;
  }

  /**
   * Takes one of the user's `max` hook places for `id`, atomically: concurrent creations cannot
   * exceed the limit. False when all are taken. `create` fills the place, `release` gives it back.
   */
  async reserve(userId: string, id: string, max: number): Promise<boolean> {
    return (
      (await RESERVE_SCRIPT.run<number>(this.#redis, [this.#keys.user(userId).hookIds], [max, id])) === 1
    );
  }

  /** Gives back a place `reserve` took, for a hook that was not created. */
  async release(userId: string, id: string): Promise<void> {
    await this.#redis.srem(this.#keys.user(userId).hookIds, id);
  }

  /** Stores the hook in the place `reserve` took for it. */
  async create(id: string, userId: string, hook: NewHook, tokenHash: string, nowMs: number): Promise<void> {
    const fields: Record<string, string> = {
      userId,
      roomId: hook.roomId,
      description: hook.description ?? '',
      enabled: '1',
      tokenHash,
      createdAtMs: String(nowMs),
      updatedAtMs: String(nowMs),
    };
    for (const name of OPTIONAL_FIELDS) {
      const value = hook[name];
      if (value !== undefined) fields[name] = value;
    }
    if (hook.signingSecret !== undefined) fields.secret = this.#seal(id, hook.signingSecret);
    if (hook.allowChannelOverride === true) fields.channelOverride = '1';
    // The set member came first (reserve): until the record exists, `list` skips it.
    await this.#redis.hset(this.#keys.hook(id), fields);
  }

  /** The hook, whoever owns it (the public endpoint), or undefined. */
  async get(id: string): Promise<HookRecord | undefined> {
    const key = this.#keys.hook(id);
    const hash = await this.#redis.hgetall(key);
    const record = this.#toRecord(id, hash);
    // Opened above, so the secret is good: move it to the current key (lazy rotation).
    if (record && hash.secret !== undefined) {
      await resealField(
        this.#redis,
        this.#cipher,
        { key, field: 'secret', aad: hookSecretAad(id) },
        hash.secret,
      );
    }
    return record;
  }

  /** The hook when `userId` owns it. */
  async getOwned(userId: string, id: string): Promise<HookRecord | undefined> {
    const record = await this.get(id);
    return record?.userId === userId ? record : undefined;
  }

  async list(userId: string): Promise<HookRecord[]> {
    const ids = (await this.#redis.smembers(this.#keys.user(userId).hookIds)).sort();
    // One command per hook, not a pipeline: each hook has its own hash tag (it is found by id
    // alone), and a Cluster refuses a pipeline whose keys live on different nodes.
    const hashes = await Promise.all(ids.map((id) => this.#redis.hgetall(this.#keys.hook(id))));
    const records: HookRecord[] = [];
    ids.forEach((id, i) => {
      const record = this.#toRecord(id, hashes[i]);
      if (record?.userId === userId) records.push(record);
    });
    return records.sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  /** Applies `patch` (and a new token hash, when given); false when the user owns no such hook. */
  async update(
    userId: string,
    id: string,
    patch: HookPatch,
    nowMs: number,
    tokenHash?: string,
  ): Promise<boolean> {
    const set: string[] = [];
    const deletes: string[] = [];
    if (patch.roomId !== undefined) set.push('roomId', patch.roomId);
    if (patch.description !== undefined) set.push('description', patch.description);
    if (patch.enabled !== undefined) set.push('enabled', patch.enabled ? '1' : '0');
    for (const name of OPTIONAL_FIELDS) {
      const value = patch[name];
      if (value === null) deletes.push(name);
      else if (value !== undefined) set.push(name, value);
    }
    if (patch.signingSecret === null) deletes.push('secret');
    else if (patch.signingSecret !== undefined) set.push('secret', this.#seal(id, patch.signingSecret));
    if (tokenHash !== undefined) set.push('tokenHash', tokenHash, 'tokenRotatedAtMs', String(nowMs));
    const updated = await UPDATE_SCRIPT.run<number>(
      this.#redis,
      [this.#keys.hook(id)],
      [userId, nowMs, deletes.length, ...deletes, ...set],
    );
    return updated === 1;
  }

  /** Deletes the hook and its request log; false when the user owns no such hook. */
  async remove(userId: string, id: string): Promise<boolean> {
    if (!(await this.getOwned(userId, id))) return false;
    await this.#redis.del(this.#keys.hook(id), this.#keys.hookRequests(id));
    await this.#redis.srem(this.#keys.user(userId).hookIds, id);
    return true;
  }

  async recordRequest(id: string, entry: HookRequestEntry): Promise<void> {
    // Numbered (the record's `requestSeq`) so that `requests` can page with a cursor.
    await pushNumbered(
      this.#redis,
      this.#keys.hook(id),
      'requestSeq',
      this.#keys.hookRequests(id),
      JSON.stringify(entry),
      this.#maxRequests,
    );
  }

  /**
   * Newest first, at most `limit`, older than request number `beforeSeq` when given; `nextSeq`
   * is the number to continue before, when more are kept.
   */
  async requests(
    id: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<{ entries: HookRequestEntry[]; nextSeq: number | undefined }> {
    const rows = await readNumbered(
      this.#redis,
      this.#keys.hook(id),
      'requestSeq',
      this.#keys.hookRequests(id),
      beforeSeq,
    );
    const page = rows.slice(0, limit);
    return {
      entries: page.map((row) => JSON.parse(row.raw) as HookRequestEntry),
      nextSeq: rows.length > limit ? page[page.length - 1]?.seq : undefined,
    };
  }

  #seal(id: string, secret: string): string {
    return this.#cipher.encrypt(secret, hookSecretAad(id));
  }

  #toRecord(id: string, hash: Record<string, string> | undefined): HookRecord | undefined {
    if (!hash?.userId || !hash.roomId || !hash.tokenHash) return undefined;
    const number = (value: string | undefined): number | undefined =>
      value === undefined ? undefined : Number(value);
    return {
      id,
      userId: hash.userId,
      roomId: hash.roomId,
      alias: hash.alias,
      emoji: hash.emoji,
      avatar: hash.avatar,
      description: hash.description ?? '',
      isEnabled: hash.enabled !== '0',
      isChannelOverrideAllowed: hash.channelOverride === '1',
      tokenHash: hash.tokenHash,
      signingSecret:
        hash.secret === undefined ? undefined : this.#cipher.decrypt(hash.secret, hookSecretAad(id)),
      createdAtMs: number(hash.createdAtMs) ?? 0,
      updatedAtMs: number(hash.updatedAtMs) ?? 0,
      tokenRotatedAtMs: number(hash.tokenRotatedAtMs),
    };
  }
}

/** The AAD a hook's signing secret is sealed with: it opens only in this hook. */
export function hookSecretAad(id: string): string {
  return `hook:${id}`;
}
