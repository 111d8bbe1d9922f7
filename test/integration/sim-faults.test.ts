/**
 * The simulator's timing and fault behaviour: server heartbeat, ping/delay/refuse/drop faults,
 * token revocation, the DDP rate limiter, and flood.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type Frame, RawDdpClient, waitUntil } from '../../sim/raw-ddp-client.js';

const sims: Simulator[] = [];
const clients: RawDdpClient[] = [];

async function simulator(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const sim = await startSimulator({ port: 0, ...options });
  sims.push(sim);
  return sim;
}

async function loggedIn(sim: Simulator, username: string): Promise<RawDdpClient> {
  const client = await RawDdpClient.connect(sim.wsUrl);
  clients.push(client);
  const result = await client.loginWithPassword(username, `${username}-pass`);
  expect(result['error']).toBeUndefined();
  client.mark();
  return client;
}

const tooManyRequests = {
  isClientSafe: true,
  error: 'too-many-requests',
  reason: expect.stringMatching(
    /^Error, too many requests\. Please slow down\. You must wait \d+ seconds before trying again\.$/,
  ),
  details: { timeToReset: expect.any(Number) },
  message: expect.stringMatching(/You must wait \d+ seconds before trying again\. \[too-many-requests\]$/),
  errorType: 'Meteor.Error',
};

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

describe('heartbeat', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await simulator({ heartbeatIntervalMs: 150, heartbeatTimeoutMs: 1000, rateLimits: false });
  });

  it('pings after the idle interval and closes a connection that stays silent', async () => {
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    expect(await client.waitFor((f) => f['msg'] === 'ping')).toEqual({ msg: 'ping' });
    await client.closed;
    await waitUntil(() => sim.control.connectionCount() === 0, 5000, 'the server to drop the connection');
  });

  it('keeps a connection that answers its pings', async () => {
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    for (let i = 0; i < 3; i += 1) {
      client.mark();
      await client.waitFor((f) => f['msg'] === 'ping');
      client.send({ msg: 'pong' });
    }
    expect(client.isOpen).toBe(true);
  });

  it('ignore-pings: no pong to client pings, no server pings, the socket stays open', async () => {
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    sim.control.setIgnorePings(true);
    try {
      client.mark();
      client.send({ msg: 'ping', id: 'p1' });
      const started = Date.now();
      // Several heartbeat periods pass: a method round trip proves the socket is alive and silent.
      await waitUntil(() => Date.now() - started > 600, 2000, 'several heartbeat periods');
      await client.call('rooms/get', []);
      expect(client.since().filter((f) => f['msg'] === 'pong' || f['msg'] === 'ping')).toEqual([]);
      expect(client.isOpen).toBe(true);
    } finally {
      sim.control.setIgnorePings(false);
    }
  });
});

describe('faults', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await simulator({ rateLimits: false });
  });

  it('delay holds every outbound frame, in order', async () => {
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    sim.control.setFrameDelay(200);
    try {
      client.mark();
      const started = Date.now();
      client.send({ msg: 'ping', id: 'd1' });
      client.send({ msg: 'ping', id: 'd2' });
      await client.waitFor((f) => f['id'] === 'd2');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(client.since().map((f) => f['id'])).toEqual(['d1', 'd2']);
    } finally {
      sim.control.setFrameDelay(0);
    }
  });

  it('refuse answers new upgrades with HTTP 503 for the given time', async () => {
    sim.control.refuseConnections(60_000);
    try {
      const status = await new Promise<number | undefined>((resolve) => {
        const ws = new WebSocket(sim.wsUrl);
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve(undefined);
          ws.terminate();
        });
        ws.on('error', () => resolve(undefined));
      });
      expect(status).toBe(503);
    } finally {
      sim.control.refuseConnections(0);
    }
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
  });

  it('drop closes only the given user’s sockets, without a close frame', async () => {
    const alice = await loggedIn(sim, 'alice');
    const bob = await loggedIn(sim, 'bob');
    expect(sim.control.dropConnections('alice')).toBe(1);
    expect((await alice.closed).code).toBe(1006);
    expect(bob.isOpen).toBe(true);
  });

  it('revoke: force_logout to the user’s subscribers, the socket closes, the token is dead', async () => {
    const { authToken, userId } = sim.control.tokenFor('carol');
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    await client.loginWithToken(authToken);
    await client.sub('stream-notify-user', [`${userId}/force_logout`, false]);
    const from = client.mark();
    expect(sim.control.revokeTokens('carol')).toBeGreaterThanOrEqual(1);
    const event = await client.waitFor(
      (f) => f['msg'] === 'changed' && (f['fields'] as Frame)['eventName'] === `${userId}/force_logout`,
      { from },
    );
    expect(event).toEqual({
      msg: 'changed',
      collection: 'stream-notify-user',
      id: 'id',
      fields: { eventName: `${userId}/force_logout`, args: [] },
    });
    await client.closed;
    const again = await RawDdpClient.connect(sim.wsUrl);
    clients.push(again);
    expect((await again.loginWithToken(authToken))['error']).toMatchObject({ error: 403 });
  });

  it('revoke with closeConnections:false logs the connection out in place', async () => {
    const { authToken, userId } = sim.control.tokenFor('carol');
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    await client.loginWithToken(authToken);
    await client.sub('stream-notify-user', [`${userId}/message`, false], 'k1');
    const from = client.mark();
    sim.control.revokeTokens('carol', { closeConnections: false });
    await client.waitFor((f) => f['msg'] === 'nosub' && f['id'] === 'k1', { from });
    const reply = await client.call('sendMessage', [{ rid: 'GENERAL', msg: 'still here?' }]);
    expect(reply['error']).toMatchObject({ error: 'error-invalid-user' });
    expect(client.isOpen).toBe(true);
  });

  it('flood stores and emits count messages, one frame per subscriber per message', async () => {
    const client = await loggedIn(sim, 'alice');
    await client.sub('stream-room-messages', ['GENERAL', false]);
    const before = sim.control.roomMessages('GENERAL').length;
    const result = sim.control.flood('GENERAL', 500);
    expect(result.count).toBe(500);
    await waitUntil(
      () =>
        client.since().filter((f) => f['msg'] === 'changed' && f['collection'] === 'stream-room-messages')
          .length === 500,
      10_000,
      '500 events',
    );
    expect(sim.control.roomMessages('GENERAL').length - before).toBe(500);
  });
});

describe('DDP rate limiter', () => {
  it('forced limits refuse methods with too-many-requests and subscriptions with a nosub', async () => {
    const sim = await simulator({ rateLimits: false });
    const client = await loggedIn(sim, 'alice');
    sim.control.forceRateLimit('sendMessage', 1, 300);
    const refused = await client.call('sendMessage', [{ rid: 'GENERAL', msg: 'too fast' }]);
    expect(refused['error']).toEqual({ ...tooManyRequests, details: { timeToReset: 300 } });
    expect(refused['error']).toMatchObject({
      reason: 'Error, too many requests. Please slow down. You must wait 1 seconds before trying again.',
    });
    expect((await client.call('sendMessage', [{ rid: 'GENERAL', msg: 'ok now' }]))['result']).toBeDefined();
    sim.control.forceRateLimit('stream-room-messages', 1);
    expect(await client.sub('stream-room-messages', ['GENERAL', false], 'z1')).toEqual({
      msg: 'nosub',
      id: 'z1',
      error: tooManyRequests,
    });
  });

  it('default rules: sendMessage 5 per second per user', async () => {
    const sim = await simulator({});
    const client = await loggedIn(sim, 'bob');
    const replies: Frame[] = [];
    for (let i = 0; i < 6; i += 1) {
      client.send({
        msg: 'method',
        id: `q${i}`,
        method: 'sendMessage',
        params: [{ rid: 'GENERAL', msg: `n${i}` }],
      });
    }
    for (let i = 0; i < 6; i += 1) {
      replies.push(await client.waitFor((f) => f['msg'] === 'result' && f['id'] === `q${i}`));
    }
    // Meteor's windows are fixed per rule, so a window may roll over mid-burst: at most 1 refusal.
    const refusedCount = replies.filter((r) => r['error']).length;
    expect(refusedCount).toBeLessThanOrEqual(1);
    const burst: Frame[] = [];
    for (let i = 0; i < 12; i += 1) {
      client.send({
        msg: 'method',
        id: `w${i}`,
        method: 'sendMessage',
        params: [{ rid: 'GENERAL', msg: `w${i}` }],
      });
    }
    for (let i = 0; i < 12; i += 1) {
      burst.push(await client.waitFor((f) => f['msg'] === 'result' && f['id'] === `w${i}`));
    }
    const refused = burst.filter((r) => r['error']);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.['error']).toEqual(tooManyRequests);
  });

  it('default rules: login 5 per 10 s per connection', async () => {
    const sim = await simulator({});
    const client = await RawDdpClient.connect(sim.wsUrl);
    clients.push(client);
    const errors: unknown[] = [];
    for (let i = 0; i < 6; i += 1) {
      errors.push((await client.loginWithPassword('alice', 'wrong'))['error']);
    }
    expect(errors.slice(0, 5).every((e) => (e as Frame)['error'] === 401)).toBe(true);
    expect(errors[5]).toEqual(tooManyRequests);
  });

  it('default rules: Connection_By_Method allows 10 calls of a method per connection per 10 s', async () => {
    const sim = await simulator({});
    const client = await loggedIn(sim, 'carol');
    const errors: unknown[] = [];
    for (let i = 0; i < 11; i += 1) {
      errors.push((await client.call('getRoomRoles', ['GENERAL']))['error']);
    }
    // A fixed window may roll over during the loop; then the refusal comes later or not at all.
    const refusedAt = errors.findIndex((e) => e !== undefined);
    expect(refusedAt === -1 || refusedAt === 10).toBe(true);
    if (refusedAt === 10) {
      expect(errors[10]).toEqual(tooManyRequests);
    }
  });
});
