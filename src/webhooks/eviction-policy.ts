/**
 * BullMQ keeps jobs, locks and delayed sets in Redis; a Redis that evicts keys under memory
 * pressure silently loses deliveries and corrupts queue state (BullMQ docs, "Going to
 * production": `maxmemory-policy` must be `noeviction`). Checked at start with `INFO memory`
 * rather than `CONFIG GET`, which managed services (ElastiCache, Memorystore) often disable.
 */

import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';

/** The server's `maxmemory-policy`, or undefined when it does not say. */
export async function readEvictionPolicy(redis: RedisClient): Promise<string | undefined> {
  const info = await redis.info('memory');
  const line = info.split(/\r?\n/).find((l) => l.startsWith('maxmemory_policy:'));
  return line?.slice('maxmemory_policy:'.length).trim();
}

/** Logs a warning unless the policy is `noeviction`; resolves with the policy found. */
export async function checkEvictionPolicy(
  redis: RedisClient,
  logger: Logger | undefined,
): Promise<string | undefined> {
  const policy = await readEvictionPolicy(redis);
  if (policy !== undefined && policy !== 'noeviction') {
    logger?.warn(
      { maxmemoryPolicy: policy },
      'Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict webhook jobs and lose deliveries; set maxmemory-policy noeviction',
    );
  }
  return policy;
}
