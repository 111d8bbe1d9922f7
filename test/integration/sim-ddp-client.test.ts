/**
 * Fidelity check with Rocket.Chat's own client, @rocket.chat/ddp-client: it connects, logs in,
 * subscribes to a room's messages, sends a message and receives it as an event, and sees a
 * `nosub` rejection for a room the user is not in.
 *
 * The SDK uses the global `WebSocket` (browsers, Node ≥ 22); Node 20 lacks it, so the `ws`
 * implementation is installed globally for this file.
 */
import { createHash } from 'node:crypto';
import { DDPSDK } from '@rocket.chat/ddp-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Simulator } from '../../sim/index.js';
import { waitUntil } from '../../sim/raw-ddp-client.js';
import { SIM_FLAVOR, startTestSimulator } from '../helpers/sim-flavor.js';

const globals = globalThis as { WebSocket?: unknown };
const originalWebSocket = globals.WebSocket;

let sim: Simulator;
const sdks: DDPSDK[] = [];

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function connectedSdk(): Promise<DDPSDK> {
  const sdk = DDPSDK.create(sim.url);
  sdks.push(sdk);
  await sdk.connection.connect();
  return sdk;
}

beforeAll(async () => {
  globals.WebSocket = WebSocket;
  sim = await startTestSimulator({ rateLimits: false });
});

afterEach(async () => {
  for (const sdk of sdks.splice(0)) {
    // `connection.close()` sets status 'closed' before the socket's onclose, so the SDK never
    // emits 'disconnected' and its TimeoutControl timers would stay armed: stop them here.
    sdk.timeoutControl.stop();
    sdk.connection.close();
  }
  await waitUntil(() => sim.control.connectionCount() === 0, 5000, 'the SDK sockets to close');
});

afterAll(async () => {
  await sim?.close();
  globals.WebSocket = originalWebSocket;
});

describe('@rocket.chat/ddp-client against the simulator', () => {
  it('connects, logs in, streams room messages and receives its own sent message', async () => {
    const sdk = await connectedSdk();
    expect(sdk.connection.status).toBe('connected');
    // Meteor: a 17-character Random.id; the ddp-streamer: a uuid v1.
    expect(sdk.connection.session).toMatch(SIM_FLAVOR === 'meteor' ? /^\w{17}$/ : /^[0-9a-f-]{36}$/);

    await sdk.account.loginWithPassword('alice', sha256('alice-pass'));
    expect(sdk.account.uid).toBe(sim.control.userId('alice'));
    // The SDK learns the username from the `users` collection `added` frame, which only Meteor
    // sends: against the ddp-streamer it knows the user by id and token alone.
    expect(sdk.account.user).toMatchObject({
      ...(SIM_FLAVOR === 'meteor' ? { username: 'alice' } : {}),
      token: expect.any(String),
    });

    const received: { _id: string; msg: string }[] = [];
    const stream = sdk.stream('room-messages', 'GENERAL', (message: unknown) => {
      received.push(message as { _id: string; msg: string });
    });
    await stream.ready();

    const sent = (await sdk.call('sendMessage', {
      rid: 'GENERAL',
      msg: 'hello from the official client',
    })) as {
      _id: string;
      msg: string;
      ts: { $date: number };
    };
    expect(sent).toMatchObject({ msg: 'hello from the official client', ts: { $date: expect.any(Number) } });
    await waitUntil(() => received.some((m) => m._id === sent._id), 5000, 'the sent message as an event');

    sim.control.postMessage('bob', 'GENERAL', 'and one from bob');
    await waitUntil(() => received.some((m) => m.msg === 'and one from bob'), 5000, "bob's message");

    // unsubscribe waits for the server's nosub.
    await sdk.client.unsubscribe(stream.id);
  });

  it('rejects the subscription (nosub not-allowed) for a private room the user is not in', async () => {
    const ops = sim.control.createRoom({ t: 'p', name: 'sdk-ops', members: ['alice', 'bob'] });
    const sdk = await connectedSdk();
    await sdk.account.loginWithToken(sim.control.tokenFor('carol').authToken);
    const stream = sdk.stream('room-messages', ops._id, () => undefined);
    await expect(stream.ready()).rejects.toMatchObject({ error: 'not-allowed', errorType: 'Meteor.Error' });
  });

  it('surfaces method errors as the raw Meteor.Error object', async () => {
    const sdk = await connectedSdk();
    await sdk.account.loginWithPassword('bob', sha256('bob-pass'));
    await expect(sdk.call('getRoomById', 'no-such-room')).rejects.toMatchObject({
      error: 'error-not-allowed',
      reason: 'Not allowed',
      errorType: 'Meteor.Error',
    });
  });
});
