/**
 * The session pool and call routing in-process, against the simulator and a private Redis:
 * token revocation, expired tokens on re-login, capacity refusals, forwarding to the owner.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { parseTopics } from '../../src/events/topics.js';
import type { GatewayEvent } from '../../src/events/types.js';
import { createMetrics, type PrometheusMetrics } from '../../src/metrics/prometheus-metrics.js';
import { metricValue } from '../helpers/metric-value.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { createTestCore, sharedEnv, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
const cores: TestCore[] = [];

function core(
  shared: Record<string, string>,
  env: Record<string, string> = {},
  metrics?: PrometheusMetrics,
): TestCore {
  const c = createTestCore({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    shared,
    env,
    ...(metrics ? { metrics } : {}),
  });
  cores.push(c);
  return c;
}

async function register(c: TestCore, username: string, topics: string): Promise<string> {
  const auth = await c.rest.loginWithPassword(username, `${username}-pass`);
  await c.credentials.save(auth.userId, { token: auth.token, username });
  await c.consumers.register(auth.userId, `test:${username}`, parseTopics(topics), 'durable');
  return auth.userId;
}

/**
 * A "ghost" worker: it holds the user's lease for 1.5 s and listens on its call channel, handing
 * each forwarded call to `onCall`, but has no session. Disconnect it when done.
 */
async function ghostOwner(
  c: TestCore,
  userId: string,
  onCall: (request: { id: string; replyTo: string }) => void,
) {
  await c.redis.set(c.keys.user(userId).lease, '1:ghost', 'PX', 1500);
  const ghost = c.subscriber('ghost');
  ghost.on('message', (_channel: string, message: string) => onCall(JSON.parse(message)));
  await ghost.subscribe(c.keys.workerRpcChannel('ghost'));
  return ghost;
}

async function events(c: TestCore, userId: string): Promise<GatewayEvent[]> {
  const page = await c.eventLog.readAfter(userId, undefined, 10_000);
  return page.events.map((e) => JSON.parse(e.json) as GatewayEvent);
}

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sim?.close();
});

