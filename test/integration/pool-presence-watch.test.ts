/**
 * The session pool's presence watch on a manual clock: a wanted user whose session another
 * worker holds is taken over at the first watch tick after that worker is gone (its lease still
 * has a minute to run, so nothing else could explain the takeover), and not before the tick.
 * Real Redis, the simulator, a real Pub/Sub "holder"; only the pool's timers are fake.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { createManualClock } from '../../src/clock.js';
import { parseTopics } from '../../src/events/topics.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { createTestCore, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

/** src/sessions/session-pool.ts PRESENCE_WATCH_MS. */
const PRESENCE_WATCH_MS = 200;

let sim: Simulator;
let core: TestCore | undefined;
let holder: Redis | undefined;

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
});
afterAll(async () => {
  holder?.disconnect();
  await core?.close();
  await sim?.close();
});

describe('the presence watch', () => {
  it('takes over the session of a holder that is gone at its next tick, without waiting out the lease', async () => {
    const clock = createManualClock(Date.now());
    core = createTestCore({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url, clock });
    const c = core;
    const auth = await c.rest.loginWithPassword('alice', 'alice-pass');
    await c.credentials.save(auth.userId, { token: auth.token, username: 'alice' });
    await c.consumers.register(auth.userId, 'test:alice', parseTopics('user'), 'durable');

    // Another worker holds alice's session: present (subscribed to its channel), a long lease.
    await c.redis.set(c.keys.user(auth.userId).lease, '1:elsewhere', 'PX', 60_000);
    holder = c.subscriber('holder');
    await holder.subscribe(c.keys.workerRpcChannel('elsewhere'));

    await c.pool!.start();
    expect(c.pool!.session(auth.userId)).toBeUndefined();

    holder.disconnect();
    await waitFor(() => c.presence.isGone('elsewhere'), 10_000, 'the holder to be gone');
    await clock.advanceAsync(PRESENCE_WATCH_MS - 1);
    expect(c.pool!.session(auth.userId)).toBeUndefined();
    expect(await c.leases.owner(auth.userId)).toBe('elsewhere');

    await clock.advanceAsync(1);
    await waitFor(() => c.pool!.session(auth.userId)?.state === 'live', 20_000, 'alice live here');
    expect(await c.leases.owner(auth.userId)).toBe(c.pool!.workerId);
  });
});
