/**
 * BullMQ state must never be evicted: at start the webhook worker reads Redis's
 * `maxmemory-policy` and warns unless it is `noeviction`.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/log/index.js';
import { checkEvictionPolicy } from '../../src/webhooks/index.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';

let evicting: PrivateRedis;

beforeAll(async () => {
  // A server of its own: changing the policy of the shared test Redis would affect other files.
  evicting = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
});

afterAll(async () => {
  await evicting.close();
});

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { lines, logger };
}

it('warns when Redis may evict keys', async () => {
  const redis = new Redis(evicting.url);
  try {
    const { lines, logger } = capture();
    expect(await checkEvictionPolicy(redis, logger)).toBe('allkeys-lru');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', maxmemoryPolicy: 'allkeys-lru' });
    expect(String(lines[0]!['msg'])).toContain('noeviction');
  } finally {
    await redis.quit();
  }
});

it('is quiet with noeviction', async () => {
  const redis = new Redis(inject('redisUrl'));
  try {
    const { lines, logger } = capture();
    expect(await checkEvictionPolicy(redis, logger)).toBe('noeviction');
    expect(lines).toHaveLength(0);
  } finally {
    await redis.quit();
  }
});
