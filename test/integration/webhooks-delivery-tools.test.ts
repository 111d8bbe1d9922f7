/**
 * Deliveries one can work with, through the public HTTP API against a real Redis and a real
 * receiver: cursor pages of webhooks and attempts (stable while new attempts arrive), attempt
 * filters (status, event type, time range), per-endpoint statistics (success rate, last
 * success, last error, backlog), resending one event, and custom request headers (sent, never
 * shown, sealed at rest, and refused when hostile).
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { createWebhookFixture, newUserId, type WebhookFixture } from '../helpers/webhook-fixture.js';
import {
  type ReceivedHook,
  type Reply,
  startWebhookReceiver,
  verifyHook,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

let fx: WebhookFixture;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_RETRY_SCHEDULE_MS: '30', WEBHOOK_DISABLE_AFTER_FAILURES: '0' },
  });
  await fx.startWorker();
});

afterEach(async () => {
  for (const receiver of receivers.splice(0)) await receiver.close();
});

afterAll(async () => {
  await fx.close();
});

async function receiver(respond?: (hook: ReceivedHook, index: number) => Reply): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(respond);
  receivers.push(started);
  return started;
}

async function register(
  url: string,
  body: Record<string, unknown> = { topics: ['user'] },
  userId = newUserId(),
  withCredential = true,
): Promise<{ userId: string; id: string; secret: string }> {
  if (withCredential) await fx.saveCredential(userId);
  const res = await fx.api('POST', '/v1/webhooks', userId, { url, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { userId, id: res.body.id, secret: res.body.secret };
}

/** Every page of a list (`base` has a query), from `cursor` on, following `nextCursor`. */
async function allPages(
  userId: string,
  base: string,
  key: string,
  cursor?: string,
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
): Promise<{ pages: any[][]; items: any[] }> {
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
  const pages: any[][] = [];
  let next: string | null | undefined = cursor;
  do {
    const res = await fx.api('GET', next ? `${base}&cursor=${next}` : base, userId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages.push(res.body[key]);
    next = res.body.nextCursor;
    if (pages.length > 50) throw new Error('endless pages');
  } while (next !== null);
  return { pages, items: pages.flat() };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the API.
async function attemptsOf(userId: string, id: string, count: number): Promise<any[]> {
  return waitFor(
    async () => {
      const res = await fx.api('GET', `/v1/webhooks/${id}/deliveries?limit=100`, userId);
      return res.body.deliveries.length >= count ? res.body.deliveries : undefined;
    },
    15_000,
    `${count} attempts`,
  );
}

describe('cursor pages', () => {
  it('pages through the webhooks, oldest first, each once, and refuses cursors that are not its own', async () => {
    const rx = await receiver();
    const userId = newUserId();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await register(rx.url, { topics: 'user' }, userId)).id);

    const { pages, items } = await allPages(userId, '/v1/webhooks?limit=2', 'webhooks');
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(items.map((w) => w.id)).toEqual(ids);
    const whole = await fx.api('GET', '/v1/webhooks', userId);
    expect(whole.body.nextCursor).toBeNull();
    expect(whole.body.webhooks.map((w: { id: string }) => w.id)).toEqual(ids);

    const deliveriesCursor = Buffer.from(JSON.stringify({ l: 'deliveries', p: [3] })).toString('base64url');
    const wrongShape = Buffer.from(JSON.stringify({ l: 'webhooks', p: ['x', 1] })).toString('base64url');
    for (const cursor of ['garbage!', 'bm9wZQ', deliveriesCursor, wrongShape, 'a'.repeat(600)]) {
      const res = await fx.api('GET', `/v1/webhooks?cursor=${encodeURIComponent(cursor)}`, userId);
      expect(res.status, cursor).toBe(400);
      expect(res.body).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    }
    expect((await fx.api('GET', '/v1/webhooks?limit=101', userId)).status).toBe(400);
  });

  it('pages through attempts newest first without repeats or skips, while new attempts arrive', async () => {
    const rx = await receiver();
    const { userId, id } = await register(rx.url);
    for (let i = 0; i < 5; i++) await fx.logEvent(userId);
    // Attempts are listed in the order they finished (concurrent deliveries may swap events).
    const key = (a: { eventId: string; at: string; attempt: number }) => `${a.eventId}@${a.at}#${a.attempt}`;
    const five = (await attemptsOf(userId, id, 5)).map(key);

    const page1 = await fx.api('GET', `/v1/webhooks/${id}/deliveries?limit=2`, userId);
    expect(page1.body.deliveries.map(key)).toEqual(five.slice(0, 2));
    // More attempts land before the next page is read: the cursor still continues after page 1.
    for (let i = 0; i < 3; i++) await fx.logEvent(userId);
    expect((await attemptsOf(userId, id, 8)).map(key).slice(3)).toEqual(five);
    const rest = await allPages(
      userId,
      `/v1/webhooks/${id}/deliveries?limit=2`,
      'deliveries',
      page1.body.nextCursor,
    );
    expect(rest.items.map(key)).toEqual(five.slice(2));
    expect(rest.pages.at(-1)).toHaveLength(1);
  });
});

