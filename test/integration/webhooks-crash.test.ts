/**
 * At-least-once across a crash: a worker process (dispatcher and deliverer) is killed with
 * SIGKILL while a delivery is in flight. Another worker takes over the user's dispatch from the
 * stored cursor and the stalled job from BullMQ; the receiver ends up with every logged event,
 * the interrupted one included, each signed, none skipped.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { AppendedEvent } from '../../src/events/event-log.js';
import { compareStreamIds } from '../../src/events/stream-id.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createWebhookFixture,
  FAST_WORKER,
  newUserId,
  type WebhookFixture,
} from '../helpers/webhook-fixture.js';
import { isSignedWith, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const SCRIPT = fileURLToPath(new URL('../helpers/webhook-worker-process.ts', import.meta.url));

let fx: WebhookFixture;
let rx: WebhookReceiver;
let child: ChildProcess | undefined;

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_RETRY_SCHEDULE_MS: '50,50' },
  });
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rx?.close();
  await fx.close();
});

async function spawnWorker(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: {
      ...process.env,
      ...fx.env,
      WEBHOOK_TEST_WORKER_OPTIONS: JSON.stringify({ ...FAST_WORKER, concurrency: 2 }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(() => out.includes('ready') || proc.exitCode !== null, 30_000, 'the worker process');
  if (!out.includes('ready')) throw new Error(`worker process exited (${proc.exitCode})`);
  return proc;
}

it('delivers every event at least once when a worker is killed mid-delivery', async () => {
  const HANG_AT = 5;
  // The sixth request is never answered: the worker is killed while waiting for it.
  rx = await startWebhookReceiver((_hook, index) => (index === HANG_AT ? 'hang' : { status: 204 }));
  const userId = newUserId();
  await fx.saveCredential(userId);
  const created = await fx.api('POST', '/v1/webhooks', userId, { url: rx.url, topics: 'user' });
  expect(created.status).toBe(201);
  const secret: string = created.body.secret;

  child = await spawnWorker();
  const events: AppendedEvent[] = [];
  for (let i = 0; i < 20; i++) events.push(await fx.logEvent(userId, { n: i }));
  await waitFor(() => rx.hits.length > HANG_AT, 20_000, 'the request that hangs');
  const interrupted = rx.hits[HANG_AT]!.webhookId;

  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(child.signalCode).toBe('SIGKILL');

  // Logged while no worker runs: only the stored cursor knows where dispatch stopped.
  for (let i = 20; i < 30; i++) events.push(await fx.logEvent(userId, { n: i }));
  await fx.startWorker(FAST_WORKER);

  await waitFor(() => events.every((e) => rx.delivered().has(e.id)), 30_000, 'every event delivered');
  const delivered = rx.delivered();
  expect([...delivered.keys()].sort(compareStreamIds)).toEqual(events.map((e) => e.id));
  for (const event of events) {
    const hit = delivered.get(event.id)!;
    expect(hit.body).toBe(event.json);
    expect(isSignedWith(hit, secret)).toBe(true);
  }
  // The interrupted delivery was attempted again, with the same webhook-id.
  expect(rx.hits.filter((h) => h.webhookId === interrupted).length).toBeGreaterThanOrEqual(2);
});
