/**
 * Rate limits and outages on the outbound path, against the simulator with Rocket.Chat's own
 * DDP rate limiter on (sendMessage: 5 per second per user): every message is sent, in the
 * order it was accepted; a user held by `too-many-requests` does not hold anyone else; an
 * upstream outage is waited out.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { createMetrics, type PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';
import type { OutboundJobView } from '../../src/outbound/index.js';
import { metricValue } from '../helpers/metric-value.js';
import { type OutboundHarness, startOutboundHarness } from '../helpers/outbound-harness.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let h: OutboundHarness;
let metrics: PrometheusMetrics;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: true });
  metrics = createMetrics({ collectDefaultMetrics: false });
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice', 'bob'],
    metrics,
  });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

async function post(user: string, roomId: string, text: string): Promise<OutboundJobView> {
  const res = await request(h.app).post('/v1/messages').set('x-test-user', user).send({ roomId, text });
  expect(res.status).toBe(202);
  return res.body as OutboundJobView;
}

async function status(user: string, id: string): Promise<OutboundJobView> {
  return (await request(h.app).get(`/v1/messages/${id}`).set('x-test-user', user)).body as OutboundJobView;
}

async function allSent(user: string, jobs: readonly OutboundJobView[], timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const views = await Promise.all(jobs.map((job) => status(user, job.id)));
      const failed = views.find((v) => v.status === 'failed');
      if (failed) throw new Error(`job failed: ${JSON.stringify(failed)}`);
      return views.every((v) => v.status === 'sent');
    },
    timeoutMs,
    `${jobs.length} jobs of ${user} to be sent`,
  );
}

function texts(rid: string, prefix: string): string[] {
  return sim.control
    .roomMessages(rid)
    .filter((m) => m.msg.startsWith(prefix))
    .map((m) => m.msg);
}

describe('rate limits', () => {
  it('a burst past Rocket.Chat’s 5 per second is sent completely and in order', async () => {
    const expected = Array.from({ length: 18 }, (_, i) => `burst ${String(i).padStart(2, '0')}`);
    const jobs: OutboundJobView[] = [];
    for (const text of expected) jobs.push(await post('alice', 'GENERAL', text));
    await allSent('alice', jobs, 30_000);
    expect(texts('GENERAL', 'burst ')).toEqual(expected);
  });

  it('holds only the rate-limited user: another user’s message goes out meanwhile', async () => {
    const aliceId = h.userIds.alice!;
    // The next sendMessage, from anyone, is refused with a 4 s wait: alice's, posted first.
    sim.control.forceRateLimit('sendMessage', 1, 4000);
    const alice = [await post('alice', 'GENERAL', 'held 0'), await post('alice', 'GENERAL', 'held 1')];
    const holdKey = h.core.keys.user(aliceId).outboundRateLimit;
    await waitFor(async () => (await h.core.redis.pttl(holdKey)) > 0, 10_000, 'alice to be held');

    const started = Date.now();
    const bob = await post('bob', 'GENERAL', 'bob is not held');
    await allSent('bob', [bob], 10_000);
    expect(Date.now() - started).toBeLessThan(2500);
    // Alice is still waiting out the time Rocket.Chat named...
    expect((await status('alice', alice[0]!.id)).status).toBe('queued');
    // ...then everything of hers is sent, in order.
    await allSent('alice', alice, 20_000);
    expect(texts('GENERAL', 'held ')).toEqual(['held 0', 'held 1']);
  });

  it('a storm of concurrent posts by a rate-limited user, 16 in flight, paces without losing or reordering anything', {
    timeout: 120_000,
  }, async () => {
    const rooms = [
      'GENERAL',
      sim.control.createRoom({ t: 'c', name: 'storm-b', members: ['alice', 'bob'] })._id,
    ];
    const retriedBefore = await metricValue(metrics, 'gateway_outbound_messages_total', {
      outcome: 'retried',
    });
    const sentBefore = await metricValue(metrics, 'gateway_outbound_messages_total', { outcome: 'sent' });
    const posted = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const text = `storm ${i}`;
        const roomId = rooms[i % 2]!;
        return { text, roomId, job: await post('alice', roomId, text) };
      }),
    );
    const jobKey = (id: string) => h.core.keys.user(h.userIds.alice!).outboundJob(id);
    const bySeq = await Promise.all(
      posted.map(async (p) => ({ ...p, seq: Number(await h.core.redis.hget(jobKey(p.job.id), 'seq')) })),
    );
    await allSent(
      'alice',
      posted.map((p) => p.job),
      90_000,
    );
    for (const rid of rooms) {
      const expected = bySeq
        .filter((p) => p.roomId === rid)
        .sort((a, b) => a.seq - b.seq)
        .map((p) => p.text);
      expect(texts(rid, 'storm ')).toEqual(expected);
    }
    // Rocket.Chat refused some (5 per second): they were paced, not lost or sent twice.
    expect(
      await metricValue(metrics, 'gateway_outbound_messages_total', { outcome: 'retried' }),
    ).toBeGreaterThan(retriedBefore);
    expect(await metricValue(metrics, 'gateway_outbound_messages_total', { outcome: 'sent' })).toBe(
      sentBefore + 30,
    );
  });

  it('lanes are per room: order holds in each of several rooms sent to at once', async () => {
    const rooms = [
      'GENERAL',
      sim.control.createRoom({ t: 'c', name: 'lanes-b', members: ['alice', 'bob'] })._id,
    ];
    const jobs: OutboundJobView[] = [];
    for (let i = 0; i < 8; i++) {
      for (const rid of rooms) jobs.push(await post('alice', rid, `lane ${rid} ${i}`));
    }
    await allSent('alice', jobs, 30_000);
    for (const rid of rooms) {
      expect(texts(rid, `lane ${rid} `)).toEqual(Array.from({ length: 8 }, (_, i) => `lane ${rid} ${i}`));
    }
  });
});

describe('upstream outage', () => {
  it('retries with backoff until Rocket.Chat is back, then sends once, in order', async () => {
    // Make sure alice's session is live before cutting it.
    await allSent('alice', [await post('alice', 'GENERAL', 'before outage')], 10_000);
    sim.control.refuseConnections(3000);
    sim.control.dropConnections();
    const jobs = [await post('alice', 'GENERAL', 'outage 0'), await post('alice', 'GENERAL', 'outage 1')];
    await allSent('alice', jobs, 40_000);
    expect(texts('GENERAL', 'outage ')).toEqual(['outage 0', 'outage 1']);
  });
});
