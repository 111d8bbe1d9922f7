/**
 * The dispatcher makes each delivery's first attempt itself (src/webhooks/direct-attempts.ts):
 * the job goes straight into BullMQ's active list under the dispatcher's lock, so that from then
 * on it is an ordinary BullMQ job. These tests hold it to that: a retry continues in the queue
 * with the same `webhook-id` and attempt count, jobs it has no room for go to the queue, and a
 * process killed mid-attempt (kill -9) leaves a job that BullMQ's stalled check hands to another
 * worker, with the dispatch cursor already past it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { AppendedEvent } from '../../src/events/event-log.js';
import { loadedLuaScripts } from '../../src/redis/lua-script.js';
import type { WebhookWorker, WebhookWorkerOptions } from '../../src/webhooks/index.js';
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

const SCRIPT = fileURLToPath(new URL('../helpers/webhook-worker-process.ts', import.meta.url));

let fx: WebhookFixture;
let queue: ReturnType<typeof createWebhookQueue>;
const receivers: WebhookReceiver[] = [];
/** Workers a test started: closed after it even when it fails, so none outlives its test. */
const workers: WebhookWorker[] = [];
let child: ChildProcess | undefined;

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    // Long enough for a hanging attempt to be killed before it times out.
    env: { WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_RETRY_SCHEDULE_MS: '50,50' },
  });
  queue = createWebhookQueue(fx.redis, fx.config.redis.queuePrefix);
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.close();
  for (const rx of receivers.splice(0)) await rx.close();
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await queue.close();
  await fx.close();
});

async function startWorker(options: WebhookWorkerOptions): Promise<WebhookWorker> {
  const worker = await fx.startWorker(options);
  workers.push(worker);
  return worker;
}

async function jobState(jobId: string): Promise<string> {
  const job = await queue.getJob(jobId);
  return job ? job.getState() : 'missing';
}

async function receiver(respond?: Responder): Promise<WebhookReceiver> {
  const rx = await startWebhookReceiver(respond);
  receivers.push(rx);
  return rx;
}

async function register(userId: string, url: string): Promise<string> {
  await fx.saveCredential(userId);
  const res = await fx.api('POST', '/v1/webhooks', userId, { url, topics: 'user' });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('first attempts made by the dispatcher', () => {
  it('attempts at once, and a retry goes on in the queue with the same webhook-id and attempt count', async () => {
    const worker = await startWorker(FAST_WORKER);
    const rx = await receiver((_hook, index) => (index === 0 ? { status: 500 } : { status: 204 }));
    const userId = newUserId();
    const id = await register(userId, rx.url);
    const startedBefore = worker.direct!.started;

    const event = await fx.logEvent(userId);
    await waitFor(() => rx.delivered().has(event.id), 10_000, 'the retried delivery');
    expect(rx.hits.map((hit) => hit.webhookId)).toEqual([event.id, event.id]);
    // One first attempt here; the retry was BullMQ's.
    expect(worker.direct!.started - startedBefore).toBe(1);

    const attempts = await recordedAttempts(fx, userId, id, 2);
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [2, 'success'],
      [1, 'http_error'],
    ]);
    await waitFor(async () => (await jobState(`${id}.${event.id}`)) === 'completed');
    // Read once it is completed: a copy read before may predate the final move.
    expect((await queue.getJob(`${id}.${event.id}`))?.attemptsMade).toBe(2);
    expect(await fx.redis.zcard(fx.keys.user(userId).webhookPending(id))).toBe(0);
  });

  it('queues what it has no free attempt for, and every event is delivered once', async () => {
    const worker = await startWorker({ ...FAST_WORKER, directConcurrency: 1, directWaitMs: 20 });
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first request is answered only once the others have arrived: they cannot have been
    // first attempts of this dispatcher (it has one), so the queue delivered them.
    const rx = await receiver(async (_hook, index) => {
      if (index === 0) await held;
      return { status: 204 };
    });
    const userId = newUserId();
    await register(userId, rx.url);
    const startedBefore = worker.direct!.started;

    const events: AppendedEvent[] = [];
    for (let i = 0; i < 4; i++) events.push(await fx.logEvent(userId, { i }));
    await waitFor(() => rx.hits.length >= 4, 10_000, 'the queued deliveries');
    release!();
    await waitFor(() => events.every((e) => rx.delivered().has(e.id)), 10_000, 'every delivery');
    expect(rx.hits).toHaveLength(4);
    expect(worker.direct!.started - startedBefore).toBeLessThan(4);
  });
});

