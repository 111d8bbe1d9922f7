/**
 * Sends pipelined on the user's one connection: up to OUTBOUND_CONCURRENCY (16 here) calls in
 * flight, and each room's messages stored in the order they were accepted. Rocket.Chat (and the
 * simulator) run one connection's methods one at a time, in arrival order; the simulator holds
 * each send a few milliseconds so that the window fills.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import type { OutboundJobView } from '../../src/outbound/index.js';
import { type OutboundHarness, startOutboundHarness } from '../helpers/outbound-harness.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let h: OutboundHarness;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice'],
    env: { OUTBOUND_CONCURRENCY: '16' },
  });
});

afterAll(async () => {
  sim?.control.slowMethod('sendMessage', 0);
  await h?.close();
  await sim?.close();
});

/** The most sendMessage calls the simulator saw in flight at once on one connection. */
function maxInFlight(prefix: string): number {
  const frames = sim.control
    .frames({ limit: 10_000 })
    .filter((f) => f.data.includes('"sendMessage"') || f.data.includes('"result"'))
    .sort((a, b) => a.seq - b.seq);
  const open = new Set<string>();
  let max = 0;
  for (const frame of frames) {
    const msg = JSON.parse(frame.data) as { msg?: string; id?: string; method?: string; params?: unknown };
    const key = `${frame.connectionId}/${msg.id}`;
    if (
      frame.direction === 'in' &&
      msg.method === 'sendMessage' &&
      JSON.stringify(msg.params).includes(prefix)
    ) {
      open.add(key);
      max = Math.max(max, open.size);
    } else if (frame.direction === 'out' && msg.msg === 'result') {
      open.delete(key);
    }
  }
  return max;
}

describe('pipelined sends', () => {
  it('keep each room in acceptance order with up to 16 calls in flight', { timeout: 120_000 }, async () => {
    const rooms = [
      'GENERAL',
      sim.control.createRoom({ t: 'c', name: 'pipe-b', members: ['alice', 'bob'] })._id,
      sim.control.createRoom({ t: 'c', name: 'pipe-c', members: ['alice', 'bob'] })._id,
    ];
    sim.control.clearFrames();
    sim.control.slowMethod('sendMessage', 3);
    // All at once: the order of acceptance is the order Redis ran the accepts in (the seq).
    const posted = await Promise.all(
      Array.from({ length: 96 }, async (_, i) => {
        const text = `pipe ${i}`;
        const roomId = rooms[i % rooms.length]!;
        const res = await request(h.app)
          .post('/v1/messages')
          .set('x-test-user', 'alice')
          .send({ roomId, text });
        expect(res.status).toBe(202);
        return { text, roomId, job: res.body as OutboundJobView };
      }),
    );
    const jobKey = (id: string) => h.core.keys.user(h.userIds.alice!).outboundJob(id);
    const withSeq = await Promise.all(
      posted.map(async (p) => ({ ...p, seq: Number(await h.core.redis.hget(jobKey(p.job.id), 'seq')) })),
    );
    await waitFor(
      async () => {
        const views = await Promise.all(
          posted.map(
            async (p) =>
              (await request(h.app).get(`/v1/messages/${p.job.id}`).set('x-test-user', 'alice'))
                .body as OutboundJobView,
          ),
        );
        return views.every((v) => v.status === 'sent');
      },
      60_000,
      'every message sent',
    );
    for (const rid of rooms) {
      const expected = withSeq
        .filter((p) => p.roomId === rid)
        .sort((a, b) => a.seq - b.seq)
        .map((p) => p.text);
      const stored = sim.control
        .roomMessages(rid)
        .map((m) => m.msg)
        .filter((m) => m.startsWith('pipe '));
      expect(stored).toEqual(expected);
    }
    const inFlight = maxInFlight('pipe ');
    expect(inFlight).toBeGreaterThan(1);
    expect(inFlight).toBeLessThanOrEqual(16);
  });
});
