/**
 * The simulator's `streamer` flavor, wire level: each way Rocket.Chat's ddp-streamer differs
 * from Meteor's DDP server (docs/simulator-protocol.md, "The two flavors"), checked with a raw
 * WebSocket client and frames compared as data. The `meteor` side of each difference is in
 * test/integration/sim-protocol.test.ts.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type Frame, RawDdpClient, waitUntil } from '../../sim/raw-ddp-client.js';

const UUID_V1 = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LOGGED_OUT = "You've been logged out by the server. Please log in again";

let sim: Simulator;
const sims: Simulator[] = [];
const clients: RawDdpClient[] = [];

async function open(path = '/websocket', on: Simulator = sim): Promise<RawDdpClient> {
  const client = await RawDdpClient.open(on.wsUrl.replace(/\/websocket$/, path));
  clients.push(client);
  return client;
}

async function connected(on: Simulator = sim): Promise<RawDdpClient> {
  const client = await RawDdpClient.connect(on.wsUrl);
  clients.push(client);
  return client;
}

async function loggedIn(username: string): Promise<RawDdpClient> {
  const client = await RawDdpClient.loggedIn(sim.wsUrl, username, `${username}-pass`);
  clients.push(client);
  return client;
}

const isMessageIn = (rid: string) => (f: Frame) =>
  f['msg'] === 'changed' &&
  f['collection'] === 'stream-room-messages' &&
  (f['fields'] as { eventName?: string })?.eventName === rid;

/** Sends a ping and waits for its pong: every frame sent before it has been handled by then. */
async function roundTrip(client: RawDdpClient): Promise<void> {
  const id = client.id('p');
  const from = client.frames.length;
  client.send({ msg: 'ping', id });
  await client.waitFor((f) => f['msg'] === 'pong' && f['id'] === id, { from });
}

const settled = (client: RawDdpClient): Promise<{ code: number; reason: string }> => client.closed;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false, flavor: 'streamer' });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
  sim.control.slowMethod('loadHistory', 0);
});

afterAll(async () => {
  await sim?.close();
});

describe('streamer flavor: handshake and ids', () => {
  it('greets with {"msg":"server_id"}, and its session ids are uuid v1', async () => {
    const client = await open();
    expect(await client.waitFor(() => true)).toEqual({ msg: 'server_id', server_id: '0' });
    client.send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
    const reply = await client.waitFor((f) => f['msg'] === 'connected');
    expect(Object.keys(reply)).toEqual(['msg', 'session']);
    expect(reply['session']).toMatch(UUID_V1);
  });

  it('does not negotiate the version: any connect is connected, never failed', async () => {
    const client = await open();
    client.send({ msg: 'connect', version: '7', support: ['7'] });
    const reply = await client.waitFor((f) => f['msg'] === 'connected' || f['msg'] === 'failed');
    expect(reply['msg']).toBe('connected');
  });

  it('issues uuid v4 resume tokens over DDP, with no users frame before the result', async () => {
    const client = await connected();
    client.mark();
    const result = await client.loginWithPassword('alice', 'alice-pass');
    const login = result['result'] as { id: string; token: string; type: string };
    expect(login.token).toMatch(UUID_V4);
    expect(login.type).toBe('password');
    expect(client.since().filter((f) => f['msg'] !== 'result' && f['msg'] !== 'updated')).toEqual([]);

    const again = await connected();
    const resumed = await again.loginWithToken(login.token);
    expect(resumed['result']).toMatchObject({ id: login.id, token: login.token, type: 'resume' });
  });
});

describe('streamer flavor: heartbeat', () => {
  it('pings a client whose connect comes late (first idle timer 30 ms); it may still connect', async () => {
    const client = await open();
    const ping = await client.waitFor((f) => f['msg'] === 'ping');
    expect(ping).toEqual({ msg: 'ping' });
    expect(client.frames.some((f) => f['msg'] === 'connected')).toBe(false);
    // Connect first: on the streamer any other first frame, a pong included, closes the socket.
    client.send({ msg: 'connect', version: '1', support: ['1'] });
    client.send({ msg: 'pong' });
    await client.waitFor((f) => f['msg'] === 'connected');
  });

  it('closes a silent connection with 4000 TIMEOUT after its ping', async () => {
    const quick = await startSimulator({
      port: 0,
      flavor: 'streamer',
      heartbeatIntervalMs: 150,
      heartbeatTimeoutMs: 150,
    });
    sims.push(quick);
    const client = await connected(quick);
    client.mark();
    await client.waitFor((f) => f['msg'] === 'ping');
    expect(await settled(client)).toEqual({ code: 4000, reason: 'TIMEOUT' });
  });
});

