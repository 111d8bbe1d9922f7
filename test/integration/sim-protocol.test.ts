/**
 * Wire-level checks of the Rocket.Chat simulator with a raw WebSocket client: every frame is
 * compared with what Meteor / Rocket.Chat send (docs/simulator-protocol.md §1–§9).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type Frame, RawDdpClient } from '../../sim/raw-ddp-client.js';

let sim: Simulator;
const clients: RawDdpClient[] = [];

async function connected(): Promise<RawDdpClient> {
  const client = await RawDdpClient.connect(sim.wsUrl);
  clients.push(client);
  return client;
}

async function loggedIn(username: string): Promise<RawDdpClient> {
  const client = await RawDdpClient.loggedIn(sim.wsUrl, username, `${username}-pass`);
  clients.push(client);
  return client;
}

const isEvent = (stream: string, eventName: string) => (f: Frame) =>
  f['msg'] === 'changed' &&
  f['collection'] === stream &&
  (f['fields'] as { eventName?: string })?.eventName === eventName;

function eventArgs(frame: Frame): unknown[] {
  return (frame['fields'] as { args: unknown[] }).args;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await sim?.close();
});

describe('handshake', () => {
  it('greets with the Meteor server_id frame, then answers connect with a 17-char session', async () => {
    const client = await RawDdpClient.open(sim.wsUrl);
    clients.push(client);
    const greeting = await client.waitFor(() => true);
    expect(greeting).toEqual({ server_id: '0' });
    client.send({ msg: 'connect', version: '1', support: ['1', 'pre2', 'pre1'] });
    const reply = await client.waitFor((f) => f['msg'] === 'connected');
    expect(Object.keys(reply)).toEqual(['msg', 'session']);
    expect(reply['session']).toMatch(/^[23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz]{17}$/);
  });

  it('accepts pre1 when the client supports it', async () => {
    const client = await RawDdpClient.open(sim.wsUrl);
    clients.push(client);
    client.send({ msg: 'connect', version: 'pre1', support: ['pre1'] });
    await client.waitFor((f) => f['msg'] === 'connected');
  });

  it('answers an unsupported version with failed and closes the socket', async () => {
    const client = await RawDdpClient.open(sim.wsUrl);
    clients.push(client);
    client.send({ msg: 'connect', version: '2', support: ['2'] });
    expect(await client.waitFor((f) => f['msg'] === 'failed')).toEqual({ msg: 'failed', version: '1' });
    await client.closed;
  });

  it('refuses frames before connect, bad JSON and unknown messages the Meteor way', async () => {
    const client = await RawDdpClient.open(sim.wsUrl);
    clients.push(client);
    client.send({ msg: 'method', id: '1', method: 'login', params: [] });
    expect(await client.waitFor((f) => f['msg'] === 'error')).toEqual({
      msg: 'error',
      reason: 'Must connect first',
      offendingMessage: { msg: 'method', id: '1', method: 'login', params: [] },
    });
    client.send({ msg: 'connect', version: '1', support: ['1'] });
    await client.waitFor((f) => f['msg'] === 'connected');
    client.mark();
    client.send('{not json');
    expect(await client.waitFor((f) => f['msg'] === 'error')).toEqual({
      msg: 'error',
      reason: 'Bad request',
    });
    client.mark();
    client.send({ msg: 'bogus', x: 1 });
    expect(await client.waitFor((f) => f['msg'] === 'error')).toEqual({
      msg: 'error',
      reason: 'Bad request',
      offendingMessage: { msg: 'bogus', x: 1 },
    });
  });

  it('accepts the ["<json>"] array framing', async () => {
    const client = await RawDdpClient.open(sim.wsUrl);
    clients.push(client);
    client.send(JSON.stringify([JSON.stringify({ msg: 'connect', version: '1', support: ['1'] })]));
    await client.waitFor((f) => f['msg'] === 'connected');
  });

  it('answers ping with pong, echoing the id only when present', async () => {
    const client = await connected();
    client.mark();
    client.send({ msg: 'ping', id: 'abc' });
    expect(await client.waitFor((f) => f['msg'] === 'pong')).toEqual({ msg: 'pong', id: 'abc' });
    client.mark();
    client.send({ msg: 'ping' });
    expect(await client.waitFor((f) => f['msg'] === 'pong')).toEqual({ msg: 'pong' });
  });
});

describe('login', () => {
  it('password login: users added, then result {id, token, tokenExpires, type}, then updated', async () => {
    const client = await connected();
    const from = client.mark();
    const result = await client.loginWithPassword('alice', 'alice-pass');
    const aliceId = sim.control.userId('alice');
    const frames = client.since(from);
    const added = frames.findIndex((f) => f['msg'] === 'added' && f['collection'] === 'users');
    const resultAt = frames.indexOf(result);
    const updated = frames.findIndex((f) => f['msg'] === 'updated');
    expect(added).toBeGreaterThanOrEqual(0);
    expect(added).toBeLessThan(resultAt);
    expect(resultAt).toBeLessThan(updated);
    expect(frames[added]).toMatchObject({
      msg: 'added',
      collection: 'users',
      id: aliceId,
      fields: { username: 'alice' },
    });
    expect(result['result']).toEqual({
      id: aliceId,
      token: expect.stringMatching(/^[\w-]{43}$/),
      tokenExpires: { $date: expect.any(Number) },
      type: 'password',
    });
  });

  it('resume login returns the same token, type resume; email and plain-string password logins work', async () => {
    const { authToken, userId } = sim.control.tokenFor('bob');
    const client = await connected();
    const resumed = await client.loginWithToken(authToken);
    expect(resumed['result']).toMatchObject({ id: userId, token: authToken, type: 'resume' });
    const other = await connected();
    const byEmail = await other.call('login', [{ user: { email: 'bob@example.com' }, password: 'bob-pass' }]);
    expect(byEmail['result']).toMatchObject({ id: userId, type: 'password' });
  });

  it('bad password: 401 "User not found"; bad token: 403 logged out; expired token: 403 session expired', async () => {
    const client = await connected();
    const bad = await client.loginWithPassword('alice', 'wrong');
    expect(bad['error']).toEqual({
      isClientSafe: true,
      error: 401,
      reason: 'User not found',
      message: 'User not found [401]',
      errorType: 'Meteor.Error',
    });
    const badToken = await client.loginWithToken('no-such-token');
    expect(badToken['error']).toMatchObject({
      error: 403,
      reason: "You've been logged out by the server. Please log in again.",
    });
    sim.control.createUser({ username: 'erin', password: 'erin-pass' });
    const { authToken } = sim.control.tokenFor('erin');
    sim.control.expireTokens('erin');
    const expired = await client.loginWithToken(authToken);
    expect(expired['error']).toMatchObject({
      error: 403,
      reason: 'Your session has expired. Please log in again.',
    });
    expect(sim.control.loginAttempts('erin')).toBe(1);
  });
});

describe('methods', () => {
  it('unknown method: 404 error object exactly as Meteor sends it, then updated', async () => {
    const client = await loggedIn('alice');
    const reply = await client.call('foo', [], 'x1');
    expect(reply).toEqual({
      msg: 'result',
      id: 'x1',
      error: {
        isClientSafe: true,
        error: 404,
        reason: "Method 'foo' not found",
        message: "Method 'foo' not found [404]",
        errorType: 'Meteor.Error',
      },
    });
  });

  it('methods of one connection answer in call order', async () => {
    const client = await loggedIn('alice');
    const ids = ['a1', 'a2', 'a3', 'a4'];
    for (const id of ids) {
      client.send({
        msg: 'method',
        id,
        method: id === 'a2' ? 'rooms/get' : 'getRoomRoles',
        params: ['GENERAL'],
      });
    }
    await client.waitFor((f) => f['msg'] === 'updated' && (f['methods'] as string[]).includes('a4'));
    const order = client
      .since()
      .filter((f) => f['msg'] === 'result')
      .map((f) => f['id']);
    expect(order).toEqual(ids);
  });

  it('runs pipelined sendMessage calls one at a time in arrival order (Meteor: no this.unblock())', async () => {
    // A slow call first: were the connection's methods run concurrently, the sends behind it
    // would be stored and answered before it.
    sim.control.slowMethod('getRoomRoles', 150);
    try {
      const client = await loggedIn('alice');
      const from = client.mark();
      client.send({ msg: 'method', id: 'slow', method: 'getRoomRoles', params: ['GENERAL'] });
      const texts = Array.from({ length: 16 }, (_, i) => `pipelined ${i}`);
      for (const [i, msg] of texts.entries())
        client.send({ msg: 'method', id: `s${i}`, method: 'sendMessage', params: [{ rid: 'GENERAL', msg }] });
      await client.waitFor((f) => f['msg'] === 'result' && f['id'] === 's15', { from });
      const results = client
        .since(from)
        .filter((f) => f['msg'] === 'result')
        .map((f) => f['id']);
      expect(results).toEqual(['slow', ...texts.map((_, i) => `s${i}`)]);
      const stored = sim.control
        .roomMessages('GENERAL')
        .map((m) => m.msg)
        .filter((m) => m.startsWith('pipelined '));
      expect(stored).toEqual(texts);
    } finally {
      sim.control.slowMethod('getRoomRoles', 0);
    }
  });

  it('sendMessage honours the client _id; a duplicate _id gets a result without a result key and no event', async () => {
    const client = await loggedIn('alice');
    await client.sub('stream-room-messages', ['GENERAL', { useCollection: false, args: [] }]);
    const _id = 'DupDupDupDupDup17';
    const from = client.mark();
    const first = await client.call('sendMessage', [{ _id, rid: 'GENERAL', msg: 'hello @bob' }]);
    expect(first['result']).toMatchObject({
      _id,
      rid: 'GENERAL',
      msg: 'hello @bob',
      ts: { $date: expect.any(Number) },
      _updatedAt: { $date: expect.any(Number) },
      u: { _id: sim.control.userId('alice'), username: 'alice', name: 'Alice' },
      urls: [],
      channels: [],
      mentions: [{ _id: sim.control.userId('bob'), username: 'bob', name: 'Bob', type: 'user' }],
      md: [
        {
          type: 'PARAGRAPH',
          value: [
            { type: 'PLAIN_TEXT', value: 'hello ' },
            { type: 'MENTION_USER', value: { type: 'PLAIN_TEXT', value: 'bob' } },
          ],
        },
      ],
    });
    const event = await client.waitFor(isEvent('stream-room-messages', 'GENERAL'), { from });
    expect(eventArgs(event)[0]).toMatchObject({ _id, msg: 'hello @bob' });

    const second = client.mark();
    const duplicate = await client.call('sendMessage', [{ _id, rid: 'GENERAL', msg: 'again' }]);
    expect(Object.keys(duplicate)).toEqual(['msg', 'id']);
    expect(client.since(second).filter(isEvent('stream-room-messages', 'GENERAL'))).toEqual([]);
    expect(sim.control.roomMessages('GENERAL').filter((m) => m._id === _id)).toHaveLength(1);
  });

  it('swallowed sendMessage errors: void result and an ephemeral rocket.cat message', async () => {
    const client = await loggedIn('alice');
    const aliceId = sim.control.userId('alice');
    await client.sub('stream-notify-user', [`${aliceId}/message`, false]);
    const from = client.mark();
    const reply = await client.call('sendMessage', [{ rid: 'no-such-room', msg: 'hi' }]);
    expect(Object.keys(reply)).toEqual(['msg', 'id']);
    const ephemeral = await client.waitFor(isEvent('stream-notify-user', `${aliceId}/message`), { from });
    expect(eventArgs(ephemeral)[0]).toMatchObject({
      msg: 'Invalid room',
      rid: 'no-such-room',
      u: { _id: 'rocket.cat', username: 'rocket.cat' },
      private: true,
      groupable: false,
    });
  });

  it('error-not-allowed is not swallowed: a non-member of a private group gets the error', async () => {
    const client = await loggedIn('carol');
    const ops = sim.control.createRoom({ t: 'p', name: 'ops-2', members: ['alice'] });
    const reply = await client.call('sendMessage', [{ rid: ops._id, msg: 'let me in' }]);
    expect(reply['error']).toEqual({
      isClientSafe: true,
      error: 'error-not-allowed',
      details: { method: 'sendMessage' },
      message: '[error-not-allowed]',
      errorType: 'Meteor.Error',
    });
  });

  it('edits and reactions re-emit the full message with a bumped _updatedAt; deletes emit deleteMessage', async () => {
    const client = await loggedIn('alice');
    await client.sub('stream-room-messages', ['GENERAL', false]);
    await client.sub('stream-notify-room', ['GENERAL/deleteMessage', false]);
    const sent = await client.call('sendMessage', [{ rid: 'GENERAL', msg: 'v1' }]);
    const message = sent['result'] as { _id: string; _updatedAt: { $date: number } };
    let from = client.mark();
    await client.call('updateMessage', [{ _id: message._id, rid: 'GENERAL', msg: 'v2' }]);
    const edited = eventArgs(
      await client.waitFor(isEvent('stream-room-messages', 'GENERAL'), { from }),
    )[0] as Frame;
    expect(edited).toMatchObject({ _id: message._id, msg: 'v2', editedBy: { username: 'alice' } });
    expect((edited['_updatedAt'] as { $date: number }).$date).toBeGreaterThan(message._updatedAt.$date);
    from = client.mark();
    await client.call('setReaction', [':+1:', message._id]);
    const reacted = eventArgs(await client.waitFor(isEvent('stream-room-messages', 'GENERAL'), { from }))[0];
    expect(reacted).toMatchObject({
      _id: message._id,
      msg: 'v2',
      reactions: { ':+1:': { usernames: ['alice'] } },
    });
    from = client.mark();
    await client.call('deleteMessage', [{ _id: message._id }]);
    const deleted = await client.waitFor(isEvent('stream-notify-room', 'GENERAL/deleteMessage'), { from });
    expect(eventArgs(deleted)).toEqual([{ _id: message._id }]);
  });
});

describe('subscriptions', () => {
  it('ready for a readable room; events carry the full message with EJSON dates', async () => {
    const client = await loggedIn('alice');
    expect(
      await client.sub('stream-room-messages', ['GENERAL', { useCollection: false, args: [] }], 'r1'),
    ).toEqual({
      msg: 'ready',
      subs: ['r1'],
    });
    const from = client.mark();
    const posted = sim.control.postMessage('bob', 'GENERAL', 'from bob');
    const event = await client.waitFor(isEvent('stream-room-messages', 'GENERAL'), { from });
    expect(Object.keys(event)).toEqual(['msg', 'collection', 'id', 'fields']);
    expect(event['id']).toBe('id');
    expect(eventArgs(event)).toEqual([
      expect.objectContaining({ _id: posted._id, msg: 'from bob', ts: { $date: posted.ts.getTime() } }),
    ]);
  });

  it('nosub not-allowed for a private group, another user’s stream, and when logged out', async () => {
    const client = await loggedIn('carol');
    const opsId = sim.control.createRoom({ t: 'p', name: 'ops-3', members: ['alice', 'bob'] })._id;
    const notAllowed = {
      isClientSafe: true,
      error: 'not-allowed',
      message: '[not-allowed]',
      errorType: 'Meteor.Error',
    };
    expect(await client.sub('stream-room-messages', [opsId, false], 'n1')).toEqual({
      msg: 'nosub',
      id: 'n1',
      error: notAllowed,
    });
    const bobId = sim.control.userId('bob');
    expect(await client.sub('stream-notify-user', [`${bobId}/message`, false], 'n2')).toEqual({
      msg: 'nosub',
      id: 'n2',
      error: notAllowed,
    });
    const anonymous = await connected();
    expect(await anonymous.sub('stream-notify-logged', ['user-status', false], 'n3')).toMatchObject({
      error: notAllowed,
    });
  });

  it('unknown publication: nosub 404; unsub: nosub without error; a reused id works again', async () => {
    const client = await loggedIn('alice');
    expect(await client.sub('no-such-pub', [], 'u1')).toEqual({
      msg: 'nosub',
      id: 'u1',
      error: {
        isClientSafe: true,
        error: 404,
        reason: "Subscription 'no-such-pub' not found",
        message: "Subscription 'no-such-pub' not found [404]",
        errorType: 'Meteor.Error',
      },
    });
    await client.sub('stream-room-messages', ['GENERAL', false], 'u2');
    const from = client.mark();
    client.send({ msg: 'unsub', id: 'u2' });
    expect(await client.waitFor((f) => f['msg'] === 'nosub', { from })).toEqual({ msg: 'nosub', id: 'u2' });
    expect(await client.sub('stream-room-messages', ['GENERAL', false], 'u2')).toEqual({
      msg: 'ready',
      subs: ['u2'],
    });
  });

  it('logout: void result, user-bound subscriptions get nosub, users doc removed', async () => {
    const client = await loggedIn('alice');
    const aliceId = sim.control.userId('alice');
    await client.sub('stream-notify-user', [`${aliceId}/rooms-changed`, false], 'l1');
    const from = client.mark();
    const reply = await client.call('logout', []);
    expect(Object.keys(reply)).toEqual(['msg', 'id']);
    const frames = client.since(from);
    expect(frames).toContainEqual({
      msg: 'nosub',
      id: 'l1',
      error: expect.objectContaining({ error: 'not-allowed' }),
    });
    expect(frames).toContainEqual({ msg: 'removed', collection: 'users', id: aliceId });
    const after = await client.call('rooms/get', []);
    expect(after['result']).toEqual([]);
  });

  it('typing through stream-notify-room reaches other members in both forms, not the sender', async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    await bob.sub('stream-notify-room', ['GENERAL/typing', false]);
    await bob.sub('stream-notify-room', ['GENERAL/user-activity', false]);
    await alice.sub('stream-notify-room', ['GENERAL/typing', false]);
    const aliceFrom = alice.mark();
    const bobFrom = bob.mark();
    const reply = await alice.call('stream-notify-room', ['GENERAL/typing', 'alice', true]);
    expect(Object.keys(reply)).toEqual(['msg', 'id']);
    expect(
      eventArgs(await bob.waitFor(isEvent('stream-notify-room', 'GENERAL/typing'), { from: bobFrom })),
    ).toEqual(['alice', true]);
    expect(
      eventArgs(await bob.waitFor(isEvent('stream-notify-room', 'GENERAL/user-activity'), { from: bobFrom })),
    ).toEqual(['alice', ['user-typing'], null]);
    expect(alice.since(aliceFrom).filter(isEvent('stream-notify-room', 'GENERAL/typing'))).toEqual([]);
  });

  it('logout destroys the token: other connections resumed with it are closed, resume fails', async () => {
    const { authToken } = sim.control.tokenFor('bob');
    const first = await connected();
    const second = await connected();
    await first.loginWithToken(authToken);
    await second.loginWithToken(authToken);
    await first.call('logout', []);
    await second.closed;
    expect(first.isOpen).toBe(true);
    expect((await first.loginWithToken(authToken))['error']).toMatchObject({ error: 403 });
  });
});

describe('options', () => {
  it('updatedBeforeResult sends updated first, as Meteor does for methods without writes', async () => {
    const meteorOrder = await startSimulator({ port: 0, rateLimits: false, updatedBeforeResult: true });
    const client = await RawDdpClient.connect(meteorOrder.wsUrl);
    try {
      const from = client.mark();
      await client.call('rooms/get', [], 'o1');
      expect(client.since(from).map((f) => f['msg'])).toEqual(['updated', 'result']);
    } finally {
      await client.close();
      await meteorOrder.close();
    }
  });

  it('maskLoginErrors answers bad resume tokens like the RC >= 6 monolith: 401 "User not found"', async () => {
    const masked = await startSimulator({ port: 0, rateLimits: false, maskLoginErrors: true });
    const client = await RawDdpClient.connect(masked.wsUrl);
    try {
      expect((await client.loginWithToken('nope'))['error']).toMatchObject({
        error: 401,
        reason: 'User not found',
      });
    } finally {
      await client.close();
      await masked.close();
    }
  });
});
