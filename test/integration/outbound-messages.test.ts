/**
 * `/v1/messages` end to end against the simulator: a real worker side (session pool, call
 * router, BullMQ worker) and the real Express app, private Redis under this file's own prefix.
 * Idempotency (sequential and concurrent), permanent errors failing at once, edits, deletions
 * and reactions, and a connection lost while a send is in flight.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import type { GatewayEvent } from '../../src/events/types.js';
import type { OutboundJobView } from '../../src/outbound/index.js';
import { type OutboundHarness, startOutboundHarness } from '../helpers/outbound-harness.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let h: OutboundHarness;
let aliceId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice', 'bob'],
    workerOptions: { unknownOutcomeWaitMs: 3000 },
  });
  aliceId = h.userIds.alice!;
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

function post(body: object, key?: string, user = 'alice'): request.Test {
  const req = request(h.app).post('/v1/messages').set('x-test-user', user).send(body);
  return key ? req.set('idempotency-key', key) : req;
}

async function status(id: string, user = 'alice'): Promise<OutboundJobView> {
  const res = await request(h.app).get(`/v1/messages/${id}`).set('x-test-user', user);
  expect(res.status).toBe(200);
  return res.body as OutboundJobView;
}

function final(id: string, timeoutMs = 15_000): Promise<OutboundJobView> {
  return waitFor(
    async () => {
      const view = await status(id);
      return view.status === 'queued' ? undefined : view;
    },
    timeoutMs,
    `job ${id} to finish`,
  );
}

async function events(userId: string): Promise<GatewayEvent[]> {
  const page = await h.core.eventLog.readAfter(userId, undefined, 10_000);
  return page.events.map((e) => JSON.parse(e.json) as GatewayEvent);
}

function stored(rid: string, text: string): { _id: string; msg: string }[] {
  return sim.control.roomMessages(rid).filter((m) => m.msg === text);
}

describe('POST /v1/messages', () => {
  it('queues, sends with the fixed message id, and reports the outcome as status and event', async () => {
    const res = await post({ roomId: 'GENERAL', text: 'hello from the queue' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^out_/),
      messageId: expect.any(String),
      status: 'queued',
    });
    expect(res.body.messageId).toMatch(/^[23456789A-HJ-NP-Za-km-z]{17}$/);
    expect(res.headers.location).toBe(`/v1/messages/${res.body.id}`);

    expect(await final(res.body.id)).toEqual({
      id: res.body.id,
      messageId: res.body.messageId,
      status: 'sent',
    });
    expect(stored('GENERAL', 'hello from the queue').map((m) => m._id)).toEqual([res.body.messageId]);
    const sent = await waitFor(async () =>
      (await events(aliceId)).find(
        (e) => e.type === 'outbound.sent' && (e.data as { id?: string }).id === res.body.id,
      ),
    );
    expect(sent.roomId).toBe('GENERAL');
    expect(sent.data).toMatchObject({ messageId: res.body.messageId, kind: 'send', status: 'sent' });
  });

  it('returns the same job for the same Idempotency-Key and never sends twice', async () => {
    const first = await post({ roomId: 'GENERAL', text: 'idempotent once' }, 'key-seq-1');
    const second = await post({ roomId: 'GENERAL', text: 'idempotent once' }, 'key-seq-1');
    expect(second.status).toBe(202);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.messageId).toBe(first.body.messageId);
    await final(first.body.id);
    // Again after it was sent: still the same job, now reported as sent.
    const third = await post({ roomId: 'GENERAL', text: 'idempotent once' }, 'key-seq-1');
    expect(third.body).toEqual({ id: first.body.id, messageId: first.body.messageId, status: 'sent' });
    expect(stored('GENERAL', 'idempotent once')).toHaveLength(1);
  });

  it('sends once when the same key arrives concurrently', async () => {
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        post({ roomId: 'GENERAL', text: 'concurrent once' }, 'key-concurrent-1'),
      ),
    );
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([202]));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(responses.map((r) => r.body.messageId)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    await final(responses[0]!.body.id);
    expect(stored('GENERAL', 'concurrent once')).toHaveLength(1);
  });

  it('keys are per user, and a key reused with another body is a conflict', async () => {
    const alice = await post({ roomId: 'GENERAL', text: 'per-user key' }, 'shared-key');
    const bob = await post({ roomId: 'GENERAL', text: 'per-user key' }, 'shared-key', 'bob');
    expect(bob.body.id).not.toBe(alice.body.id);
    const conflict = await post({ roomId: 'GENERAL', text: 'another body' }, 'shared-key');
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('GW_ERR_CONFLICT');
    await Promise.all([
      final(alice.body.id),
      waitFor(async () => (await status(bob.body.id, 'bob')).status === 'sent'),
    ]);
    expect(stored('GENERAL', 'per-user key')).toHaveLength(2);
  });

  it('validates the request before queueing anything', async () => {
    const cases: [object, string][] = [
      [{ text: 'no room' }, 'roomId'],
      [{ roomId: 'GENERAL', text: '   ' }, 'text'],
      [{ roomId: 'GENERAL', text: 'x'.repeat(5001) }, 'text'],
      [{ roomId: 'GEN{ERAL}', text: 'x' }, 'roomId'],
      [{ roomId: 'GENERAL', text: 'x', extra: 1 }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('GW_ERR_VALIDATION');
      expect(JSON.stringify(res.body.details)).toContain(field);
    }
    const badKey = await post({ roomId: 'GENERAL', text: 'x' }, 'has space');
    expect(badKey.status).toBe(400);
    const anonymous = await request(h.app).post('/v1/messages').send({ roomId: 'GENERAL', text: 'x' });
    expect(anonymous.status).toBe(401);
  });

  it('GET /v1/messages/:id is 404 for unknown jobs and for other users’ jobs', async () => {
    const res = await post({ roomId: 'GENERAL', text: 'private status' });
    const other = await request(h.app).get(`/v1/messages/${res.body.id}`).set('x-test-user', 'bob');
    expect(other.status).toBe(404);
    const unknown = await request(h.app).get('/v1/messages/out_nope').set('x-test-user', 'alice');
    expect(unknown.status).toBe(404);
    // Ids the queue never gives out are refused before any Redis key is built from them.
    for (const hostile of [`out_${'x'.repeat(5000)}`, 'out_%7B%7D%0A', 'out_a:b', 'out_']) {
      for (const [method, path] of [
        ['get', `/v1/messages/${hostile}`],
        ['delete', `/v1/messages/${hostile}`],
      ] as const) {
        const answer = await request(h.app)[method](path).set('x-test-user', 'alice');
        expect(answer.status, `${method} ${hostile.slice(0, 20)}`).toBe(404);
        expect(answer.body.error).toBe('GW_ERR_NOT_FOUND');
      }
    }
    await final(res.body.id);
  });
});

describe('permanent errors fail at once', () => {
  it('a room that does not exist fails with Rocket.Chat’s code (reported only as an ephemeral message)', async () => {
    const started = Date.now();
    const res = await post({ roomId: 'NoSuchRoom123', text: 'into the void' });
    const view = await final(res.body.id);
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'GW_ERR_NOT_FOUND', upstreamError: 'error-invalid-room' });
    expect(Date.now() - started).toBeLessThan(10_000);
    const failed = await waitFor(async () =>
      (await events(aliceId)).find(
        (e) => e.type === 'outbound.failed' && (e.data as { id?: string }).id === res.body.id,
      ),
    );
    expect(failed.data).toMatchObject({ status: 'failed', error: { code: 'GW_ERR_NOT_FOUND' } });
  });

  it('a room the user may not post to fails with error-not-allowed, without retries', async () => {
    const secret = sim.control.createRoom({ t: 'p', name: 'secret-outbound', members: ['bob'] });
    const res = await post({ roomId: secret._id, text: 'let me in' });
    const view = await final(res.body.id, 10_000);
    expect(view.error).toMatchObject({ code: 'GW_ERR_FORBIDDEN', upstreamError: 'error-not-allowed' });
    const attempts = await h.core.redis.hget(
      h.core.keys.user(h.userIds.alice!).outboundJob(res.body.id),
      'attempts',
    );
    expect(attempts).toBe('1');
    // Final: its BullMQ record (the watchdog's) is gone.
    expect(await h.outbound.queue.getJob(res.body.id)).toBeUndefined();
  });

  it('sends alias and attachments (which DDP sendMessage refuses) through REST with the fixed id', async () => {
    // Rocket.Chat's DDP sendMessage `check()` knows no `alias`/`attachments` ("Match failed"), so
    // such sends go through REST chat.sendMessage, which keeps the client `_id`.
    const res = await post({
      roomId: 'GENERAL',
      text: 'with alias',
      alias: 'Bot',
      attachments: [{ text: 'att' }],
    });
    const view = await final(res.body.id, 10_000);
    expect(view.status).toBe('sent');
    const stored = sim.control.roomMessages('GENERAL').find((m) => m._id === res.body.messageId) as
      | Record<string, unknown>
      | undefined;
    expect(stored).toMatchObject({ msg: 'with alias', alias: 'Bot' });
  });
});

describe('edits, deletions and reactions', () => {
  it('edits by job id and by message id, reacts, then deletes, in order', async () => {
    const sent = await post({ roomId: 'GENERAL', text: 'to be edited' });
    // Queued right behind the send, on the same lane: none may overtake it.
    const edit = await request(h.app)
      .patch(`/v1/messages/${sent.body.id}`)
      .set('x-test-user', 'alice')
      .send({ text: 'edited once' });
    expect(edit.status).toBe(202);
    expect(edit.body.messageId).toBe(sent.body.messageId);
    await final(edit.body.id);
    const message = () => sim.control.roomMessages('GENERAL').find((m) => m._id === sent.body.messageId);
    expect(message()?.msg).toBe('edited once');

    const byMessageId = await request(h.app)
      .patch(`/v1/messages/${sent.body.messageId}`)
      .set('x-test-user', 'alice')
      .send({ text: 'edited twice' });
    const react = await request(h.app)
      .post(`/v1/messages/${sent.body.messageId}/reactions`)
      .set('x-test-user', 'alice')
      .send({ emoji: 'thumbsup' });
    expect(react.status).toBe(202);
    await final(byMessageId.body.id);
    expect((await final(react.body.id)).status).toBe('sent');
    expect(message()?.msg).toBe('edited twice');
    expect(message()?.reactions?.[':thumbsup:']?.usernames).toEqual(['alice']);

    const del = await request(h.app).delete(`/v1/messages/${sent.body.id}`).set('x-test-user', 'alice');
    expect(del.status).toBe(202);
    expect((await final(del.body.id)).status).toBe('sent');
    expect(message()).toBeUndefined();
  });

  it('edits a message the gateway did not send, found by its Rocket.Chat id', async () => {
    const posted = sim.control.postMessage('alice', 'GENERAL', 'posted elsewhere');
    const edit = await request(h.app)
      .patch(`/v1/messages/${posted._id}`)
      .set('x-test-user', 'alice')
      .send({ text: 'edited through the gateway' });
    expect(edit.status).toBe(202);
    expect((await final(edit.body.id)).status).toBe('sent');
    expect(sim.control.roomMessages('GENERAL').find((m) => m._id === posted._id)?.msg).toBe(
      'edited through the gateway',
    );
  });

  it('an edit of someone else’s message fails as forbidden; an unknown target is 404', async () => {
    const bobs = sim.control.postMessage('bob', 'GENERAL', 'bob wrote this');
    const edit = await request(h.app)
      .patch(`/v1/messages/${bobs._id}`)
      .set('x-test-user', 'alice')
      .send({ text: 'alice rewrites it' });
    expect((await final(edit.body.id)).error).toMatchObject({
      code: 'GW_ERR_FORBIDDEN',
      upstreamError: 'error-action-not-allowed',
    });
    const missing = await request(h.app)
      .patch('/v1/messages/NoSuchMessage1234')
      .set('x-test-user', 'alice')
      .send({ text: 'x' });
    expect(missing.status).toBe(404);
  });
});

describe('unknown outcomes', () => {
  it('a connection lost after the send reached Rocket.Chat is settled by lookup: one message', async () => {
    // Warm the session so the send goes straight out.
    await final((await post({ roomId: 'GENERAL', text: 'warm-up before drop' })).body.id);
    sim.control.setFrameDelay(1500);
    try {
      const res = await post({ roomId: 'GENERAL', text: 'sent, then the line dropped' });
      await waitFor(
        () => stored('GENERAL', 'sent, then the line dropped').length > 0,
        10_000,
        'the message stored',
      );
      sim.control.dropConnections('alice');
      sim.control.setFrameDelay(0);
      const view = await final(res.body.id, 30_000);
      expect(view.status).toBe('sent');
    } finally {
      sim.control.setFrameDelay(0);
    }
    expect(stored('GENERAL', 'sent, then the line dropped')).toHaveLength(1);
  });
});
