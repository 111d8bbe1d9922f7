/**
 * `direct-attempts/add-active.lua` writes a job the way BullMQ's own add and move to active
 * leave it: that is what lets BullMQ take the job over (its stalled check, its moves to
 * completed, failed and delayed). The layout is BullMQ's, not ours, and may change with its
 * version; this test compares the two field by field, so that an upgrade which changes it fails
 * here rather than losing deliveries.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeliveryJobResult, EarlyBegin } from '../../src/webhooks/delivery-processor.js';
import { DirectAttempts } from '../../src/webhooks/direct-attempts.js';
import type { WebhookJobData } from '../../src/webhooks/webhook-queue.js';
import { waitFor } from '../helpers/wait-for.js';

const QUEUE = `layout-${process.pid}`;
const PREFIX = 'contract';
let redis: Redis;
let queue: Queue<WebhookJobData>;
let worker: Worker<WebhookJobData>;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  queue = new Queue(QUEUE, { connection: redis, prefix: PREFIX });
  // No processor: jobs are taken by hand (BullMQ's manual processing), named as the gateway's are.
  worker = new Worker(QUEUE, undefined, {
    connection: redis,
    prefix: PREFIX,
    autorun: false,
    name: 'worker-1',
  });
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  redis.disconnect();
});

const data = { v: 1, userId: 'u1', webhookId: 'w1', eventId: '1-0' } as unknown as WebhookJobData;
const opts = { attempts: 5, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 1000 };
/** Fields whose values differ between any two jobs (their ids, their clocks). */
const PER_JOB = new Set(['opts', 'processedOn', 'timestamp']);

describe('a first attempt stored by the dispatcher', () => {
  it('is the job BullMQ itself would have put in active, and BullMQ completes it', async () => {
    await queue.add('deliver', data, { ...opts, jobId: 'by-bullmq' });
    expect((await worker.getNextJob('token-bullmq'))?.id).toBe('by-bullmq');

    let finishAttempt: ((result: DeliveryJobResult) => void) | undefined;
    const direct = new DirectAttempts({
      redis,
      worker,
      queue,
      // Only the storing is under test: the attempt ends when the test says so.
      processor: {
        begin: () => ({}) as EarlyBegin,
        processBegun: () =>
          new Promise(
            (resolve) => (finishAttempt = (result) => resolve({ result, recorded: Promise.resolve() })),
          ),
        abandon: async () => {},
      },
      concurrency: 1,
      lockDurationMs: 30_000,
    });
    await direct.start(
      [{ name: 'deliver', data, opts: { ...opts, jobId: 'by-dispatcher' } }],
      await direct.reserve(1),
    );

    const key = (id: string) => `${PREFIX}:${QUEUE}:${id}`;
    const [byBull, byDispatcher] = await Promise.all([
      redis.hgetall(key('by-bullmq')),
      redis.hgetall(key('by-dispatcher')),
    ]);
    expect(Object.keys(byDispatcher).sort()).toEqual(Object.keys(byBull).sort());
    for (const [field, value] of Object.entries(byBull))
      if (!PER_JOB.has(field)) expect(byDispatcher[field], field).toBe(value);
    const { jobId: _bull, ...bullOpts } = JSON.parse(byBull.opts!) as Record<string, unknown>;
    const { jobId: _direct, ...directOpts } = JSON.parse(byDispatcher.opts!) as Record<string, unknown>;
    expect(directOpts).toEqual(bullOpts);
    expect(await redis.lrange(`${PREFIX}:${QUEUE}:active`, 0, -1)).toEqual(
      expect.arrayContaining(['by-bullmq', 'by-dispatcher']),
    );
    expect(await redis.pttl(`${key('by-dispatcher')}:lock`)).toBeGreaterThan(0);
    expect(await queue.getJobState('by-dispatcher')).toBe('active');

    await waitFor(() => finishAttempt !== undefined, 5_000, 'the attempt started');
    finishAttempt!({ status: 200 } as unknown as DeliveryJobResult);
    await waitFor(
      async () => (await queue.getJobState('by-dispatcher')) === 'completed',
      5_000,
      'completed by BullMQ',
    );
    await direct.close();
  });
});
