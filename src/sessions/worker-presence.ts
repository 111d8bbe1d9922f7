/**
 * Is a worker still there? Used to take over the sessions of a dead worker at once instead of
 * waiting out their leases.
 *
 * Standalone Redis: a worker is present while its control channel (`workerRpcChannel`) has a
 * subscriber. A killed process' sockets are closed by its kernel, Redis drops the subscription
 * the moment it reads the close, and `PUBSUB NUMSUB` says 0: detection in one round trip, with
 * no heartbeat traffic. A paused process (SIGSTOP, a long GC) keeps its socket and so counts as
 * present: its lease expires instead, and the fence keeps it from writing after that.
 *
 * Redis Cluster: `PUBSUB NUMSUB` counts the subscribers of the node asked only, and the
 * gateway's subscriber connections may sit on any node. There each worker keeps a short-lived
 * key alive instead (renewed every third of its TTL); detection takes up to that TTL.
 */
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';

/** Cluster only: how long a worker's presence key outlives its last renewal. */
const PRESENCE_TTL_MS = 1500;

export interface WorkerPresenceOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** This process' worker id; absent on api-only replicas, which only ask about others. */
  readonly workerId?: string;
  /** Renews the Cluster presence key. @defaultValue systemClock */
  readonly clock?: Clock;
  readonly onError?: (error: unknown) => void;
}

export class WorkerPresence {
  readonly #options: WorkerPresenceOptions;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;

  constructor(options: WorkerPresenceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** On a Cluster, starts announcing this worker. Its control channel does it on a standalone Redis. */
  async start(): Promise<void> {
    const { redis, workerId } = this.#options;
    if (!redis.isCluster || workerId === undefined) return;
    await this.#announce();
    this.#timer = this.#clock.setInterval(() => {
      this.#announce().catch((err) => this.#options.onError?.(err));
    }, PRESENCE_TTL_MS / 3);
    this.#timer.unref();
  }

  /** The workers among `workerIds` that are gone. One round trip on a standalone Redis. */
  async goneAmong(workerIds: readonly string[]): Promise<Set<string>> {
    const { redis, keys } = this.#options;
    if (workerIds.length === 0) return new Set();
    if (!redis.isCluster) {
      const reply = (await redis.call(
        'PUBSUB',
        'NUMSUB',
        ...workerIds.map((id) => keys.workerRpcChannel(id)),
      )) as (string | number)[];
      const gone = new Set<string>();
      for (let i = 0; i < workerIds.length; i++) if (Number(reply[2 * i + 1]) === 0) gone.add(workerIds[i]!);
      return gone;
    }
    // Each key in its own slot: separate commands sent together, not one cross-slot MGET.
    const found = await Promise.all(workerIds.map((id) => redis.exists(keys.workerAlive(id))));
    return new Set(workerIds.filter((_, i) => found[i] === 0));
  }

  async isGone(workerId: string): Promise<boolean> {
    return (await this.goneAmong([workerId])).has(workerId);
  }

  async #announce(): Promise<void> {
    const { redis, keys, workerId } = this.#options;
    await redis.set(keys.workerAlive(workerId!), '1', 'PX', PRESENCE_TTL_MS);
  }

  /** Stops announcing and withdraws this worker's presence (its sessions are released first). */
  async close(): Promise<void> {
    this.#clock.clearInterval(this.#timer);
    const { redis, keys, workerId } = this.#options;
    if (this.#timer && workerId !== undefined) await redis.del(keys.workerAlive(workerId)).catch(() => {});
    this.#timer = undefined;
  }
}