describe('a first attempt that succeeds', () => {
  it('sends its completion in the same write as its ledger entry, right behind it', async () => {
    // Every command sent, in order, with the turn it was sent in (writes leave at the end of a
    // turn, coalesced-writes.ts). Spied before the worker opens its connections, which wrap it.
    const sent: { client: Redis; args: string[]; turn: number }[] = [];
    let turn = 0;
    let isTicking = true;
    const tick = (): void => {
      turn++;
      if (isTicking) setImmediate(tick);
    };
    tick();
    const original = Redis.prototype.sendCommand;
    const spy = vi.spyOn(Redis.prototype, 'sendCommand').mockImplementation(function (this: Redis, ...call) {
      const [command] = call as unknown as [{ name: string; args: unknown[] }];
      sent.push({ client: this, args: [command.name, ...command.args.map(String)], turn });
      return original.apply(this, call);
    });
    try {
      await startWorker(FAST_WORKER);
      const rx = await receiver(() => ({ status: 204 }));
      const userId = newUserId();
      const id = await register(userId, rx.url);
      const event = await fx.logEvent(userId);
      const jobId = `${id}.${event.id}`;
      await waitFor(async () => (await jobState(jobId)) === 'completed', 10_000, 'the job completed');

      const ours = new Map(loadedLuaScripts().map((script) => [script.sha, script.path]));
      const finish = sent.findIndex(
        (c) => ours.get(c.args[1]!)?.endsWith('delivery-ledger/finish.lua') && c.args.includes(jobId),
      );
      expect(finish).toBeGreaterThanOrEqual(0);
      // BullMQ's move to completed: the next script naming the job that is not one of ours.
      const move = sent.findIndex(
        (c, i) =>
          i > finish &&
          c.args[0] === 'evalsha' &&
          !ours.has(c.args[1]!) &&
          c.args.some((a) => a.includes(jobId)),
      );
      expect(move).toBeGreaterThan(finish);
      expect(sent[move]!.client).toBe(sent[finish]!.client);
      expect(sent[move]!.turn).toBe(sent[finish]!.turn);
      expect(await fx.service.deliveries(userId, id, 10)).toEqual([
        expect.objectContaining({ outcome: 'success' }),
      ]);
    } finally {
      isTicking = false;
      spy.mockRestore();
    }
  });
});

describe('drain', () => {
  it('close waits for a first attempt in flight and records its outcome', async () => {
    const worker = await startWorker(FAST_WORKER);
    // Answered only once the worker is closing: the outcome can be recorded only if close waits.
    const rx = await receiver(async () => {
      await waitFor(() => worker.state !== 'running', 10_000, 'the worker closing');
      return { status: 204 };
    });
    const userId = newUserId();
    const id = await register(userId, rx.url);
    const startedBefore = worker.direct!.started;
    const event = await fx.logEvent(userId);
    await waitFor(() => rx.hits.length === 1, 10_000, 'the attempt in flight');
    expect(worker.direct!.started - startedBefore).toBe(1);

    await worker.close();
    expect(worker.direct!.inFlight).toBe(0);
    expect((await fx.service.deliveries(userId, id, 10)).map((a) => a.outcome)).toEqual(['success']);
    expect(await jobState(`${id}.${event.id}`)).toBe('completed');
  });
});

describe('a dispatcher killed mid-attempt (kill -9)', () => {
  it('leaves the job to BullMQ’s stalled check, the cursor already past it; nothing is lost', async () => {
    const rx = await receiver((_hook, index) => (index === 0 ? 'hang' : { status: 204 }));
    const userId = newUserId();
    const id = await register(userId, rx.url);

    child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { ...process.env, ...fx.env, WEBHOOK_TEST_WORKER_OPTIONS: JSON.stringify(FAST_WORKER) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor(() => out.includes('ready') || child?.exitCode !== null, 30_000, 'the worker process');
    expect(out).toContain('ready');

    const event = await fx.logEvent(userId);
    await waitFor(() => rx.hits.length === 1, 10_000, 'the attempt that hangs');
    // The job was in BullMQ, active under the dispatcher's lock, and the cursor moved past it,
    // before the request went out.
    expect(await jobState(`${id}.${event.id}`)).toBe('active');
    expect(await fx.redis.get(fx.keys.user(userId).webhookCursor)).toBe(event.id);

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');

    // A worker that does not dispatch: only BullMQ's stalled check can bring the job to it.
    await startWorker({ ...FAST_WORKER, isDispatchEnabled: false });
    await waitFor(() => rx.delivered().has(event.id), 20_000, 'the delivery after the kill');
    expect(rx.hits.map((hit) => hit.webhookId)).toEqual([event.id, event.id]);
    await waitFor(
      async () => (await jobState(`${id}.${event.id}`)) === 'completed',
      10_000,
      'the job completed',
    );
  });
});