describe('session pool', () => {
  it('logs session.unauthorized when the token is revoked, and does not retry the dead token', async () => {
    const c = core(sharedEnv());
    const aliceId = await register(c, 'alice', 'room:GENERAL,user');
    await c.pool!.start();
    await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live');
    await sim.control.postMessage('bob', 'GENERAL', 'before revocation');
    await waitFor(async () => (await events(c, aliceId)).some((e) => e.type === 'message.created'), 10_000);

    const attemptsBefore = sim.control.loginAttempts('alice');
    sim.control.revokeTokens('alice');
    await waitFor(
      async () => (await events(c, aliceId)).some((e) => e.type === 'session.unauthorized'),
      10_000,
      'unauthorized event',
    );
    await waitFor(
      async () => (await c.credentials.load(aliceId))?.status === 'invalid',
      10_000,
      'credential marked invalid',
    );
    await waitFor(() => c.pool!.session(aliceId) === undefined, 10_000, 'session closed');
    // Several passes of the loop later, still no login with the dead token: no reconnect storm.
    for (let i = 0; i < 5; i++) await c.pool!.reconcile();
    expect(sim.control.loginAttempts('alice') - attemptsBefore).toBeLessThanOrEqual(1);
    expect(c.pool!.session(aliceId)).toBeUndefined();

    // New credentials bring the session back.
    const auth = await c.rest.loginWithPassword('alice', 'alice-pass');
    await c.credentials.save(aliceId, { token: auth.token, username: 'alice' });
    await c.pool!.reconcile();
    await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live again');
  });

  it('stops at an expired token on re-login after a reconnect', async () => {
    const c = core(sharedEnv());
    const bobId = await register(c, 'bob', 'room:GENERAL');
    await c.pool!.start();
    await waitFor(() => c.pool!.session(bobId)?.state === 'live', 20_000, 'bob live');
    const attemptsBefore = sim.control.loginAttempts('bob');
    sim.control.expireTokens('bob');
    sim.control.dropConnections('bob');
    await waitFor(
      async () => (await events(c, bobId)).some((e) => e.type === 'session.unauthorized'),
      15_000,
      'unauthorized',
    );
    for (let i = 0; i < 5; i++) await c.pool!.reconcile();
    expect(sim.control.loginAttempts('bob') - attemptsBefore).toBe(1);
  });

  it('refuses sessions beyond WORKER_MAX_SESSIONS with a reason', async () => {
    const c = core(sharedEnv(), { WORKER_MAX_SESSIONS: '1' });
    await register(c, 'alice', 'user');
    await register(c, 'carol', 'user');
    await c.pool!.start();
    await waitFor(() => c.pool!.size === 1, 20_000);
    await c.pool!.reconcile();
    expect(c.pool!.size).toBe(1);
    expect(c.logLines.some((l) => l.includes('WORKER_MAX_SESSIONS'))).toBe(true);
  });

  it('forwards a method call to the worker that owns the session, and shares that one session', async () => {
    const shared = sharedEnv();
    const owner = core(shared);
    const aliceId = await register(owner, 'alice', 'user');
    await owner.pool!.start();
    await owner.calls.start();
    await waitFor(() => owner.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live on the owner');
    const metrics = createMetrics({ collectDefaultMetrics: false });
    const other = core(shared, {}, metrics);
    await other.pool!.start();
    await other.calls.start();
    const connectionsBefore = sim.control.connectionCount();
    const rooms = (await other.calls.call(aliceId, 'rooms/get', [], 10_000)) as { _id: string }[];
    expect(rooms.map((r) => r._id)).toContain('GENERAL');
    expect(other.pool!.session(aliceId)).toBeUndefined();
    expect(sim.control.connectionCount()).toBe(connectionsBefore);
    // Rocket.Chat errors cross the forwarding with their code.
    await expect(other.calls.call(aliceId, 'getRoomById', ['no-such-room'], 10_000)).rejects.toMatchObject({
      error: expect.stringMatching(/error-/),
    });
    expect(await metricValue(metrics, 'gateway_forwarded_calls_total', { outcome: 'ok' })).toBe(1);
    expect(await metricValue(metrics, 'gateway_forwarded_calls_total', { outcome: 'error' })).toBe(1);
  });

  it('sends a forwarded call again when its target never took it and the session moved', async () => {
    const shared = sharedEnv();
    const metrics = createMetrics({ collectDefaultMetrics: false });
    const caller = core(shared, {}, metrics);
    const aliceId = await register(caller, 'alice', 'user');
    // The ghost receives the call but neither acknowledges nor answers it: a dead owner as it looks on a Redis Cluster,
    // where PUBLISH cannot say that nobody received the call.
    const taken: string[] = [];
    const ghost = await ghostOwner(caller, aliceId, (request) => taken.push(request.id));
    try {
      await caller.pool!.start();
      await caller.calls.start();
      const rooms = (await caller.calls.call(aliceId, 'rooms/get', [], 20_000)) as { _id: string }[];
      expect(rooms.map((r) => r._id)).toContain('GENERAL');
      expect(taken).toHaveLength(1);
      expect(caller.pool!.session(aliceId)).toBeDefined();
      expect(await metricValue(metrics, 'gateway_forwarded_calls_total', { outcome: 'moved' })).toBe(1);
    } finally {
      ghost.disconnect();
    }
  });

  it('reports "may have run" when the target took a forwarded call and then lost the session', async () => {
    const shared = sharedEnv();
    const caller = core(shared);
    const aliceId = await register(caller, 'alice', 'user');
    // This ghost acknowledges (it took the call) and then goes silent, as an owner killed mid-call.
    const ghost = await ghostOwner(caller, aliceId, (request) => {
      const ack = JSON.stringify({ v: 1, kind: 'ack', id: request.id });
      void caller.redis.publish(caller.keys.replyChannel(request.replyTo), ack);
    });
    try {
      await caller.calls.start();
      const startedAt = Date.now();
      const error = await caller.calls.call(aliceId, 'rooms/get', [], 30_000).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toMatchObject({ mayHaveRun: true });
      // Known as soon as the lease lapsed, not at the call's deadline.
      expect(Date.now() - startedAt).toBeLessThan(25_000);
    } finally {
      ghost.disconnect();
    }
  });

  it('times out a forwarded call at the caller deadline when a present owner never answers', async () => {
    const shared = sharedEnv();
    const metrics = createMetrics({ collectDefaultMetrics: false });
    const caller = core(shared, {}, metrics);
    const aliceId = await register(caller, 'alice', 'user');
    // Present (subscribed to its channel) and holding a long lease, but stuck.
    const ghost = await ghostOwner(caller, aliceId, () => {});
    await caller.redis.pexpire(caller.keys.user(aliceId).lease, 60_000);
    try {
      await caller.calls.start();
      await expect(caller.calls.call(aliceId, 'rooms/get', [], 1500)).rejects.toMatchObject({
        code: 'GW_ERR_FORWARD_TIMEOUT',
        status: 504,
      });
      expect(await metricValue(metrics, 'gateway_forwarded_calls_total', { outcome: 'timeout' })).toBe(1);
    } finally {
      ghost.disconnect();
    }
  });

  it('picks up a topic change whose notice was lost, on a later pass of the loop', async () => {
    const c = core(sharedEnv());
    const aliceId = await register(c, 'alice', 'user');
    await c.pool!.start();
    await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live');
    // The registry changes without the control notice (as when Pub/Sub drops it).
    await c.redis.hset(
      c.keys.user(aliceId).consumerTopics,
      'test:alice',
      JSON.stringify(['user', 'room:GENERAL']),
    );
    await waitFor(
      () => c.pool!.session(aliceId)?.topics.some((t) => t.kind === 'room' && t.roomId === 'GENERAL'),
      20_000,
      'the room topic applied by the loop',
    );
  });

  it('reads the topics again once per burst of consumer notices, and not at all for a new consumer of topics it has', async () => {
    const c = core(sharedEnv());
    const aliceId = await register(c, 'alice', 'room:GENERAL');
    await c.pool!.start();
    await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live');
    const consumers = c.consumers;
    const read = consumers.wantedTopics.bind(consumers);
    let reads = 0;
    consumers.wantedTopics = (userId) => {
      reads++;
      return read(userId);
    };
    const room = parseTopics('room:GENERAL');
    const ids = Array.from({ length: 20 }, (_, i) => `sse:test:${i}`);
    // New consumers of the room the session has: no read. Then the same consumers registered
    // again (their topics may have changed): twenty notices at once, a few reads between them.
    await Promise.all(ids.map((id) => consumers.register(aliceId, id, room, { ttlMs: 60_000 })));
    await Promise.all(ids.map((id) => consumers.register(aliceId, id, room, { ttlMs: 60_000 })));
    // A new consumer with a topic the session lacks is read and applied; Pub/Sub keeps order, so
    // every notice above was handled by the time it is.
    await consumers.register(aliceId, 'sse:test:user', parseTopics('user'), { ttlMs: 60_000 });
    await waitFor(
      () => c.pool!.session(aliceId)?.topics.some((t) => t.kind === 'user'),
      10_000,
      'the user topic applied',
    );
    // One read per notice would be 21 (41 before new consumers' notices carried their topics).
    expect(reads).toBeLessThanOrEqual(10);
  });

  it('catches up again when its first catch-up after a reconnect fails (rate limited beyond what the REST client waits out)', async () => {
    // chat.syncMessages allows one call per 15 s here. The REST client waits out a 429 itself
    // only up to 10 s, so a catch-up soon after the quota is used fails, and must be tried again.
    const limited = await startTestSimulator({
      rateLimits: false,
      restRateLimit: {
        calls: 10_000,
        windowMs: 60_000,
        endpoints: { 'chat.syncMessages': { calls: 1, windowMs: 15_000 } },
      },
    });
    try {
      const c = createTestCore({
        redisUrl: inject('redisUrl'),
        rocketchatUrl: limited.url,
        shared: sharedEnv(),
      });
      cores.push(c);
      const aliceId = await register(c, 'alice', 'room:GENERAL');
      await c.pool!.start();
      await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live');
      const logged = async () =>
        (await events(c, aliceId))
          .filter((e) => e.type === 'message.created')
          .map((e) => (e.data as { msg: string }).msg);
      limited.control.postMessage('bob', 'GENERAL', 'before');
      await waitFor(async () => (await logged()).includes('before'), 20_000, 'the first message logged');

      // The line drops and stays down for a moment; two messages are posted meanwhile, and the
      // endpoint's quota is used up, so the first catch-up after the reconnect gets 429.
      limited.control.refuseConnections(1500);
      limited.control.dropConnections('alice');
      limited.control.postMessage('bob', 'GENERAL', 'missed 1');
      limited.control.postMessage('bob', 'GENERAL', 'missed 2');
      const auth = await c.rest.loginWithPassword('alice', 'alice-pass');
      await c.rest.syncMessages({ userId: auth.userId, token: auth.token }, 'GENERAL', Date.now() - 1000);

      await waitFor(
        async () => {
          const msgs = await logged();
          return msgs.includes('missed 1') && msgs.includes('missed 2');
        },
        40_000,
        'the missed messages caught up',
      );
      expect(await logged()).toEqual(['before', 'missed 1', 'missed 2']);
      // The refused attempt happened (and was reported), so the retry is what caught up.
      expect(c.logLines.some((line) => line.includes('catch-up'))).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it('ignores malformed messages on its Pub/Sub channels and keeps serving calls', async () => {
    const shared = sharedEnv();
    const c = core(shared);
    const aliceId = await register(c, 'alice', 'user');
    await c.pool!.start();
    await c.calls.start();
    await waitFor(() => c.pool!.session(aliceId)?.state === 'live', 20_000, 'alice live');
    for (const junk of ['null', '[]', '7', '{"id":5}', '{"id":"x","replyTo":3}', 'not json']) {
      await c.redis.publish(c.keys.workerRpcChannel(c.pool!.workerId), junk);
      await c.redis.publish(c.keys.replyChannel(c.processId), junk);
      await c.redis.publish(c.keys.user(aliceId).liveChannel, junk);
    }
    // Still alive and answering (an exception in a subscriber handler would have ended the run).
    const rooms = (await c.calls.call(aliceId, 'rooms/get', [], 10_000)) as { _id: string }[];
    expect(rooms.map((r) => r._id)).toContain('GENERAL');
  });
});
