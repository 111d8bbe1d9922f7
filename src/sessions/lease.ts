/**
 * Session ownership: one lease per user in Redis (`SET NX PX`), naming the worker that holds the
 * user's DDP session. The holder renews it; when the holder dies, the lease expires and another
 * worker claims it. Renew and release compare the owner first (in Lua) so that a worker that
 * lost its lease (a long pause, a network split) can never extend or delete someone else's.
 */
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';

const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type LeaseCommand = (key: string, owner: string, ttlMs?: number) => Promise<number>;

export interface SessionLeasesOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly workerId: string;
  readonly ttlMs: number;
}

export class SessionLeases {
  readonly workerId: string;
  readonly ttlMs: number;
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;

  constructor(options: SessionLeasesOptions) {
    if (!(options.ttlMs >= 100)) throw new RangeError('lease TTL must be at least 100 ms');
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.workerId = options.workerId;
    this.ttlMs = options.ttlMs;
    if (!('gwRenewLease' in this.#redis)) {
      this.#redis.defineCommand('gwRenewLease', { numberOfKeys: 1, lua: RENEW_SCRIPT });
      this.#redis.defineCommand('gwReleaseLease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    }
  }

  /** Takes the lease if nobody holds it (or we already do). */
  async claim(userId: string): Promise<boolean> {
    const key = this.#keys.user(userId).lease;
    const set = await this.#redis.set(key, this.workerId, 'PX', this.ttlMs, 'NX');
    if (set === 'OK') return true;
    return (await this.#command('gwRenewLease')(key, this.workerId, this.ttlMs)) === 1;
  }

  /**
   * Renews every lease we hold; returns the users whose lease we lost. The commands are sent
   * together, not as one pipeline: each user's lease is in its own Cluster slot, and a Cluster
   * refuses a pipeline that spans nodes.
   */
  async renew(userIds: readonly string[]): Promise<string[]> {
    const renew = this.#command('gwRenewLease');
    const results = await Promise.allSettled(
      userIds.map((userId) => renew(this.#keys.user(userId).lease, this.workerId, this.ttlMs)),
    );
    return userIds.filter((_, i) => {
      const result = results[i]!;
      return result.status === 'rejected' || result.value !== 1;
    });
  }

  async release(userId: string): Promise<void> {
    await this.#command('gwReleaseLease')(this.#keys.user(userId).lease, this.workerId);
  }

  async owner(userId: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#keys.user(userId).lease)) ?? undefined;
  }

  #command(name: 'gwRenewLease' | 'gwReleaseLease'): LeaseCommand {
    const command = (this.#redis as unknown as Record<string, LeaseCommand>)[name]!;
    return command.bind(this.#redis);
  }
}
