/**
 * Vitest global setup: one private Redis for the whole run, unless REDIS_URL names one.
 * Each test file then works under its own key prefix (see test/helpers/redis.ts).
 */
import type { TestProject } from 'vitest/node';
import {
  hasRedisServer,
  type PrivateRedis,
  REDIS_MISSING_MESSAGE,
  startPrivateRedis,
} from './helpers/redis-server.js';

let privateRedis: PrivateRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env['REDIS_URL'];
  if (!url) {
    if (!hasRedisServer()) {
      // One clear line, then stop: nothing else in the suite can run without Redis.
      console.error(REDIS_MISSING_MESSAGE);
      process.exit(1);
    }
    privateRedis = await startPrivateRedis();
    url = privateRedis.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await privateRedis?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
