/**
 * Webhook delivery end to end against a real HTTP receiver that verifies signatures with the
 * `standardwebhooks` package (`Webhook.verify`): delivery of the exact logged bytes, retries
 * after 500s and after a timeout, `Retry-After`, 410, disabling after failures (announced by a
 * `webhook.disabled` event in the owner's log), dead letters and replay, secret rotation.
 */
import type { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LiveEvent } from '../../src/events/live-hub.js';
import { compareStreamIds } from '../../src/events/stream-id.js';
import { createWebhookQueue, type WebhookJobData } from '../../src/webhooks/webhook-queue.js';
import { waitFor } from '../helpers/wait-for.js';
import { createWebhookFixture, newUserId, type WebhookFixture } from '../helpers/webhook-fixture.js';
import {
  isSignedWith,
  type ReceivedHook,
  type Reply,
  startWebhookReceiver,
  verifyHook,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

const TIMEOUT_MS = 300;
let fx: WebhookFixture;
let queue: Queue<WebhookJobData>;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: {
      WEBHOOK_RETRY_SCHEDULE_MS: '50,50',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_DISABLE_AFTER_FAILURES: '2',
      WEBHOOK_SECRET_GRACE_MS: '3600000',
    },
  });
  queue = createWebhookQueue(fx.redis, fx.config.redis.queuePrefix);
  await fx.startWorker();
});

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

afterAll(async () => {
  await queue.close();
  await fx.close();
});

async function receiver(respond?: (hook: ReceivedHook, index: number) => Reply): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(respond);
  receivers.push(started);
  return started;
}