describe('attempt filters', () => {
  it('filters by status, event type and time range', async () => {
    // Fails `message.created` events once each (then they succeed on the retry).
    const failedOnce = new Set<string>();
    const rx = await receiver((hook) => {
      if (JSON.parse(hook.body).type === 'message.created' && !failedOnce.has(hook.webhookId)) {
        failedOnce.add(hook.webhookId);
        return { status: 500 };
      }
      return { status: 204 };
    });
    const { userId, id } = await register(rx.url, { topics: ['user', 'room:GENERAL'] });
    const note = await fx.logEvent(userId);
    const message = await fx.logEvent(userId, { _id: 'm1' }, 'message.created', 'GENERAL');
    await attemptsOf(userId, id, 3);
    const later = Date.now();
    // `until` is inclusive: the next attempt must start in a later millisecond than `later`.
    await waitFor(() => Date.now() > later, 5000, 'the clock to move on');
    const note2 = await fx.logEvent(userId);
    const all = await attemptsOf(userId, id, 4);

    const list = async (query: string) => {
      const res = await fx.api('GET', `/v1/webhooks/${id}/deliveries?${query}`, userId);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.deliveries as { eventId: string; outcome: string; attempt: number }[];
    };
    const failed = await list('status=failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ eventId: message.id, outcome: 'http_error', attempt: 1 });
    expect(await list('status=http_error')).toEqual(failed);
    const succeeded = await list('status=succeeded');
    expect(succeeded.map((a) => a.eventId).sort()).toEqual([note.id, message.id, note2.id].sort());
    const messages = await list('event=message.created');
    expect(messages.map((a) => a.attempt)).toEqual([2, 1]);
    expect((await list('event=notification&status=success')).map((a) => a.eventId)).toEqual([
      note2.id,
      note.id,
    ]);
    const since = await list(`since=${new Date(later).toISOString()}`);
    expect(since.map((a) => a.eventId)).toEqual([note2.id]);
    expect((await list(`until=${later}`)).length).toBe(all.length - 1);

    for (const query of [
      'status=bogus',
      'event=not.a.type',
      'since=yesterday',
      'since=10&until=5',
      'cursor=%00',
    ]) {
      const res = await fx.api('GET', `/v1/webhooks/${id}/deliveries?${query}`, userId);
      expect(res.status, query).toBe(400);
    }
  });
});

describe('statistics', () => {
  it('counts successes and failures, remembers the last of each, and shows the backlog', async () => {
    let failing = true;
    const rx = await receiver(() => (failing ? { status: 500 } : { status: 200 }));
    const userId = newUserId();
    // No credential yet: deliveries wait (parked by the credential gate) and make a backlog.
    const { id } = await register(rx.url, { topics: ['user'] }, userId, false);
    const stats = async () => (await fx.api('GET', `/v1/webhooks/${id}/stats`, userId)).body;
    expect(await stats()).toEqual({
      attempts: { total: 0, succeeded: 0, failed: 0 },
      successRate: null,
      lastSuccessAt: null,
      lastError: null,
      backlog: { pending: 0, deadLetters: 0 },
      consecutiveFailures: 0,
    });
    const events = [];
    for (let i = 0; i < 3; i++) events.push(await fx.logEvent(userId));
    await waitFor(async () => (await stats()).backlog.pending === 3, 15_000, 'a backlog of 3');
    expect(rx.hits).toHaveLength(0);

    // Credential back: each delivery fails twice (both attempts) and lands as a dead letter.
    await fx.saveCredential(userId);
    await waitFor(async () => (await stats()).backlog.deadLetters === 3, 15_000, 'three dead letters');
    const afterFailures = await stats();
    expect(afterFailures).toMatchObject({
      attempts: { total: 6, succeeded: 0, failed: 6 },
      successRate: 0,
      lastSuccessAt: null,
      lastError: { error: 'HTTP 500', statusCode: 500 },
      backlog: { pending: 0, deadLetters: 3 },
      consecutiveFailures: 3,
    });

    failing = false;
    const replayed = await fx.api('POST', `/v1/webhooks/${id}/replay`, userId, { since: 0 });
    expect(replayed.body).toEqual({ enqueued: 3 });
    await waitFor(async () => (await stats()).attempts.succeeded === 3, 15_000, 'three successes');
    const final = await stats();
    expect(final).toMatchObject({
      attempts: { total: 9, succeeded: 3, failed: 6 },
      successRate: 0.3333,
      backlog: { pending: 0, deadLetters: 0 },
      consecutiveFailures: 0,
    });
    expect(Date.parse(final.lastSuccessAt)).toBeGreaterThan(Date.parse(final.lastError.at));

    // Entries of jobs that ended outside the finish script (a failed job re-added by a crashed
    // dispatcher's successor, a job BullMQ no longer has) are checked and not counted.
    const pendingKey = fx.keys.user(userId).webhookPending(id);
    const longAgo = Date.now() - 3_600_000;
    await fx.redis.zadd(pendingKey, longAgo, `${id}.${events[0]!.id}`, longAgo, `${id}.1-0`);
    expect((await stats()).backlog.pending).toBe(0);
    expect(await fx.redis.zcard(pendingKey)).toBe(0);
    expect((await fx.api('GET', `/v1/webhooks/${id}/stats`, newUserId())).status).toBe(404);
  });
});

describe('resend', () => {
  it('sends one event again to one endpoint, with the same webhook-id and body', async () => {
    const rx = await receiver();
    const { userId, id, secret } = await register(rx.url);
    const other = await register(rx.url, { topics: ['user'] }, userId);
    const event = await fx.logEvent(userId);
    await waitFor(
      () => rx.hits.filter((h) => h.webhookId === event.id).length === 2,
      15_000,
      'both deliveries',
    );

    const res = await fx.api('POST', `/v1/webhooks/${id}/resend`, userId, { eventId: event.id });
    expect(res.status).toBe(202);
    expect(res.body.eventId).toBe(event.id);
    await waitFor(() => rx.hits.filter((h) => h.webhookId === event.id).length === 3, 15_000, 'the resend');
    const copies = rx.hits.filter((h) => h.webhookId === event.id);
    expect(copies[2]!.body).toBe(event.json);
    expect(verifyHook(copies[2]!, secret)).toEqual(JSON.parse(event.json));
    // Only this endpoint got it again.
    const attempts = await attemptsOf(userId, id, 2);
    expect(attempts.filter((a) => a.eventId === event.id)).toHaveLength(2);
    expect((await attemptsOf(userId, other.id, 1)).filter((a) => a.eventId === event.id)).toHaveLength(1);

    // Not one this webhook takes (another room), unknown, malformed, another user's webhook.
    const elsewhere = await fx.logEvent(userId, { _id: 'x' }, 'message.created', 'OTHER');
    for (const [eventId, status] of [
      [elsewhere.id, 404],
      ['1-0', 404],
      ['../etc', 400],
    ] as const) {
      expect((await fx.api('POST', `/v1/webhooks/${id}/resend`, userId, { eventId })).status, eventId).toBe(
        status,
      );
    }
    expect(
      (await fx.api('POST', `/v1/webhooks/${id}/resend`, newUserId(), { eventId: event.id })).status,
    ).toBe(404);
  });
});

describe('custom headers', () => {
  it('sends them with every delivery, shows only their names, seals them at rest, and replaces them', async () => {
    const rx = await receiver();
    const { userId, id, secret } = await register(rx.url, {
      topics: ['user'],
      headers: { 'X-Api-Key': 'k-123 secret', 'X-Team': 'crm' },
    });
    const view = await fx.api('GET', `/v1/webhooks/${id}`, userId);
    expect(view.body.headers).toEqual(['x-api-key', 'x-team']);
    expect(JSON.stringify(view.body)).not.toContain('k-123');
    const stored = await fx.redis.hgetall(fx.keys.user(userId).webhook(id));
    expect(JSON.stringify(stored)).not.toContain('k-123');

    const first = await fx.logEvent(userId);
    const hit = await waitFor(() => rx.hits.find((h) => h.webhookId === first.id), 15_000, 'the delivery');
    expect(hit.headers['x-api-key']).toBe('k-123 secret');
    expect(hit.headers['x-team']).toBe('crm');
    expect(verifyHook(hit, secret)).toEqual(JSON.parse(first.json));

    const changed = await fx.api('PATCH', `/v1/webhooks/${id}`, userId, { headers: {} });
    expect(changed.body.headers).toEqual([]);
    const second = await fx.logEvent(userId);
    const hit2 = await waitFor(() => rx.hits.find((h) => h.webhookId === second.id), 15_000, 'the delivery');
    expect(hit2.headers['x-api-key']).toBeUndefined();
  });

  it('refuses hop-by-hop, client-owned and signature headers, CR/LF, and oversized sets', async () => {
    const rx = await receiver();
    const userId = newUserId();
    await fx.saveCredential(userId);
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v']));
    const hostile: unknown[] = [
      { 'X-Ok': 'a\r\nX-Injected: 1' },
      { 'X-Ok': 'a\nb' },
      { 'X-Ok': 'nul\u0000' },
      { 'X-Ok': 'é' },
      { 'Content-Type': 'text/plain' },
      { 'content-length': '1' },
      { Host: 'evil.example' },
      { Connection: 'close' },
      { 'Transfer-Encoding': 'chunked' },
      { Upgrade: 'websocket' },
      { 'Webhook-Signature': 'v1,forged' },
      { 'webhook-id': 'x' },
      { 'Bad Name': 'x' },
      { '': 'x' },
      { 'X-Ok': 42 },
      { 'X-Dup': 'a', 'x-dup': 'b' },
      { 'X-Long': 'v'.repeat(1025) },
      many,
      ['x-ok', 'v'],
      'x-ok: v',
    ];
    for (const headers of hostile) {
      const res = await fx.api('POST', '/v1/webhooks', userId, { url: rx.url, topics: 'user', headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.body).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    }
    expect((await fx.api('GET', '/v1/webhooks', userId)).body.webhooks).toEqual([]);
  });
});
