/**
 * Session ownership: one lease per user in Redis naming the worker that holds the user's DDP
 * session, and the lease's generation. Every grant takes a new generation from a counter that
 * never goes back, so a holder that lost its lease (a long GC pause, SIGSTOP, a partition from
 * Redis) can be told apart from its successor by Redis itself: renewals compare the whole
 * `<generation>:<worker>` value, and log appends carry the generation and are refused once a
 * newer one exists (the fence, see `src/events/event-log.ts`).
 *
 * A lease normally ends by release or expiry. A holder known to be dead (its presence gone, see
 * `worker-presence.ts`) need not be waited out: `claim` replaces it by compare-and-swap on the
 * exact lease it held, so two workers racing to take over cannot both win.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { OwnerLease } from '../redis/owner-lease.js';

/** A lease as stored: who holds it, and which grant it is. */
export interface Lease {
  readonly workerId: string;
  readonly generation: number;
}

export type ClaimResult =
  | { readonly isGranted: true; readonly lease: Lease }
  | { readonly isGranted: false; readonly holder: Lease };

// KEYS, ARGV and reply: see the header of each file.
const CLAIM = LuaScript.fromFile(import.meta.url, './lease/claim.lua', 2);

const RENEW = LuaScript.fromFile(import.meta.url, './lease/renew.lua', 2);

export interface SessionLeasesOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly workerId: string;
  readonly ttlMs: number;
}

export function formatLease(lease: Lease): string {
  return `${lease.generation}:${lease.workerId}`;
}

/** Reads a stored lease value; anything else (an old-format value, junk) counts as no lease. */
export function parseLease(value: string | null | undefined): Lease | undefined {
  if (!value) return undefined;
  const sep = value.indexOf(':');
  const generation = Number(value.slice(0, sep));
  if (sep <= 0 || !Number.isSafeInteger(generation) || sep === value.length - 1) return undefined;
  return { generation, workerId: value.slice(sep + 1) };
}

export class SessionLeases {
  readonly workerId: string;
  readonly ttlMs: number;
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  /** Releases by exact value; claim and renew are this file's own (generations, takeover). */
  readonly #lease: OwnerLease;

  constructor(options: SessionLeasesOptions) {
    this.#lease = new OwnerLease({ redis: options.redis, ttlMs: options.ttlMs });
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.workerId = options.workerId;
    this.ttlMs = options.ttlMs;
  }

  /**
   * Takes the lease with a new generation if nobody holds it, or if `deadHolder` (a lease whose
   * worker is known to be gone) still does. Otherwise says who holds it.
   */
  async claim(userId: string, deadHolder?: Lease): Promise<ClaimResult> {
    const keys = this.#keys.user(userId);
    const [granted, value] = await CLAIM.run<[number, string]>(
      this.#redis,
      [keys.lease, keys.leaseGeneration],
      [this.workerId, this.ttlMs, deadHolder ? formatLease(deadHolder) : ''],
    );
    if (granted === 1)
      return { isGranted: true, lease: { workerId: this.workerId, generation: Number(value) } };
    // An unparseable value cannot be ours; report it as held by nobody we can name.
    return { isGranted: false, holder: parseLease(value) ?? { workerId: '', generation: 0 } };
  }

  /**
   * Renews the leases we hold; returns the users whose lease is gone to a newer generation. The
   * commands are sent together, not as one pipeline: each user's lease is in its own Cluster
   * slot, and a Cluster refuses a pipeline that spans nodes. A renewal Redis could not answer is
   * not a loss: the fence decides, on the next try.
   */
  async renew(held: ReadonlyMap<string, number>): Promise<string[]> {
    const userIds = [...held.keys()];
    const results = await Promise.allSettled(
      userIds.map((userId) => {
        const keys = this.#keys.user(userId);
        const generation = held.get(userId)!;
        return RENEW.run<number>(
          this.#redis,
          [keys.lease, keys.leaseGeneration],
          [formatLease({ workerId: this.workerId, generation }), generation, this.ttlMs],
        );
      }),
    );
    return userIds.filter((_, i) => {
      const result = results[i]!;
      return result.status === 'fulfilled' && result.value !== 1;
    });
  }

  async release(userId: string, generation: number): Promise<void> {
    await this.#lease.release(
      this.#keys.user(userId).lease,
      formatLease({ workerId: this.workerId, generation }),
    );
  }

  async holder(userId: string): Promise<Lease | undefined> {
    return parseLease(await this.#redis.get(this.#keys.user(userId).lease));
  }

  /** The worker holding the user's session, if any. */
  async owner(userId: string): Promise<string | undefined> {
    return (await this.holder(userId))?.workerId;
  }
}
