import { ReplyError as IoredisReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isRetryableRedisError } from '../../src/redis/errors.js';

// The class ioredis rejects server error replies with (typed `any` by ioredis).
const ReplyError = IoredisReplyError as new (message: string) => Error;

describe('isRetryableRedisError', () => {
  it('tries again when Redis is away or busy', () => {
    for (const message of [
      'CLUSTERDOWN The cluster is down',
      'TRYAGAIN Multiple keys request during rehashing of slot',
      'LOADING Redis is loading the dataset in memory',
      "OOM command not allowed when used memory > 'maxmemory'.",
      'BUSY Redis is busy running a script.',
      'NOSCRIPT No matching script. Please use EVAL.',
    ]) {
      expect(isRetryableRedisError(new ReplyError(message)), message).toBe(true);
    }
    expect(isRetryableRedisError(new Error('Connection is closed.'))).toBe(true);
    expect(isRetryableRedisError(new Error('Too many Cluster redirections. Last error: ...'))).toBe(true);
  });

  it('gives up on what Redis refuses for what it is', () => {
    for (const message of [
      'ERR user_script:1: Script attempted to access nonexistent global variable',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'NOPERM this user has no permissions to run the evalsha command',
    ]) {
      expect(isRetryableRedisError(new ReplyError(message)), message).toBe(false);
    }
    expect(isRetryableRedisError('not an error')).toBe(false);
  });
});
