/**
 * Coalesced writes (src/redis/coalesced-writes.ts), what the gateway's "auto-pipelined"
 * standalone connections use instead of ioredis' auto-pipelining: a turn's commands leave in one
 * socket write, replies come back to the right callers in order, commands sent before the client
 * is ready wait in ioredis' offline queue, and a reconnect does not leave the new socket corked.
 */
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../src/redis/coalesced-writes.js';
import { duplicateClient } from '../../src/redis/connection.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';

let server: PrivateRedis;

beforeAll(async () => {
  server = await startPrivateRedis();
});

afterAll(async () => {
  await server.close();
});

/** Counts the socket's write system calls (`_writev` for a corked batch, `_write` alone). */
function countWrites(socket: Socket): { readonly count: () => number } {
  let writes = 0;
  const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  for (const name of ['_write', '_writev'] as const) {
    const original = target[name].bind(socket);
    target[name] = (...args: unknown[]) => {
      writes++;
      return original(...args);
    };
  }
  return { count: () => writes };
}

describe('coalesced writes', () => {
  it("sends a turn's commands in one write, each reply to its own caller, in order", async () => {
    const client = coalesceWrites(new Redis(server.url));
    try {
      await client.ping();
      const writes = countWrites(client.stream as Socket);
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.eval('return ARGV[1]', 0, `r${i}`)),
      );
      expect(replies).toEqual(Array.from({ length: 50 }, (_, i) => `r${i}`));
      expect(writes.count()).toBe(1);
      // Commands of later turns: one write per turn, none left corked.
      for (let i = 0; i < 3; i++) await client.incr('coalesced:n');
      expect(writes.count()).toBe(4);
      expect((client.stream as Socket).writableCorked).toBe(0);
    } finally {
      await client.quit();
    }
  });

  it('queues commands sent before the connection is ready, and survives a reconnect', async () => {
    const client = coalesceWrites(new Redis(server.url, { lazyConnect: true }));
    try {
      // Sent before any socket exists (the command itself starts the connection).
      expect(client.status).toBe('wait');
      const early = client.set('coalesced:early', '1');
      expect(await early).toBe('OK');
      const before = client.stream as Socket;
      client.disconnect(true);
      expect(await client.get('coalesced:early')).toBe('1');
      expect(client.stream).not.toBe(before);
      expect((client.stream as Socket).writableCorked).toBe(0);
      const writes = countWrites(client.stream as Socket);
      const [a, b] = await Promise.all([client.incr('coalesced:m'), client.incr('coalesced:m')]);
      expect([a, b]).toEqual([1, 2]);
      expect(writes.count()).toBe(1);
    } finally {
      await client.quit();
    }
  });

  it('is what a duplicate asked to be auto-pipelined gets on a standalone server', async () => {
    const base = new Redis(server.url);
    const duplicate = duplicateClient(base, { enableAutoPipelining: true }) as Redis;
    try {
      // No ioredis auto-pipelines (their objects outlive young-generation collections).
      expect(duplicate.options.enableAutoPipelining).toBe(false);
      await duplicate.ping();
      const writes = countWrites(duplicate.stream as Socket);
      await Promise.all([duplicate.set('coalesced:d', 'x'), duplicate.get('coalesced:d')]);
      expect(writes.count()).toBe(1);
    } finally {
      await duplicate.quit();
      await base.quit();
    }
  });
});
