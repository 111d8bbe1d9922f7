/**
 * A Redis outage, end to end: the gateway (role `all`, in-process) runs against a private Redis
 * that is stopped (data kept) while the simulator keeps posting, then started again on the same
 * port. Meanwhile `/readyz` answers 503; afterwards it answers 200 again without a gateway
 * restart, and alice's event log holds every message Rocket.Chat stored, each exactly once.
 *
 * What happens inside (checked, no fix needed): the event-log connection has
 * `maxRetriesPerRequest: null`, so appends issued while Redis is down wait in ioredis's offline
 * queue (and those in flight are re-sent) and run, in order, once it reconnects; none fails.
 * The session lease expires during the outage, so the pool closes the session and starts it
 * again, and that start catches up from the room watermarks (dedupe drops the overlap).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { parseTopics } from '../../src/events/topics.js';
import { hasRedisServer, type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

// This test stops and restarts Redis: it needs its own server, never the suite's shared one.
const canRun = hasRedisServer();

let redis: PrivateRedis | undefined;
let sim: Simulator | undefined;
let gw: TestGateway | undefined;

interface LoggedMessage {
  type: string;
  data: { _id: string };
}

async function loggedMessageIds(userId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await gw!.gateway.core.eventLog.readAfter(userId, after, 1000);
    for (const event of page.events) {
      const parsed = JSON.parse(event.json) as LoggedMessage;
      if (parsed.type === 'message.created') ids.push(parsed.data._id);
    }
    if (page.events.length < 1000) return ids;
    after = page.events.at(-1)!.id;
  }
}

async function readyzStatus(): Promise<number> {
  const response = await fetch(`${gw!.url}/readyz`);
  await response.arrayBuffer();
  return response.status;
}

/** Posts as bob into GENERAL every 20 ms until the returned function is called. */
function postSteadily(counter: { posted: number }): () => Promise<void> {
  let posting = true;
  const done = (async () => {
    while (posting) {
      sim!.control.postMessage('bob', 'GENERAL', `steady ${counter.posted++}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    posting = false;
    await done;
  };
}

beforeAll(async () => {
  if (!canRun) return;
  redis = await startPrivateRedis();
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({ redisUrl: redis.url, rocketchatUrl: sim.url, env: { GATEWAY_ROLE: 'all' } });
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
  await redis?.close();
});

describe.skipIf(!canRun)('redis outage (skipped if redis-server is not installed)', () => {
  it('readyz is 503 while Redis is down, 200 after, and no stored message is lost or doubled', async () => {
    const { userId } = await loginThroughGateway(gw!.url, 'alice');
    // A durable consumer keeps alice's session wanted with room:GENERAL, as a webhook would.
    await gw!.gateway.core.consumers.register(userId, 'test', parseTopics('room:GENERAL'), 'durable');
    await waitFor(
      async () => {
        sim!.control.postMessage('bob', 'GENERAL', 'warm-up');
        return (await loggedMessageIds(userId)).length > 0;
      },
      20_000,
      "bob's message in alice's log",
    );
    expect(await readyzStatus()).toBe(200);

    const counter = { posted: 0 };
    const stopPosting = postSteadily(counter);
    await waitFor(async () => (await loggedMessageIds(userId)).length >= 10, 20_000, '10 logged messages');

    // Redis goes down while appends are in flight (the helper's stop() is an atomic
    // `SHUTDOWN SAVE`, so nothing Redis acknowledged is lost by Redis itself).
    await redis!.stop();
    const postedAtStop = counter.posted;
    await waitFor(async () => (await readyzStatus()) === 503, 10_000, '/readyz 503 while Redis is down');
    // A few seconds of outage while Rocket.Chat keeps storing (longer than the 1.5 s lease TTL).
    // A few seconds of outage (longer than the 1.5 s lease TTL) while Rocket.Chat keeps storing:
    // measured in posts made at one every 20 ms, not in sleeps.
    await waitFor(() => counter.posted >= postedAtStop + 150, 30_000, 'posts during the outage');
    expect(await readyzStatus()).toBe(503);

    await redis!.start();
    await waitFor(async () => (await readyzStatus()) === 200, 20_000, '/readyz 200 after Redis is back');
    const postedAtRestart = counter.posted;
    await waitFor(() => counter.posted >= postedAtRestart + 20, 20_000, 'posts after the restart');
    await stopPosting();

    // Every steady message Rocket.Chat stored (the warm-ups may predate alice's subscription).
    const stored = sim!.control
      .roomMessages('GENERAL')
      .filter((m) => !m.t && m.msg.startsWith('steady '))
      .map((m) => m._id);
    expect(stored.length).toBe(counter.posted);
    expect(stored.length).toBeGreaterThan(postedAtStop + 50);
    await waitFor(
      async () => {
        const logged = new Set(await loggedMessageIds(userId));
        return stored.every((id) => logged.has(id));
      },
      30_000,
      'every stored message in the log',
    ).catch(async (err: unknown) => {
      const logged = new Set(await loggedMessageIds(userId));
      const missing = stored.filter((id) => !logged.has(id));
      throw new Error(`${String(err)}: ${missing.length} of ${stored.length} stored messages missing`);
    });
    const storedSet = new Set(stored);
    const logged = (await loggedMessageIds(userId)).filter((id) => storedSet.has(id));
    expect(logged.length).toBe(stored.length);
    expect(new Set(logged).size).toBe(logged.length);
    expect(gw!.logLines.some((line) => line.includes('"context":"append"'))).toBe(false);
  });
});
