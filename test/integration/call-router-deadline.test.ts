/**
 * The call router's deadlines on a manual clock: a call forwarded to the worker that holds the
 * session, which takes it (acknowledges) and then never answers, fails as
 * `GW_ERR_FORWARD_TIMEOUT` exactly when `FORWARD_TIMEOUT_MS` has passed, or at the caller's own
 * deadline when that comes first, and the owner is told the same bound. Real Redis, a real
 * Pub/Sub "owner" standing in for a hung worker; only time is fake.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createMetrics } from '../../src/metrics/prometheus-metrics.js';
import { metricValue } from '../helpers/metric-value.js';
import { createTestCore, sharedEnv, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

interface Taken {
  readonly id: string;
  readonly timeoutMs: number;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A worker that holds `userId`'s lease, acknowledges every forwarded call and answers none. */
async function hungOwner(core: TestCore, userId: string): Promise<Taken[]> {
  const taken: Taken[] = [];
  // Long enough that the lease is still there whenever the router's owner watch looks.
  await core.redis.set(core.keys.user(userId).lease, '1:hung', 'PX', 60_000);
  const owner: Redis = core.subscriber('hung-owner');
  cleanups.push(() => owner.disconnect());
  owner.on('message', (_channel: string, raw: string) => {
    const request = JSON.parse(raw) as { id: string; replyTo: string; timeoutMs: number };
    taken.push({ id: request.id, timeoutMs: request.timeoutMs });
    void core.redis.publish(
      core.keys.replyChannel(request.replyTo),
      JSON.stringify({ v: 1, kind: 'ack', id: request.id }),
    );
  });
  await owner.subscribe(core.keys.workerRpcChannel('hung'));
  return taken;
}

async function callerCore(
  clock: ManualClock,
  forwardTimeoutMs: number,
  metrics = createMetrics({ collectDefaultMetrics: false }),
) {
  const core = createTestCore({
    redisUrl: inject('redisUrl'),
    // Nothing here talks to Rocket.Chat: the session lives on the hung owner.
    rocketchatUrl: 'http://127.0.0.1:9',
    shared: sharedEnv(),
    // An api-only replica: it forwards, it never holds a session itself.
    env: { GATEWAY_ROLE: 'api', FORWARD_TIMEOUT_MS: String(forwardTimeoutMs) },
    metrics,
    clock,
  });
  cleanups.push(() => core.close());
  await core.calls.start();
  return { core, metrics };
}

/** The call's outcome so far: still waiting, or how it ended. */
function track(promise: Promise<unknown>): { readonly outcome: () => unknown } {
  let outcome: unknown = 'pending';
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = error),
  );
  return { outcome: () => outcome };
}

/**
 * Starts a forwarded call that the hung owner takes, checks it is still waiting 1 ms before
 * `failsAtMs` on the manual clock and has failed at `failsAtMs`; resolves with what it failed
 * with and the timeout the owner was told.
 */
async function forwardUnanswered(forwardTimeoutMs: number, callTimeoutMs: number, failsAtMs: number) {
  const clock = createManualClock(Date.now());
  const { core, metrics } = await callerCore(clock, forwardTimeoutMs);
  const userId = `u-${randomUUID().slice(0, 8)}`;
  const taken = await hungOwner(core, userId);
  const call = track(core.calls.call(userId, 'rooms/get', [], callTimeoutMs));
  await waitFor(() => taken.length === 1, 10_000, 'the owner to take the call');
  await clock.advanceAsync(failsAtMs - 1);
  expect(call.outcome()).toBe('pending');
  await clock.advanceAsync(1);
  const error = await waitFor(() => (call.outcome() === 'pending' ? undefined : call.outcome()), 10_000);
  return { error, ownerTimeoutMs: taken[0]!.timeoutMs, metrics };
}

describe('a forwarded call whose owner does not answer', () => {
  it('fails as GW_ERR_FORWARD_TIMEOUT when FORWARD_TIMEOUT_MS has passed, not before', async () => {
    const { error, ownerTimeoutMs, metrics } = await forwardUnanswered(5000, 15_000, 5000);
    expect(error).toMatchObject({
      code: 'GW_ERR_FORWARD_TIMEOUT',
      status: 504,
      message: expect.stringContaining('within 5000 ms'),
    });
    // The owner runs the call under the same bound, so it stops waiting when the caller does.
    expect(ownerTimeoutMs).toBe(5000);
    expect(await metricValue(metrics, 'gateway_forwarded_calls_total', { outcome: 'timeout' })).toBe(1);
  });

  it('fails at the caller deadline when that comes before FORWARD_TIMEOUT_MS', async () => {
    const { error, ownerTimeoutMs } = await forwardUnanswered(15_000, 2000, 2000);
    expect(error).toMatchObject({ code: 'GW_ERR_FORWARD_TIMEOUT', status: 504 });
    expect(ownerTimeoutMs).toBeLessThanOrEqual(2000);
  });
});
