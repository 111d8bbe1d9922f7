/**
 * Live events that reach the gateway together (one Pub/Sub read, one turn of the event loop) go
 * to each client as one write, and the clients given every one of them share one encoding
 * (src/sse/sse-hub.ts). A client given only some of them must get exactly those, in log order,
 * beside clients given all of them.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { EventLog } from '../../src/events/event-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { openSse, type SseReader } from '../helpers/sse-reader.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let gw: TestGateway;
const readers: SseReader[] = [];

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
});
afterAll(async () => {
  for (const reader of readers) reader.close();
  await gw?.close();
  await sim?.close();
});

function freshChannel(): string {
  return sim.control.createRoom({
    name: `batched-${Date.now()}-${Math.random()}`,
    t: 'c',
    members: ['alice', 'bob'],
  })._id;
}

/** The `msg` of every message event the reader got, in order. */
function texts(reader: SseReader): string[] {
  return reader.events
    .filter((e) => e.event === 'message.created')
    .map((e) => (JSON.parse(e.data) as { data: { msg: string } }).data.msg);
}

describe('live events written together', () => {
  it('reach clients of all and of some of them whole, once each, in log order', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'alice');
    const [first, second] = [freshChannel(), freshChannel()];
    const open = async (topics: string): Promise<SseReader> => {
      const reader = await openSse(`${gw.url}/v1/events?topics=${topics}`, {
        authorization: `Bearer ${token}`,
      });
      expect(reader.status).toBe(200);
      readers.push(reader);
      return reader;
    };
    const both = [await open(`room:${first},room:${second}`), await open(`room:${second},room:${first}`)];
    const firstOnly = await open(`room:${first}`);
    const log = new EventLog({
      redis: gw.gateway.core.redis,
      keys: createKeys(gw.env.REDIS_KEY_PREFIX),
      maxLength: 10_000,
      maxAgeMs: 3_600_000,
    });
    // Sent at once on one connection: Redis publishes them back to back, so the gateway reads
    // many of them per turn.
    const sent = Array.from({ length: 300 }, (_, i) => ({
      roomId: i % 3 === 0 ? second : first,
      msg: `m${i}`,
    }));
    await Promise.all(
      sent.map(({ roomId, msg }) =>
        log.append({
          type: 'message.created',
          userId,
          roomId,
          ts: new Date().toISOString(),
          data: { _id: `batched-${msg}`, rid: roomId, msg },
        }),
      ),
    );
    const all = sent.map((e) => e.msg);
    const inFirst = sent.filter((e) => e.roomId === first).map((e) => e.msg);
    await waitFor(
      () => both.every((r) => texts(r).length >= all.length) && texts(firstOnly).length >= inFirst.length,
      20_000,
      'every event',
    );
    for (const reader of both) expect(texts(reader)).toEqual(all);
    expect(texts(firstOnly)).toEqual(inFirst);
  });
});
