/**
 * Webhook behaviour over time and across workers: the per-endpoint concurrency limit (a slow
 * receiver cannot starve others), deliveries pausing while the owner's credential is invalid and
 * resuming with new credentials without burning retries, re-dispatch being idempotent, and the
 * dispatch of a user moving to another worker when its owner stops.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppendedEvent } from '../../src/events/event-log.js';
import { compareStreamIds } from '../../src/events/stream-id.js';
import type { WebhookWorker } from '../../src/webhooks/index.js';
import { createWebhookQueue } from '../../src/webhooks/webhook-queue.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createWebhookFixture,
  FAST_WORKER,
  newUserId,
  recordedAttempts,
  type WebhookFixture,
} from '../helpers/webhook-fixture.js';
import { type Responder, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

let fx: WebhookFixture;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: {
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2',
      WEBHOOK_TIMEOUT_MS: '10000',
      WEBHOOK_RETRY_SCHEDULE_MS: '50,50',
    },
  });
});

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

afterAll(async () => {
  await fx.close();
});

async function receiver(respond?: Responder): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(respond);
  receivers.push(started);
  return started;
}

async function register(userId: string, url: string): Promise<string> {
  const res = await fx.api('POST', '/v1/webhooks', userId, { url, topics: 'user' });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('with one worker', () => {
  let worker: WebhookWorker;
  beforeAll(async () => {
    worker = await fx.startWorker({ ...FAST_WORKER, concurrency: 8 });
  });
  afterAll(async () => {
    await worker.close();
  });

  it('holds each endpoint to its concurrency limit while other endpoints keep flowing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await receiver(async () => {
      await gate;
      return { status: 204 };
    });
    const fast = await receiver();
    const slowUser = newUserId();
    const fastUser = newUserId();
    await fx.saveCredential(slowUser);
    await fx.saveCredential(fastUser);
    await register(slowUser, slow.url);
    await register(fastUser, fast.url);

    const slowEvents: AppendedEvent[] = [];
    for (let i = 0; i < 6; i++) slowEvents.push(await fx.logEvent(slowUser));
    await waitFor(() => slow.inFlight === 2, 10_000, 'two requests held by the slow receiver');

    // The slow endpoint holds 2 of the worker's 8 slots; the rest keep serving others.
    const fastEvents: AppendedEvent[] = [];
    for (let i = 0; i < 10; i++) fastEvents.push(await fx.logEvent(fastUser));
    await waitFor(() => fastEvents.every((e) => fast.delivered().has(e.id)), 10_000, 'the fast endpoint');
    expect(slow.inFlight).toBe(2);
    expect(slow.hits).toHaveLength(2);

    release();
    await waitFor(() => slowEvents.every((e) => slow.delivered().has(e.id)), 15_000, 'the slow endpoint');
    expect(slow.maxInFlight).toBe(2);
    expect(slow.hits).toHaveLength(6);
  });

  it('pauses deliveries while the credential is invalid and resumes without burning retries', async () => {
    const rx = await receiver();
    const userId = newUserId();
    await fx.saveCredential(userId);
    const id = await register(userId, rx.url);
    await fx.credentials.markInvalid(userId, 'token revoked');

    const events = [await fx.logEvent(userId), await fx.logEvent(userId)];
    const parked = fx.keys.user(userId).webhookPausedJobs;
    await waitFor(async () => (await fx.redis.scard(parked)) === 2, 10_000, 'both deliveries parked');
    expect(rx.hits).toHaveLength(0);
    expect(await fx.service.deliveries(userId, id, 10)).toEqual([]);
    expect(await fx.redis.sismember(fx.keys.webhookPausedUsers, userId)).toBe(1);

    // New credentials arrive (POST /v1/sessions stores them): the parked deliveries go out.
    await fx.saveCredential(userId);
    await waitFor(() => events.every((e) => rx.delivered().has(e.id)), 10_000, 'resumed deliveries');
    // The receiver has answered; the attempt is recorded right after the response arrives.
    const attempts = await recordedAttempts(fx, userId, id, 2);
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'success'],
      [1, 'success'],
    ]);
    await waitFor(async () => (await fx.redis.sismember(fx.keys.webhookPausedUsers, userId)) === 0);
    expect(await fx.redis.scard(parked)).toBe(0);
  });

  it('re-dispatching events already enqueued adds no job and sends nothing twice', async () => {
    const rx = await receiver();
    const userId = newUserId();
    await fx.saveCredential(userId);
    const id = await register(userId, rx.url);
    const events = [await fx.logEvent(userId), await fx.logEvent(userId), await fx.logEvent(userId)];
    await waitFor(() => events.every((e) => rx.delivered().has(e.id)), 10_000, 'first deliveries');

    // As after a crash between enqueue and cursor update: the cursor is behind, and the next
    // owner (here the same worker, once it sees its lease gone) starts from it.
    const cursorKey = fx.keys.user(userId).webhookCursor;
    const lastId = events[2]!.id;
    expect(await fx.redis.get(cursorKey)).toBe(lastId);
    await fx.redis.set(cursorKey, '0-0');
    await fx.redis.del(fx.keys.user(userId).webhookDispatchLease);
    const queue = createWebhookQueue(fx.redis, fx.config.redis.queuePrefix);
    try {
      await waitFor(async () => (await fx.redis.get(cursorKey)) === lastId, 10_000, 'the re-dispatch');
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
      for (const e of events)
        expect(await (await queue.getJob(`${id}.${e.id}`))?.getState()).toBe('completed');
    } finally {
      await queue.close();
    }
    expect(rx.hits).toHaveLength(3);
  });
});

describe('with two workers', () => {
  it('moves a user’s dispatch to the other worker when its owner stops, skipping nothing', async () => {
    const rx = await receiver();
    const userId = newUserId();
    await fx.saveCredential(userId);
    await register(userId, rx.url);
    const a = await fx.startWorker({ ...FAST_WORKER, concurrency: 2 });
    const b = await fx.startWorker({ ...FAST_WORKER, concurrency: 2 });
    const owner = await waitFor(() => [a, b].find((w) => w.dispatcher?.ownedUsers.includes(userId)));
    const other = owner === a ? b : a;

    const events: AppendedEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(await fx.logEvent(userId));
    await owner.close();
    for (let i = 0; i < 5; i++) events.push(await fx.logEvent(userId));
    await waitFor(() => other.dispatcher?.ownedUsers.includes(userId), 10_000, 'the take-over');
    await waitFor(() => events.every((e) => rx.delivered().has(e.id)), 10_000, 'every event');
    expect([...rx.delivered().keys()].sort(compareStreamIds)).toEqual(events.map((e) => e.id));
  });
});
