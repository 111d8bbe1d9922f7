/**
 * A Lua script run by SHA (`EVALSHA`), loaded on first use and again after `NOSCRIPT` (a Redis
 * restart or `SCRIPT FLUSH`). Used instead of ioredis `defineCommand` because the client is
 * shared and not ours to extend, and instead of plain `EVAL` because the delivery scripts run on
 * every attempt and need not ship their source each time.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

export class LuaScript {
  readonly #source: string;
  readonly #sha: string;
  readonly #numberOfKeys: number;

  constructor(source: string, numberOfKeys: number) {
    this.#source = source;
    this.#numberOfKeys = numberOfKeys;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run<T>(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    if (keys.length !== this.#numberOfKeys) throw new RangeError(`script takes ${this.#numberOfKeys} keys`);
    try {
      return (await redis.evalsha(this.#sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return (await redis.eval(this.#source, keys.length, ...keys, ...args)) as T;
    }
  }
}
