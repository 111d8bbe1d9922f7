/**
 * The delivery ledger's two per-attempt scripts on a real Redis: the per-endpoint semaphore in
 * `begin` (a slot per job, a job retried takes its own back, holds of a killed worker expire),
 * and what `finish` records (statistics, attempt numbering, the consecutive-failure count, the
 * switch to `disabled` and the webhook version the dispatcher keeps its targets by).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTopics } from '../../src/events/topics.js';
import { createKeys } from '../../src/redis/keys.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { type AttemptRecord, DeliveryLedger } from '../../src/webhooks/delivery-ledger.js';
import { WebhookStore } from '../../src/webhooks/webhook-store.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';

const keys = createKeys('ledger-test');
let server: PrivateRedis;
let redis: Redis;
let store: WebhookStore;
let ledger: DeliveryLedger;

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  const cipher = createTokenCipher({ currentKeyId: 'k1', keys: new Map([['k1', randomBytes(32)]]) });
  store = new WebhookStore({ redis, keys, cipher });
  ledger = new DeliveryLedger({ redis, keys });
});

afterAll(async () => {
  await redis.quit();
  await server.close();
});

let seq = 0;
async function newWebhook(): Promise<{ userId: string; id: string }> {
  seq++;
  const userId = `u${seq}`;
  const id = `wh_ledgerLedgerLed${String(seq).padStart(2, '0')}`;
  const created = await store.create(
    userId,
    id,
    { url: 'https://example.com/hook', topics: parseTopics(['user']), eventTypes: [], description: '' },
    'whsec_dGVzdC1zZWNyZXQtdGVzdC1zZWNyZXQ=',
    1_000,
    10,
  );
  expect(created).toBeDefined();
  return { userId, id };
}

function attempt(outcome: AttemptRecord['outcome'], statusCode: number | null): AttemptRecord {
  return {
    eventId: '1-0',
    eventType: 'message',
    attempt: 1,
    atMs: 5_000,
    statusCode,
    durationMs: 3,
    outcome,
    error: outcome === 'success' ? null : 'HTTP 500',
    nextAttemptAtMs: null,
  };
}

describe('begin: the per-endpoint semaphore', () => {
  it('refuses a job when every slot is held, gives a retried job its own slot back, frees expired holds', async () => {
    const { userId, id } = await newWebhook();
    // Real time: the set's expiry (PEXPIREAT) follows the holds.
    const now = Date.now();
    expect((await ledger.begin(userId, id, 'job-a', now, now + 60_000, 2)).kind).toBe('go');
    // A killed worker's hold: it expires at now + 5 s.
    expect((await ledger.begin(userId, id, 'job-b', now, now + 5_000, 2)).kind).toBe('go');
    expect((await ledger.begin(userId, id, 'job-c', now + 1_000, now + 61_000, 2)).kind).toBe('busy');
    // The same job again (a retry) takes its own slot back although every slot is held.
    expect((await ledger.begin(userId, id, 'job-a', now + 1_000, now + 61_000, 2)).kind).toBe('go');
    // Once job-b's hold has expired, its slot is free.
    expect((await ledger.begin(userId, id, 'job-c', now + 6_000, now + 66_000, 2)).kind).toBe('go');
    expect((await ledger.begin(userId, id, 'job-d', now + 6_000, now + 66_000, 2)).kind).toBe('busy');
    await ledger.release(userId, id, 'job-a');
    expect((await ledger.begin(userId, id, 'job-d', now + 6_000, now + 66_000, 2)).kind).toBe('go');
  });
});

describe('finish: what an attempt leaves behind', () => {
  it('counts successes and failures, numbers attempts, resets the failure streak on success', async () => {
    const { userId, id } = await newWebhook();
    const finish = (kind: 'ok' | 'retry' | 'final', jobId: string) =>
      ledger.finish(userId, id, {
        jobId,
        attempt: attempt(kind === 'ok' ? 'success' : 'http_error', kind === 'ok' ? 204 : 500),
        kind,
        ...(kind === 'final'
          ? {
              deadLetter: {
                eventId: `${jobId}-0`,
                eventType: 'message',
                eventTimeMs: 1,
                payload: '{}',
                failedAtMs: 5_000,
                error: 'HTTP 500',
              },
            }
          : {}),
        disableAfterFailures: 3,
        nowMs: 5_000,
      });
    expect(await finish('final', '1')).toEqual({ consecutiveFailures: 1, disabledNow: undefined });
    expect(await finish('retry', '2')).toEqual({ consecutiveFailures: 1, disabledNow: undefined });
    expect(await finish('final', '2')).toEqual({ consecutiveFailures: 2, disabledNow: undefined });
    expect(await finish('ok', '3')).toEqual({ consecutiveFailures: 0, disabledNow: undefined });
    const record = await store.get(userId, id);
    expect(record?.counters).toMatchObject({ succeeded: 1, failed: 3 });
    expect(record?.consecutiveFailures).toBe(0);
    const page = await ledger.attemptsPage(userId, id, undefined, 10);
    expect(page.attempts.map((a) => a.seq)).toEqual([4, 3, 2, 1]);

    const versionBefore = await store.webhookVersion(userId);
    await finish('final', '4');
    await finish('final', '5');
    expect(await store.webhookVersion(userId)).toBe(versionBefore);
    expect(await finish('final', '6')).toEqual({ consecutiveFailures: 3, disabledNow: 'failures' });
    expect((await store.get(userId, id))?.status).toBe('disabled');
    // The dispatcher must see the endpoint disabled: its version moved.
    expect(await store.webhookVersion(userId)).not.toBe(versionBefore);
    // A webhook deleted meanwhile: nothing is recorded, and no record is brought back.
    await store.remove(userId, id);
    expect(await finish('ok', '7')).toEqual({ consecutiveFailures: 0, disabledNow: undefined });
    expect(await redis.exists(keys.user(userId).webhook(id))).toBe(0);
  });
});
