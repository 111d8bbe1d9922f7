/**
 * BullMQ's Worker sends its non-blocking commands (taking the next job, moving a finished one,
 * extending locks) on the connection it is given, and opens its blocking read's connection with
 * that connection's `duplicate()`, which copies every option. With concurrent jobs the first kind
 * come many per tick, so auto-pipelining them saves a socket write each; the blocking read must
 * not be auto-pipelined (tried: paced p99 went from ~30 to ~500 ms, bench/RESULTS.md). This
 * gives the worker an auto-pipelined connection whose duplicates leave auto-pipelining off.
 */
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../redis/connection.js';

export function withPlainDuplicates<C extends RedisClient>(client: C): C {
  if (client instanceof Cluster) {
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (nodes?: ConstructorParameters<typeof Cluster>[0], options?: ClusterOptions) =>
      duplicate(nodes, { ...options, enableAutoPipelining: false });
  } else if (client instanceof Redis) {
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (override?: Partial<RedisOptions>) =>
      duplicate({ ...override, enableAutoPipelining: false });
  }
  return client;
}