/** A user with a valid credential and one webhook; returns the user, webhook id and secret. */
async function register(
  url: string,
  body: Record<string, unknown> = { topics: ['user'] },
): Promise<{ userId: string; id: string; secret: string }> {
  const userId = newUserId();
  await fx.saveCredential(userId);
  const res = await fx.api('POST', '/v1/webhooks', userId, { url, ...body });
  expect(res.status).toBe(201);
  return { userId, id: res.body.id, secret: res.body.secret };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
async function attempts(userId: string, id: string, count: number): Promise<any[]> {
  return waitFor(
    async () => {
      const res = await fx.api('GET', `/v1/webhooks/${id}/deliveries`, userId);
      return res.body.deliveries.length >= count ? res.body.deliveries : undefined;
    },
    10_000,
    `${count} recorded attempts`,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
async function webhook(userId: string, id: string): Promise<any> {
  return (await fx.api('GET', `/v1/webhooks/${id}`, userId)).body;
}

async function jobState(jobId: string): Promise<string> {
  const job = await queue.getJob(jobId);
  return job ? job.getState() : 'missing';
}

describe('delivery', () => {
  it('POSTs the exact logged envelope with Standard Webhooks headers that Webhook.verify accepts', async () => {
    const rx = await receiver();
    const { userId, id, secret } = await register(rx.url);
    const event = await fx.logEvent(userId, { text: 'héllo "wörld"', n: 1 });

    const hit = await waitFor(() => rx.hits[0], 10_000, 'the delivery');
    expect(hit.body).toBe(event.json);
    expect(hit.webhookId).toBe(event.id);
    expect(hit.headers['content-type']).toBe('application/json');
    expect(Math.abs(Number(hit.timestamp) - Date.now() / 1000)).toBeLessThan(30);
    expect(hit.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyHook(hit, secret)).toEqual(JSON.parse(event.json));

    const [attempt] = await attempts(userId, id, 1);
    expect(attempt).toMatchObject({
      eventId: event.id,
      eventType: 'notification',
      attempt: 1,
      statusCode: 204,
      outcome: 'success',
      error: null,
      nextAttemptAt: null,
    });
    expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(attempt.at)).toBeGreaterThan(0);
  });

  it('sends only what matches the topics and event types, nothing logged before registration', async () => {
    const rx = await receiver();
    const userId = newUserId();
    const before = await fx.logEvent(userId, { _id: 'a' }, 'message.created', 'GENERAL');
    await fx.saveCredential(userId);
    const res = await fx.api('POST', '/v1/webhooks', userId, {
      url: rx.url,
      topics: 'room:GENERAL',
      events: ['message.created'],
    });
    expect(res.status).toBe(201);
    await fx.logEvent(userId, { not: 'matching' }); // notification: topic `user`
    await fx.logEvent(userId, { _id: 'x' }, 'message.created', 'OTHER');
    await fx.logEvent(userId, { _id: 'y' }, 'message.deleted', 'GENERAL'); // filtered out by type
    const wanted = await fx.logEvent(userId, { _id: 'z' }, 'message.created', 'GENERAL');
    const last = await fx.logEvent(userId, { _id: 'w' }, 'message.created', 'GENERAL');
    await waitFor(() => rx.delivered().get(last.id));
    expect(rx.hits.map((h) => h.webhookId).sort(compareStreamIds)).toEqual([wanted.id, last.id]);
    expect(rx.hits.map((h) => h.webhookId)).not.toContain(before.id);
  });

  it('sends a webhook.test event to that endpoint only', async () => {
    const rx = await receiver();
    const { userId, id, secret } = await register(rx.url, { topics: ['room:GENERAL'] });
    const res = await fx.api('POST', `/v1/webhooks/${id}/test`, userId);
    expect(res.status).toBe(202);
    const hit = await waitFor(() => rx.hits[0]);
    expect(hit.webhookId).toBe(res.body.eventId);
    expect(verifyHook(hit, secret)).toMatchObject({
      id: res.body.eventId,
      type: 'webhook.test',
      userId,
      data: { webhookId: id },
    });
  });
});

describe('retries', () => {
  it('retries after 500s with the same webhook-id until a 2xx', async () => {
    const rx = await receiver((_hook, i) => ({ status: i < 2 ? 500 : 200 }));
    const { userId, id, secret } = await register(rx.url);
    const event = await fx.logEvent(userId);

    await waitFor(() => rx.delivered().get(event.id), 10_000, 'the third attempt');
    expect(rx.hits.map((h) => h.webhookId)).toEqual([event.id, event.id, event.id]);
    for (const hit of rx.hits) expect(isSignedWith(hit, secret)).toBe(true);
    const list = await attempts(userId, id, 3);
    expect(list.map((a) => [a.attempt, a.statusCode, a.outcome])).toEqual([
      [3, 200, 'success'],
      [2, 500, 'http_error'],
      [1, 500, 'http_error'],
    ]);
    expect(list[1].error).toBe('HTTP 500');
    expect(Date.parse(list[1].nextAttemptAt)).toBeGreaterThan(Date.parse(list[1].at));
  });

  it('retries after a timeout', async () => {
    const rx = await receiver((_hook, i) => (i === 0 ? 'hang' : { status: 204 }));
    const { userId, id } = await register(rx.url);
    const event = await fx.logEvent(userId);

    await waitFor(() => rx.delivered().get(event.id), 10_000, 'the retry');
    const list = await attempts(userId, id, 2);
    expect(list[1]).toMatchObject({ attempt: 1, outcome: 'timeout', statusCode: null });
    expect(list[1].durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(list[0]).toMatchObject({ attempt: 2, outcome: 'success', statusCode: 204 });
  });

  it.each([429, 503])('honours Retry-After on %i', async (status) => {
    const rx = await receiver((_hook, i) =>
      i === 0 ? { status, headers: { 'retry-after': '1' } } : { status: 204 },
    );
    const { userId } = await register(rx.url);
    const event = await fx.logEvent(userId);

    await waitFor(() => rx.delivered().get(event.id), 10_000, 'the retry');
    // The schedule alone would retry after ~50 ms.
    expect(rx.hits[1]!.atMs - rx.hits[0]!.atMs).toBeGreaterThanOrEqual(950);
  });

  it('ignores Retry-After on other statuses', async () => {
    const rx = await receiver((_hook, i) =>
      i === 0 ? { status: 500, headers: { 'retry-after': '30' } } : { status: 204 },
    );
    const { userId } = await register(rx.url);
    const event = await fx.logEvent(userId);
    await waitFor(() => rx.delivered().get(event.id), 10_000, 'the retry');
    expect(rx.hits[1]!.atMs - rx.hits[0]!.atMs).toBeLessThan(10_000);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const target = await receiver();
    const rx = await receiver((_hook, i) =>
      i === 0 ? { status: 302, headers: { location: target.url } } : { status: 204 },
    );
    const { userId, id } = await register(rx.url);
    const event = await fx.logEvent(userId);
    await waitFor(() => rx.delivered().get(event.id), 10_000, 'the retry');
    expect(target.hits).toHaveLength(0);
    expect((await attempts(userId, id, 2))[1]).toMatchObject({ statusCode: 302, outcome: 'http_error' });
  });
});

describe('disabling', () => {
  it('disables the endpoint at once on 410, tells the owner, and keeps the event as a dead letter', async () => {
    const rx = await receiver(() => ({ status: 410 }));
    const { userId, id, secret } = await register(rx.url);
    const heard: LiveEvent[] = [];
    const unlisten = await fx.liveHub.listen(userId, (event) => heard.push(event));
    const event = await fx.logEvent(userId);

    const disabled = await waitFor(async () => {
      const w = await webhook(userId, id);
      return w.enabled === false ? w : undefined;
    });
    expect(disabled).toMatchObject({ disabledReason: 'gone', consecutiveFailures: 1 });
    expect(rx.hits).toHaveLength(1);
    // BullMQ marks the job failed once the processor returns, just after the record changed.
    await waitFor(async () => (await jobState(`${id}.${event.id}`)) === 'failed', 10_000, 'the job failed');

    // The owner hears it on the live channel SSE streams listen on, and it is in the log.
    const notice = await waitFor(() => heard.find((e) => e.type === 'webhook.disabled'));
    unlisten();
    expect(JSON.parse(notice.json).data).toMatchObject({
      webhookId: id,
      reason: 'gone',
      consecutiveFailures: 1,
    });
    const logged = await fx.eventLog.readAfter(userId, event.id, 10);
    expect(logged.events.map((e) => e.type)).toContain('webhook.disabled');

    // Re-enabled and replayed, the dead letter is delivered.
    rx.respond = () => ({ status: 204 });
    expect((await fx.api('PATCH', `/v1/webhooks/${id}`, userId, { enabled: true })).body).toMatchObject({
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
    });
    // The event, and the notice itself (the endpoint is on `user`): replay tells it what happened.
    const replay = await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, { since: 0 });
    expect(replay).toMatchObject({ status: 202, body: { enqueued: 2 } });
    const hit = await waitFor(() => rx.delivered().get(event.id), 10_000, 'the replayed delivery');
    expect(hit.body).toBe(event.json);
    expect(isSignedWith(hit, secret)).toBe(true);
    const replayedNotice = await waitFor(() => rx.delivered().get(notice.id), 10_000, 'the replayed notice');
    expect(replayedNotice.body).toBe(notice.json);
  });

  it('disables after consecutive exhausted deliveries; replay sends what failed and what came while disabled', async () => {
    const rx = await receiver(() => ({ status: 500 }));
    const { userId, id, secret } = await register(rx.url);
    const first = await fx.logEvent(userId, { n: 1 });
    await waitFor(async () => (await webhook(userId, id)).consecutiveFailures === 1, 10_000, 'one exhausted');
    const second = await fx.logEvent(userId, { n: 2 });

    const disabled = await waitFor(async () => {
      const w = await webhook(userId, id);
      return w.enabled === false ? w : undefined;
    });
    expect(disabled).toMatchObject({ disabledReason: 'failures', consecutiveFailures: 2 });
    // 3 attempts (schedule 50,50) for each of the two events.
    expect(rx.hits).toHaveLength(6);
    const notices = (await fx.eventLog.readAfter(userId, first.id, 100)).events.filter(
      (e) => e.type === 'webhook.disabled',
    );
    expect(notices).toHaveLength(1);
    expect(JSON.parse(notices[0]!.json).data).toMatchObject({ webhookId: id, reason: 'failures' });

    // While disabled, new matching events are kept for replay, not sent.
    const third = await fx.logEvent(userId, { n: 3 });
    await waitFor(
      async () => (await fx.redis.zscore(fx.keys.user(userId).webhookDeadLetters(id), third.id)) !== null,
    );
    expect(rx.hits).toHaveLength(6);
    expect((await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, { since: 0 })).status).toBe(409);

    rx.respond = () => ({ status: 204 });
    expect((await fx.api('PATCH', `/v1/webhooks/${id}`, userId, { enabled: true })).status).toBe(200);
    const future = await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, {
      since: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(future.body).toEqual({ enqueued: 0 });
    // The three events and the endpoint's own `webhook.disabled` notice.
    const replay = await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, {
      since: new Date(0).toISOString(),
    });
    expect(replay.body).toEqual({ enqueued: 4 });

    const replayed = [first, second, third, notices[0]!];
    await waitFor(() => replayed.every((e) => rx.delivered().has(e.id)), 10_000, 'replayed deliveries');
    for (const e of replayed) {
      const hit = rx.delivered().get(e.id)!;
      expect(hit.body).toBe(e.json);
      expect(isSignedWith(hit, secret)).toBe(true);
    }
    // The dead letters are gone: a second replay sends nothing.
    expect((await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, { since: 0 })).body).toEqual({
      enqueued: 0,
    });
  });

  it('a 2xx resets the consecutive failure count', async () => {
    const rx = await receiver(() => ({ status: 500 }));
    const { userId, id } = await register(rx.url);
    await fx.logEvent(userId);
    await waitFor(async () => (await webhook(userId, id)).consecutiveFailures === 1, 10_000, 'one exhausted');
    rx.respond = () => ({ status: 200 });
    const ok = await fx.logEvent(userId);
    await waitFor(() => rx.delivered().get(ok.id));
    await waitFor(async () => (await webhook(userId, id)).consecutiveFailures === 0, 10_000, 'reset');
    expect((await webhook(userId, id)).enabled).toBe(true);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets during the grace period, then with the new one only', async () => {
    const rx = await receiver();
    const { userId, id, secret: oldSecret } = await register(rx.url);
    const before = await fx.logEvent(userId);
    await waitFor(() => rx.delivered().get(before.id));

    const rotated = await fx.api('POST', `/v1/webhooks/${id}/rotate-secret`, userId);
    expect(rotated.status).toBe(200);
    const newSecret: string = rotated.body.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(Date.parse(rotated.body.previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 3_000_000);

    const during = await fx.logEvent(userId);
    const hit = await waitFor(() => rx.delivered().get(during.id));
    expect(hit.signature.split(' ')).toHaveLength(2);
    expect(isSignedWith(hit, newSecret)).toBe(true);
    expect(isSignedWith(hit, oldSecret)).toBe(true);
    expect(isSignedWith(rx.delivered().get(before.id)!, newSecret)).toBe(false);

    // Grace over (moved into the past rather than waited for).
    await fx.redis.hset(fx.keys.user(userId).webhook(id), 'prevSecretUntilMs', String(Date.now() - 1));
    const after = await fx.logEvent(userId);
    const late = await waitFor(() => rx.delivered().get(after.id));
    expect(late.signature.split(' ')).toHaveLength(1);
    expect(isSignedWith(late, newSecret)).toBe(true);
    expect(isSignedWith(late, oldSecret)).toBe(false);
  });
});
