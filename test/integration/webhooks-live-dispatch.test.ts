/**
 * The dispatcher reads the event log only to catch up: once it has, it dispatches the events the
 * LiveHub hands it, with no read per event, and still delivers every event exactly once, in
 * order, with the event id as `webhook-id`. A backlog larger than it keeps in memory sends it
 * back to the log, and nothing is lost on the way.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventLog, type ReadResult } from '../../src/events/event-log.js';
import { startWebhookWorkers } from '../../src/webhooks/index.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { waitFor } from '../helpers/wait-for.js';
import { webhookConnections } from '../helpers/webhook-connections.js';
import {
  createWebhookFixture,
  FAST_WORKER,
  newUserId,
  storeWebhookSilently,
  type WebhookFixture,
} from '../helpers/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/** The real event log, counting how often the log is read back. */
class CountingEventLog extends EventLog {
  reads = 0;

  override readAfter(userId: string, afterId: string | undefined, limit: number): Promise<ReadResult> {
    this.reads++;
    return super.readAfter(userId, afterId, limit);
  }
}

let fx: WebhookFixture;
let log: CountingEventLog;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fx = await createWebhookFixture({ redisUrl: inject('redisUrl') });
  log = new CountingEventLog({ redis: fx.redis, keys: fx.keys, maxLength: 10_000, maxAgeMs: 86_400_000 });
  const worker = await startWebhookWorkers({
    redis: fx.redis,
    connections: webhookConnections(fx.redis, fx.config),
    keys: fx.keys,
    config: fx.config,
    eventLog: log,
    liveHub: fx.liveHub,
    credentials: fx.credentials,
    cipher: fx.cipher,
    consumers: fx.consumers,
    // No periodic re-read during the test: every read counted is one the dispatcher chose.
    options: { ...FAST_WORKER, safetySweepMs: 600_000, dispatchBatchSize: 5 },
  });
  closers.push(() => worker.close());
});
afterEach(async () => {
  for (const close of closers.splice(1)) await close();
});
afterAll(async () => {
  for (const close of closers) await close();
  await fx.close();
});

async function webhookFor(): Promise<{ userId: string; rx: WebhookReceiver }> {
  const rx = await startWebhookReceiver();
  closers.push(() => rx.close());
  const userId = newUserId();
  await fx.saveCredential(userId);
  const res = await fx.api('POST', '/v1/webhooks', userId, { url: rx.url, topics: ['user'] });
  expect(res.status).toBe(201);
  return { userId, rx };
}

describe('webhook dispatch from live events', () => {
  it('reads the log to catch up, then not once per event', async () => {
    const { userId, rx } = await webhookFor();
    const first = await fx.logEvent(userId);
    await waitFor(async () => rx.hits.length === 1, 10_000, 'the first delivery');
    const readsAfterCatchUp = log.reads;

    const logged = [first.id];
    for (let i = 0; i < 30; i++) {
      logged.push((await fx.logEvent(userId)).id);
      // One at a time, so that each event is a pass of its own.
      await waitFor(async () => rx.hits.length === logged.length, 10_000, `delivery ${i + 2}`);
    }
    expect(log.reads - readsAfterCatchUp).toBe(0);
    expect(rx.hits.map((hit) => hit.webhookId)).toEqual(logged);
  });

  it('falls back to the log for a backlog larger than it keeps, losing and doubling nothing', async () => {
    const { userId, rx } = await webhookFor();
    const first = await fx.logEvent(userId);
    await waitFor(async () => rx.hits.length === 1, 10_000, 'the first delivery');
    const readsBefore = log.reads;
    // 5 per batch, at most 4 batches kept live: 200 at once must overflow.
    const burst = await Promise.all(Array.from({ length: 200 }, () => fx.logEvent(userId)));
    const logged = [first.id, ...burst.map((e) => e.id)];
    await waitFor(async () => rx.hits.length >= logged.length, 30_000, 'every delivery');
    expect(new Set(rx.hits.map((hit) => hit.webhookId))).toEqual(new Set(logged));
    expect(rx.hits).toHaveLength(logged.length);
    expect(log.reads).toBeGreaterThan(readsBefore);
  });

  it('keeps its targets between passes only while the webhook version stands still', async () => {
    const { userId, rx } = await webhookFor();
    await fx.logEvent(userId);
    await waitFor(async () => rx.hits.length === 1, 10_000, 'the first delivery');
    // A second webhook written straight to the store: no change notice reaches the dispatcher,
    // only the version the store moves tells it that the targets it keeps are out of date.
    const silent = await startWebhookReceiver();
    closers.push(() => silent.close());
    const store = new WebhookStore({ redis: fx.redis, keys: fx.keys, cipher: fx.cipher });
    const created = await storeWebhookSilently(store, userId, 'wh_silentSilentSil1', silent.url);
    expect(created).toBeDefined();
    const next = await fx.logEvent(userId);
    await waitFor(async () => silent.hits.length === 1, 10_000, 'the silent webhook’s delivery');
    expect(silent.hits[0]!.webhookId).toBe(next.id);
    await waitFor(async () => rx.hits.length === 2, 10_000, 'the first webhook’s second delivery');
  });
});
