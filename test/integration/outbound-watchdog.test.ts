/**
 * The outbound watchdog: a job still pending when its delayed BullMQ record comes due. A notice
 * that never reached the session's holder is made up for (the holder is told to read its
 * outbox), and a job whose user has no credentials any more is failed, with its event.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import type { GatewayEvent } from '../../src/events/types.js';
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
    users: ['alice', 'bob'],
    watchdogMs: 1000,
  });
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

async function post(user: string, text: string): Promise<OutboundJobView> {
  const res = await request(h.app)
    .post('/v1/messages')
    .set('x-test-user', user)
    .send({ roomId: 'GENERAL', text });
  expect(res.status).toBe(202);
  return res.body as OutboundJobView;
}

async function settled(user: string, id: string, timeoutMs: number): Promise<OutboundJobView> {
  return waitFor(
    async () => {
      const view = (await request(h.app).get(`/v1/messages/${id}`).set('x-test-user', user))
        .body as OutboundJobView;
      return view.status === 'queued' ? undefined : view;
    },
    timeoutMs,
    `job ${id} to be settled`,
  );
}

describe('the outbound watchdog', () => {
  it('makes up for a notice the holder never heard', { timeout: 60_000 }, async () => {
    // The session is held here and live.
    expect((await settled('alice', (await post('alice', 'warm up')).id, 15_000)).status).toBe('sent');
    const outbox = h.worker!.outbox;
    let dropped = 0;
    // The next notice with a job is lost on its way; the watchdog's own notices get through.
    h.core.calls.setOutboundListener((notice) => {
      if (notice.job && dropped === 0) {
        dropped++;
        return;
      }
      outbox.hear(notice);
    });
    try {
      const started = Date.now();
      const job = await post('alice', 'notice lost');
      expect((await settled('alice', job.id, 30_000)).status).toBe('sent');
      expect(dropped).toBe(1);
      // Not before the watchdog looked (1 s here), and then promptly.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(sim.control.roomMessages('GENERAL').filter((m) => m.msg === 'notice lost')).toHaveLength(1);
    } finally {
      outbox.attach(h.core.calls);
    }
  });

  it('fails a job whose user has no credentials any more, with its event', { timeout: 60_000 }, async () => {
    const bobId = h.userIds.bob!;
    // Rocket.Chat takes its time, the credentials go meanwhile: the job can never be sent.
    sim.control.slowMethod('sendMessage', 3000);
    try {
      await post('bob', 'warm up bob');
      const job = await post('bob', 'never sent');
      await h.core.credentials.remove(bobId);
      const view = await settled('bob', job.id, 30_000);
      expect(view.status).toBe('failed');
      expect(view.error?.code).toMatch(/GW_ERR_NO_CREDENTIALS|GW_ERR_CREDENTIALS_INVALID/);
      const events = (await h.core.eventLog.readAfter(bobId, undefined, 1000)).events.map(
        (e) => JSON.parse(e.json) as GatewayEvent,
      );
      const failed = events.filter(
        (e) => e.type === 'outbound.failed' && (e.data as { id?: string }).id === job.id,
      );
      expect(failed).toHaveLength(1);
    } finally {
      sim.control.slowMethod('sendMessage', 0);
    }
  });
});