describe('streamer flavor: protocol errors close the socket', () => {
  it('closes 1002 when the first frame is not connect (Meteor answers with an error frame)', async () => {
    const client = await open();
    client.send({ msg: 'method', id: '1', method: 'rooms/get', params: [] });
    expect((await settled(client)).code).toBe(1002);
    expect(client.frames.filter((f) => f['msg'] !== 'ping')).toEqual([{ msg: 'server_id', server_id: '0' }]);
  });

  it('closes 1007 on unparseable JSON and handles nothing sent after it', async () => {
    const client = await connected();
    client.mark();
    client.send('{not json');
    client.send({ msg: 'method', id: 'after', method: 'rooms/get', params: [] });
    expect((await settled(client)).code).toBe(1007);
    expect(client.since().some((f) => f['id'] === 'after')).toBe(false);
  });

  it('closes 1002 for a method without an id and for a sub without a name', async () => {
    const method = await connected();
    method.send({ msg: 'method', method: 'rooms/get', params: [] });
    expect((await settled(method)).code).toBe(1002);
    const sub = await connected();
    sub.send({ msg: 'sub', id: 's1', params: [] });
    expect((await settled(sub)).code).toBe(1002);
  });

  it('ignores an unknown msg and a second connect: no error frame, nothing at all', async () => {
    const client = await connected();
    client.mark();
    client.send({ msg: 'bogus', id: 'x' });
    client.send({ msg: 'connect', version: '1', support: ['1'] });
    await roundTrip(client);
    expect(client.since().map((f) => f['msg'])).toEqual(['pong']);
  });
});

describe('streamer flavor: login and logout', () => {
  it('refuses a wrong password with 403 "logged out", keys in the streamer order', async () => {
    const client = await connected();
    const result = await client.loginWithPassword('alice', 'wrong');
    const error = result['error'] as Record<string, unknown>;
    expect(error).toEqual({
      isClientSafe: true,
      errorType: 'Meteor.Error',
      error: 403,
      reason: LOGGED_OUT,
      message: `${LOGGED_OUT} [403]`,
    });
    expect(Object.keys(error)).toEqual(['isClientSafe', 'errorType', 'error', 'reason', 'message']);
  });

  it('refuses an e-mail login, even with the right password', async () => {
    const client = await connected();
    const digest = createHash('sha256').update('alice-pass').digest('hex');
    const result = await client.call('login', [
      { user: { email: 'alice@example.com' }, password: { digest, algorithm: 'sha-256' } },
    ]);
    expect(result['error']).toMatchObject({ error: 403, reason: LOGGED_OUT });
  });

  it('puts details last in an error', async () => {
    const client = await loggedIn('alice');
    const result = await client.call('getRoomById', ['no-such-room']);
    const keys = Object.keys(result['error'] as object);
    expect(keys.slice(0, 3)).toEqual(['isClientSafe', 'errorType', 'error']);
    if (keys.includes('details')) expect(keys.at(-1)).toBe('details');
  });

  it('closes 1002 with an empty reason right after the logout result and updated', async () => {
    const client = await loggedIn('alice');
    const id = client.id();
    client.send({ msg: 'method', id, method: 'logout', params: [] });
    expect(await settled(client)).toEqual({ code: 1002, reason: '' });
    expect(client.since()).toEqual([
      { msg: 'result', id },
      { msg: 'updated', methods: [id] },
    ]);
  });

  it('does not re-announce subscriptions made before login', async () => {
    const client = await connected();
    const ready = await client.sub('stream-notify-all', ['public-settings-changed', false]);
    expect(ready['msg']).toBe('ready');
    client.mark();
    await client.loginWithPassword('alice', 'alice-pass');
    await roundTrip(client);
    expect(client.since().map((f) => f['msg'])).toEqual(['result', 'updated', 'pong']);
  });
});

