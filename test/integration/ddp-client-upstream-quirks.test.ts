/**
 * The gateway's DDP client and sessions against what differs between Rocket.Chat's two DDP
 * servers, run against both simulator flavors (vitest.config.ts): a subscription given up while a
 * slow method holds the connection's queue (the ddp-streamer runs `sub` after the method but
 * `unsub` at once, so the sub goes live anyway), and a Rocket.Chat behind a base path.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { loadConfig } from '../../src/config/index.js';
import { DdpClient, DdpFatalError, DdpTimeoutError } from '../../src/ddp/index.js';
import { parseTopics } from '../../src/events/topics.js';
import type { GatewayEvent } from '../../src/events/types.js';
import { loginOverDdp } from '../../src/rocketchat/login.js';
import type { UserSession } from '../../src/sessions/user-session.js';
import { SIM_FLAVOR, startTestSimulator } from '../helpers/sim-flavor.js';
import { createTestCore, type TestCore } from '../helpers/test-core.js';
import { standaloneSession } from '../helpers/user-session.js';
import { waitFor } from '../helpers/wait-for.js';

const SLOW_MS = 1200;
const SUB_TIMEOUT_MS = 300;

let sim: Simulator;
const clients: DdpClient[] = [];
const sessions: UserSession[] = [];
const cores: TestCore[] = [];

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
});
afterEach(async () => {
  sim.control.slowMethod('loadHistory', 0);
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(cores.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await sim?.close();
});

function clientAs(username: string, url = sim.wsUrl): DdpClient {
  const { authToken } = sim.control.tokenFor(username);
  const client = new DdpClient({
    url,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 200,
    onConnected: async (ctx) => {
      await loginOverDdp(ctx.call, { kind: 'resume', token: authToken });
    },
  });
  clients.push(client);
  return client;
}

describe(`upstream quirks (${SIM_FLAVOR} flavor)`, () => {
  it('a sub that timed out behind a slow method never doubles the events of its stream', async () => {
    const client = clientAs('alice');
    await client.connect();
    const seen: string[] = [];
    client.onStream('stream-room-messages', 'GENERAL', (args) => seen.push((args[0] as { msg: string }).msg));

    sim.control.slowMethod('loadHistory', SLOW_MS);
    const slow = client.call('loadHistory', ['GENERAL', null, 1]);
    const gaveUp = client.subscribe('stream-room-messages', ['GENERAL', false], {
      timeoutMs: SUB_TIMEOUT_MS,
    });
    await expect(gaveUp).rejects.toBeInstanceOf(DdpTimeoutError);
    await slow;

    // Subscribed again, as a session does when a consumer asks for the room once more.
    await client.subscribe('stream-room-messages', ['GENERAL', false]);
    // A call after it: every frame the client sent before (an unsub included) has been handled.
    await client.call('rooms/get', []);
    for (const text of ['one', 'two', 'three']) sim.control.postMessage('bob', 'GENERAL', text);
    await waitFor(() => seen.length >= 3, 10_000, 'three events');
    await client.call('rooms/get', []);
    expect(seen).toEqual(['one', 'two', 'three']);
  });

  it('with a slow method in flight, a session that subscribes and drops a stream at once logs each later event once', async () => {
    const core = createTestCore({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
    cores.push(core);
    const session = standaloneSession(core, sim, 'alice', {
      lingerMs: 1,
      ddp: { callTimeoutMs: SUB_TIMEOUT_MS * 2, reconnectInitialDelayMs: 50 },
    });
    const userId = session.userId;
    sessions.push(session);
    await session.start([]);

    sim.control.slowMethod('loadHistory', SLOW_MS);
    const slow = session.call('loadHistory', ['GENERAL', null, 1], SLOW_MS * 4);
    // Subscribe, then drop at once: the sub waits behind the method, the drop does not.
    const subscribing = session.setTopics(parseTopics(['typing:GENERAL']));
    await session.setTopics([]);
    await subscribing;
    await slow;
    await waitFor(() => session.client.subscriptionCount === 1, 10_000, 'only the control stream left');

    await session.setTopics(parseTopics(['typing:GENERAL']));
    await session.call('rooms/get', []);
    const flips = [true, false, true, false];
    for (const typing of flips) sim.control.setTyping('bob', 'GENERAL', typing);
    const typingEvents = async () => {
      const page = await core.eventLog.readAfter(userId, undefined, 1000);
      return page.events.map((e) => JSON.parse(e.json) as GatewayEvent).filter((e) => e.type === 'typing');
    };
    await waitFor(async () => (await typingEvents()).length >= flips.length, 10_000, 'typing events');
    await session.call('rooms/get', []);
    const logged = await typingEvents();
    expect(logged.map((e) => (e.data as { typing: boolean }).typing)).toEqual(flips);
  });

  it('behind a base path, fails at once with what to fix when the path speaks SockJS', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      REDIS_URL: inject('redisUrl'),
      ROCKETCHAT_URL: `${sim.url}/chat`,
      GATEWAY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      JWT_SECRET: 'x'.repeat(64),
    });
    expect(new URL(config.rocketchat.ddpUrl).pathname).toBe('/chat/websocket');
    const client = clientAs('alice', config.rocketchat.ddpUrl);
    const outcome = client.connect().then(
      () => 'ready',
      (error: unknown) => error,
    );
    if (SIM_FLAVOR === 'streamer') {
      // The streamer answers every path but exactly /websocket with SockJS framing.
      const error = await outcome;
      expect(error).toBeInstanceOf(DdpFatalError);
      expect((error as Error).message).toMatch(/\/chat\/websocket.*SockJS.*exactly \/websocket/s);
      expect(client.status).toBe('closed');
    } else {
      // Meteor without that base path has no such route (404): a retry may succeed once the
      // proxy is fixed, so the client keeps trying and never claims to be ready.
      await waitFor(() => client.stats.reconnects >= 2, 10_000, 'retries');
      expect(client.status === 'waiting' || client.status === 'connecting').toBe(true);
    }
  });
});
