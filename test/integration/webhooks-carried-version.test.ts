/**
 * A live event carries the webhook version its append read (append.lua, live-message.ts), so the
 * dispatcher checks the targets it keeps without a `GET` per pass. What that must not cost: a
 * webhook created, changed, disabled or deleted between two events is honoured from the next
 * event on, with or without a change notice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { LiveEvent } from '../../src/events/live-hub.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createWebhookFixture,
  FAST_WORKER,
  newUserId,
  storeWebhookSilently,
  type WebhookFixture,
} from '../helpers/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

let fx: WebhookFixture;
let store: WebhookStore;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fx = await createWebhookFixture({ redisUrl: inject('redisUrl') });
  store = new WebhookStore({ redis: fx.redis, keys: fx.keys, cipher: fx.cipher });
  // No periodic re-read: every pass below is one a live event (or a change notice) started.
  await fx.startWorker({ ...FAST_WORKER, safetySweepMs: 600_000 });
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  for (const close of closers) await close();
  await fx.close();
});

async function receiver(): Promise<WebhookReceiver> {
  const rx = await startWebhookReceiver();
  closers.push(() => rx.close());
  return rx;
}

async function create(userId: string, url: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fx.api('POST', '/v1/webhooks', userId, { url, topics: ['user'], ...body });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** Logs an event and waits until `rx` has it: the dispatcher has had its pass for it. */
async function loggedAndHeard(userId: string, rx: WebhookReceiver): Promise<string> {
  const { id } = await fx.logEvent(userId);
  await waitFor(() => rx.hits.some((hit) => hit.webhookId === id), 10_000, `delivery of ${id}`);
  return id;
}

describe('the webhook version carried by live events', () => {
  it('is the version the append read', async () => {
    const userId = newUserId();
    const heard: LiveEvent[] = [];
    const unlisten = await fx.liveHub.listen(userId, (event) => heard.push(event));
    await fx.logEvent(userId);
    const rx = await receiver();
    await fx.saveCredential(userId);
    await create(userId, rx.url);
    const version = await store.webhookVersion(userId);
    expect(version).not.toBe('');
    await fx.logEvent(userId);
    await waitFor(() => heard.length === 2, 5_000, 'both events heard');
    unlisten();
    expect(heard.map((event) => event.webhookVersion)).toEqual(['', version]);
  });

  it('spares the dispatcher its read of the version on every live pass', async () => {
    const userId = newUserId();
    await fx.saveCredential(userId);
    const rx = await receiver();
    await create(userId, rx.url);
    await loggedAndHeard(userId, rx);
    // Counted on the store the dispatcher reads through (not with MONITOR, whose start races
    // with the traffic of the other test files sharing this Redis).
    const versionReads = vi.spyOn(WebhookStore.prototype, 'webhookVersion');
    let reads: unknown[][];
    try {
      for (let i = 0; i < 10; i++) await loggedAndHeard(userId, rx);
    } finally {
      // Restoring clears what the spy recorded: read it first.
      reads = versionReads.mock.calls.filter(([id]) => id === userId);
      versionReads.mockRestore();
    }
    expect(reads).toEqual([]);
  });

  it('honours webhooks created, changed, disabled and deleted between two events', async () => {
    const userId = newUserId();
    await fx.saveCredential(userId);
    const first = await receiver();
    const second = await receiver();
    const firstId = await create(userId, first.url);
    const e1 = await loggedAndHeard(userId, first);

    const secondId = await create(userId, second.url);
    const e2 = await loggedAndHeard(userId, second);
    await waitFor(() => first.hits.some((hit) => hit.webhookId === e2), 10_000, 'e2 to the first');

    // The first stops taking `notification` events: the second alone gets the next one.
    const narrowed = await fx.api('PATCH', `/v1/webhooks/${firstId}`, userId, {
      events: ['message.created'],
    });
    expect(narrowed.status).toBe(200);
    const e3 = await loggedAndHeard(userId, second);

    const widened = await fx.api('PATCH', `/v1/webhooks/${firstId}`, userId, { events: [] });
    expect(widened.status).toBe(200);
    const e4 = await loggedAndHeard(userId, first);

    expect((await fx.api('PATCH', `/v1/webhooks/${secondId}`, userId, { enabled: false })).status).toBe(200);
    const e5 = await loggedAndHeard(userId, first);
    expect((await fx.api('PATCH', `/v1/webhooks/${secondId}`, userId, { enabled: true })).status).toBe(200);
    const e6 = await loggedAndHeard(userId, second);
    expect((await fx.api('DELETE', `/v1/webhooks/${secondId}`, userId)).status).toBe(204);
    const e7 = await loggedAndHeard(userId, first);

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(first.hits.map((hit) => hit.webhookId)).toEqual([e1, e2, e4, e5, e6, e7]);
    expect(second.hits.map((hit) => hit.webhookId)).toEqual([e2, e3, e4, e6]);
  });

  it('honours a change the dispatcher hears no notice of (written straight to the store)', async () => {
    const userId = newUserId();
    await fx.saveCredential(userId);
    const kept = await receiver();
    const narrowed = await receiver();
    await create(userId, kept.url);
    const narrowedId = await create(userId, narrowed.url);
    const e1 = await loggedAndHeard(userId, kept);
    await waitFor(() => narrowed.hits.length === 1, 10_000, 'e1 to the narrowed one');

    // Only the version the store moves can tell the dispatcher; the next live event carries it.
    const changed = await store.update(userId, narrowedId, { eventTypes: ['message.created'] }, Date.now());
    expect(changed).toBeDefined();
    const e2 = await loggedAndHeard(userId, kept);
    const silent = await storeWebhookSilently(store, userId, 'wh_silentSilentSil2', narrowed.url);
    expect(silent).toBeDefined();
    const e3 = await loggedAndHeard(userId, narrowed);

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(narrowed.hits.map((hit) => hit.webhookId)).toEqual([e1, e3]);
    expect(kept.hits.map((hit) => hit.webhookId)).toEqual([e1, e2, e3]);
  });
});