describe('streamer flavor: subscriptions', () => {
  it('queues sub behind a running method but runs unsub at once: the sub ends up live', async () => {
    sim.control.slowMethod('loadHistory', 400);
    const client = await loggedIn('alice');
    client.send({ msg: 'method', id: 'slow', method: 'loadHistory', params: ['GENERAL', null, 1] });
    client.send({ msg: 'sub', id: 'ghost', name: 'stream-room-messages', params: ['GENERAL', false] });
    client.send({ msg: 'unsub', id: 'ghost' });
    await client.waitFor((f) => f['msg'] === 'ready');
    const order = client
      .since()
      .filter((f) => f['msg'] !== 'updated')
      .map((f) => f['msg']);
    // The unsub found nothing (no nosub), the sub ran after the method's result.
    expect(order).toEqual(['result', 'ready']);
    sim.control.postMessage('bob', 'GENERAL', 'after the ghost sub');
    const event = await client.waitFor(isMessageIn('GENERAL'));
    expect((event['fields'] as { args: { msg: string }[] }).args[0]?.msg).toBe('after the ghost sub');
  });

  it('answers unsub of an unknown id with nothing, and unsub of a live one with a bare nosub', async () => {
    const client = await loggedIn('alice');
    client.send({ msg: 'unsub', id: 'never' });
    await roundTrip(client);
    expect(client.since().map((f) => f['msg'])).toEqual(['pong']);
    await client.sub('stream-room-messages', ['GENERAL', false], 'live');
    client.mark();
    client.send({ msg: 'unsub', id: 'live' });
    expect(await client.waitFor((f) => f['msg'] === 'nosub')).toEqual({ msg: 'nosub', id: 'live' });
  });

  it('runs a repeated sub id again: a second ready, every event twice, one copy left after one unsub', async () => {
    const client = await loggedIn('alice');
    await client.sub('stream-room-messages', ['GENERAL', false], 'twice');
    const second = await client.sub('stream-room-messages', ['GENERAL', false], 'twice');
    expect(second).toEqual({ msg: 'ready', subs: ['twice'] });
    client.mark();
    sim.control.postMessage('bob', 'GENERAL', 'one');
    await waitUntil(() => client.since().filter(isMessageIn('GENERAL')).length === 2, 5000, 'two copies');
    client.send({ msg: 'unsub', id: 'twice' });
    await client.waitFor((f) => f['msg'] === 'nosub');
    client.mark();
    sim.control.postMessage('bob', 'GENERAL', 'two');
    await client.waitFor(isMessageIn('GENERAL'));
    await roundTrip(client);
    expect(client.since().filter(isMessageIn('GENERAL'))).toHaveLength(1);
  });

  it('sends an added frame before ready for every useCollection:true sub', async () => {
    const client = await loggedIn('alice');
    for (const id of ['c1', 'c2']) {
      client.mark();
      await client.sub('stream-room-messages', ['GENERAL', { useCollection: true, args: [] }], id);
      expect(client.since()).toEqual([
        { msg: 'added', collection: 'stream-room-messages', id: 'id', fields: { eventName: 'GENERAL' } },
        { msg: 'ready', subs: [id] },
      ]);
    }
  });
});

describe('streamer flavor: methods', () => {
  it("runs one connection's calls one at a time, in arrival order", async () => {
    sim.control.slowMethod('loadHistory', 300);
    const client = await loggedIn('alice');
    client.send({ msg: 'method', id: 'first', method: 'loadHistory', params: ['GENERAL', null, 1] });
    client.send({ msg: 'method', id: 'second', method: 'rooms/get', params: [] });
    await client.waitFor((f) => f['msg'] === 'result' && f['id'] === 'second');
    const results = client.since().filter((f) => f['msg'] === 'result');
    expect(results.map((f) => f['id'])).toEqual(['first', 'second']);
  });

  it('omits every falsy result: loadHistory of a room it cannot read arrives with no result key', async () => {
    const client = await loggedIn('carol');
    const result = await client.call('loadHistory', ['no-such-room']);
    expect(result).toEqual({ msg: 'result', id: result['id'] });
  });
});

describe('streamer flavor: paths', () => {
  it('speaks raw frames only on exactly /websocket, SockJS framing on any other path', async () => {
    const raw = await open('/websocket');
    expect(await raw.waitFor(() => true)).toEqual({ msg: 'server_id', server_id: '0' });
    for (const path of ['/chat/websocket', '/websocket/', '/websocket?x=1']) {
      const client = await open(path);
      await client.waitFor((_f) => client.frames.length >= 2);
      expect(client.frames.slice(0, 2)).toEqual([
        { raw: 'o' },
        { raw: `a${JSON.stringify(['{"msg":"server_id","server_id":"0"}'])}` },
      ]);
    }
  });
});

describe('flavor switch', () => {
  it('is set with --flavor or the control API; open connections keep theirs', async () => {
    const meteor = await startSimulator({ port: 0 });
    sims.push(meteor);
    const get = async (): Promise<unknown> => (await fetch(`${meteor.url}/sim/flavor`)).json();
    expect(await get()).toEqual({ flavor: 'meteor' });
    const before = await open('/websocket', meteor);
    const post = (flavor: unknown) =>
      fetch(`${meteor.url}/sim/flavor`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ flavor }),
      });
    const refused = await post('sockjs');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid-params' });
    expect((await post('streamer')).status).toBe(200);
    expect(await get()).toEqual({ flavor: 'streamer' });
    const after = await open('/websocket', meteor);
    expect(await before.waitFor(() => true)).toEqual({ server_id: '0' });
    expect(await after.waitFor(() => true)).toEqual({ msg: 'server_id', server_id: '0' });
  });
});
