/**
 * The upstream metrics docs/deployment.md tells operators to watch, moving for real: DDP frames
 * each way and reconnections through the gateway's own wiring (src/gateway.ts), and stream frames
 * the normalizer skips through a session's `onSkipped`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { parseTopics } from '../../src/events/topics.js';
import { createMetrics, type PrometheusMetrics } from '../../src/metrics/index.js';
import { metricValue } from '../helpers/metric-value.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { createTestCore, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
const cores: TestCore[] = [];

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sim?.close();
});

function coreWith(metrics: PrometheusMetrics): TestCore {
  const core = createTestCore({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url, metrics });
  cores.push(core);
  return core;
}

describe('upstream metrics', () => {
  it('count DDP frames each way and reconnections of the pooled sessions', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    const core = coreWith(metrics);
    const auth = await core.rest.loginWithPassword('alice', 'alice-pass');
    await core.credentials.save(auth.userId, { token: auth.token, username: 'alice' });
    await core.consumers.register(auth.userId, 'test:alice', parseTopics(['room:GENERAL']), 'durable');
    await core.pool!.start();
    await waitFor(() => core.pool!.session(auth.userId)?.state === 'live', 20_000, 'alice live');

    const framesIn = await metricValue(metrics, 'gateway_upstream_frames_total', { direction: 'in' });
    const framesOut = await metricValue(metrics, 'gateway_upstream_frames_total', { direction: 'out' });
    // connect, login, the subscriptions: at least that many each way.
    expect(framesOut).toBeGreaterThanOrEqual(3);
    expect(framesIn).toBeGreaterThanOrEqual(3);
    expect(await metricValue(metrics, 'gateway_upstream_reconnects_total')).toBe(0);

    sim.control.postMessage('bob', 'GENERAL', 'counted');
    await waitFor(
      async () =>
        (await metricValue(metrics, 'gateway_upstream_frames_total', { direction: 'in' })) > framesIn,
      10_000,
      'the event frame counted',
    );

    sim.control.dropConnections('alice');
    await waitFor(
      async () => (await metricValue(metrics, 'gateway_upstream_reconnects_total')) >= 1,
      15_000,
      'a reconnection counted',
    );
    await waitFor(() => core.pool!.session(auth.userId)?.state === 'live', 20_000, 'alice live again');
  });

  it('count stream frames the normalizer skips, by reason', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    const core = coreWith(metrics);
    // Through the pool, as src/gateway.ts wires it.
    const auth = await core.rest.loginWithPassword('alice', 'alice-pass');
    await core.credentials.save(auth.userId, { token: auth.token, username: 'alice' });
    await core.consumers.register(auth.userId, 'test:alice', parseTopics(['user']), 'durable');
    await core.pool!.start();
    const session = await waitFor(
      () => (core.pool!.session(auth.userId)?.state === 'live' ? core.pool!.session(auth.userId) : undefined),
      20_000,
      'alice live',
    );
    // `roles-change` arrives on a stream the session listens to but is no gateway event.
    await session.client.subscribe('stream-notify-logged', [
      'roles-change',
      { useCollection: false, args: [] },
    ]);
    const rooms = await session.call<{ _id: string; name?: string }[]>('rooms/get', []);
    const ops = rooms.find((room) => room.name === 'ops')!;
    await session.call('addRoomModerator', [ops._id, sim.control.userId('bob')]);
    await waitFor(
      async () =>
        (await metricValue(metrics, 'gateway_upstream_frames_skipped_total', { reason: 'ignored' })) === 1,
      10_000,
      'the ignored frame counted',
    );
    expect(await metricValue(metrics, 'gateway_upstream_frames_skipped_total', { reason: 'malformed' })).toBe(
      0,
    );
  });
});
