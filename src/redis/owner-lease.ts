/**
 * An owner-checked lease: a Redis string naming its holder, with a TTL. Taken only when free,
 * renewed and released only by the holder whose exact value it still holds (one script each), so
 * a holder that stalled past its TTL and lost the lease to another cannot extend or delete the
 * successor's. The one lease of the gateway: the webhook dispatch lease uses it as it is; session
 * leases (src/sessions/lease.ts) build generations and takeover on top of it.
 */
import type { RedisClient } from './connection.js';
import { LuaScript } from './lua-script.js';

// KEYS, ARGV and reply: see the header of each file.
const RENEW = LuaScript.fromFile(import.meta.url, './owner-lease/renew.lua', 1);
const RELEASE = LuaScript.fromFile(import.meta.url, './owner-lease/release.lua', 1);

export interface OwnerLeaseOptions {
  readonly redis: RedisClient;
  /** How long a lease lives without renewal. At least 100 ms. */
  readonly ttlMs: number;
}

export class OwnerLease {
  readonly ttlMs: number;
  readonly #redis: RedisClient;

  constructor(options: OwnerLeaseOptions) {
    if (!(options.ttlMs >= 100)) throw new RangeError('lease TTL must be at least 100 ms');
    this.#redis = options.redis;
    this.ttlMs = options.ttlMs;
  }

  /** Takes the lease at `key` for `holder` if nobody holds it. */
  async acquire(key: string, holder: string): Promise<boolean> {
    return (await this.#redis.set(key, holder, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Extends the lease by the TTL if `holder` still holds it; false when it is lost. */
  async renew(key: string, holder: string): Promise<boolean> {
    return (await RENEW.run<number>(this.#redis, [key], [holder, this.ttlMs])) === 1;
  }

  /** Deletes the lease if `holder` still holds it; false when it was gone or someone else's. */
  async release(key: string, holder: string): Promise<boolean> {
    return (await RELEASE.run<number>(this.#redis, [key], [holder])) === 1;
  }
}
