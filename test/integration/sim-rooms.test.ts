/**
 * The simulator's room, history and presence methods over DDP, and the user-scoped events they
 * cause (rooms-changed, subscriptions-changed, __my_messages__, user-status).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type Frame, RawDdpClient, waitUntil } from '../../sim/raw-ddp-client.js';

let sim: Simulator;
const clients: RawDdpClient[] = [];

async function loggedIn(username: string): Promise<RawDdpClient> {
  const client = await RawDdpClient.connect(sim.wsUrl);
  clients.push(client);
  const result = await client.loginWithPassword(username, `${username}-pass`);
  expect(result['error']).toBeUndefined();
  client.mark();
  return client;
}

const isEvent = (stream: string, eventName: string) => (f: Frame) =>
  f['msg'] === 'changed' &&
  f['collection'] === stream &&
  (f['fields'] as { eventName?: string })?.eventName === eventName;

const args = (frame: Frame): unknown[] => (frame['fields'] as { args: unknown[] }).args;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  // Presence tests need the server to have seen the previous sockets go.
  await waitUntil(() => sim.control.connectionCount() === 0, 5000, 'server-side close');
});

afterAll(async () => {
  await sim?.close();
});

describe('seed', () => {
  it('has GENERAL, ops and the alice–bob DM with subscriptions for each member', async () => {
    const alice = await loggedIn('alice');
    const rooms = (await alice.call('rooms/get', []))['result'] as {
      _id: string;
      t: string;
      name?: string;
    }[];
    const aliceId = sim.control.userId('alice');
    const bobId = sim.control.userId('bob');
    const dmId = [aliceId, bobId].sort().join('');
    expect(rooms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ _id: 'GENERAL', t: 'c', name: 'general' }),
        expect.objectContaining({ t: 'p', name: 'ops' }),
        expect.objectContaining({
          _id: dmId,
          t: 'd',
          usernames: ['alice', 'bob'],
          uids: [aliceId, bobId].sort(),
        }),
      ]),
    );
    const subs = (await alice.call('subscriptions/get', []))['result'] as { rid: string; name: string }[];
    expect(subs.find((s) => s.rid === dmId)?.name).toBe('bob');
    expect(subs.map((s) => s.rid)).toContain('GENERAL');
    const carol = await loggedIn('carol');
    const carolRooms = (await carol.call('rooms/get', []))['result'] as { name?: string }[];
    expect(carolRooms.map((r) => r.name)).not.toContain('ops');
  });
});

describe('room lifecycle', () => {
  it('createChannel, join, leave with rooms-changed / subscriptions-changed and system messages', async () => {
    const alice = await loggedIn('alice');
    const carol = await loggedIn('carol');
    const carolId = sim.control.userId('carol');
    await carol.sub('stream-notify-user', [`${carolId}/rooms-changed`, false]);
    await carol.sub('stream-notify-user', [`${carolId}/subscriptions-changed`, false]);

    const created = (await alice.call('createChannel', ['lifecycle', ['bob'], false]))['result'] as {
      rid: string;
      name: string;
    };
    expect(created).toMatchObject({ rid: expect.any(String), name: 'lifecycle' });
    const roles = (await alice.call('getRoomRoles', [created.rid]))['result'];
    expect(roles).toEqual([
      expect.objectContaining({
        rid: created.rid,
        u: expect.objectContaining({ username: 'alice' }),
        roles: ['owner'],
      }),
    ]);

    const from = carol.mark();
    expect((await carol.call('joinRoom', [created.rid]))['result']).toBe(true);
    const subEvent = await carol.waitFor(isEvent('stream-notify-user', `${carolId}/subscriptions-changed`), {
      from,
    });
    expect(args(subEvent)).toEqual([
      'inserted',
      expect.objectContaining({ rid: created.rid, name: 'lifecycle', t: 'c' }),
    ]);
    const roomEvent = await carol.waitFor(isEvent('stream-notify-user', `${carolId}/rooms-changed`), {
      from,
    });
    expect(args(roomEvent)).toEqual([
      'inserted',
      expect.objectContaining({ _id: created.rid, name: 'lifecycle' }),
    ]);
    expect(sim.control.roomMessages(created.rid).map((m) => [m.t, m.msg])).toContainEqual(['uj', 'carol']);

    const leaveFrom = carol.mark();
    await carol.call('leaveRoom', [created.rid]);
    const removed = await carol.waitFor(isEvent('stream-notify-user', `${carolId}/subscriptions-changed`), {
      from: leaveFrom,
    });
    expect(args(removed)).toEqual([
      'removed',
      expect.objectContaining({ rid: created.rid, u: expect.anything() }),
    ]);
    expect((await alice.call('leaveRoom', [created.rid]))['error']).toMatchObject({
      error: 'error-you-are-last-owner',
    });
    expect((await alice.call('createChannel', ['lifecycle', []]))['error']).toMatchObject({
      error: 'error-duplicate-channel-name',
    });
  });

  it('favourite, hide/open, read marks, owner role and archive', async () => {
    const alice = await loggedIn('alice');
    expect((await alice.call('toggleFavorite', ['GENERAL', true]))['result']).toBe(1);
    expect((await alice.call('toggleFavorite', ['GENERAL', true]))['result']).toBe(0);
    expect((await alice.call('hideRoom', ['GENERAL']))['result']).toBe(1);
    expect((await alice.call('openRoom', ['GENERAL']))['result']).toBe(1);
    sim.control.postMessage('bob', 'GENERAL', 'unread for alice');
    const before = (
      (await alice.call('subscriptions/get', []))['result'] as { rid: string; unread: number }[]
    ).find((s) => s.rid === 'GENERAL');
    expect(before?.unread).toBeGreaterThan(0);
    const reply = await alice.call('readMessages', ['GENERAL']);
    expect(Object.keys(reply)).toEqual(['msg', 'id']);
    const after = (
      (await alice.call('subscriptions/get', []))['result'] as { rid: string; unread: number }[]
    ).find((s) => s.rid === 'GENERAL');
    expect(after).toMatchObject({ unread: 0, alert: false });

    const room = (await alice.call('createPrivateGroup', ['archive-me', ['bob']]))['result'] as {
      rid: string;
    };
    const bobId = sim.control.userId('bob');
    expect((await alice.call('addRoomModerator', [room.rid, bobId]))['result']).toBe(true);
    expect((await alice.call('addRoomModerator', [room.rid, bobId]))['error']).toMatchObject({
      error: 'error-user-already-moderator',
    });
    expect((await alice.call('saveRoomSettings', [room.rid, 'roomTopic', 'hello']))['result']).toEqual({
      result: true,
      rid: room.rid,
    });
    expect(Object.keys(await alice.call('archiveRoom', [room.rid]))).toEqual(['msg', 'id']);
    expect((await alice.call('getRoomById', [room.rid]))['result']).toMatchObject({
      archived: true,
      topic: 'hello',
    });
    const bob = await loggedIn('bob');
    expect(Object.keys(await bob.call('sendMessage', [{ rid: room.rid, msg: 'archived?' }]))).toEqual([
      'msg',
      'id',
    ]);
  });

  it('createDirectMessage returns the sorted-id DM and getRoomNameById / getRoomByTypeAndName work', async () => {
    const carol = await loggedIn('carol');
    const dm = (await carol.call('createDirectMessage', ['alice']))['result'] as { rid: string; t: string };
    expect(dm).toMatchObject({
      t: 'd',
      rid: [sim.control.userId('carol'), sim.control.userId('alice')].sort().join(''),
    });
    expect((await carol.call('getRoomNameById', ['GENERAL']))['result']).toBe('general');
    expect((await carol.call('getRoomByTypeAndName', ['c', 'general']))['result']).toMatchObject({
      _id: 'GENERAL',
    });
  });
});

describe('history', () => {
  it('loadHistory newest first with end; loadMissedMessages; messages/get in both forms', async () => {
    const alice = await loggedIn('alice');
    const room = sim.control.createRoom({ t: 'c', name: 'history', members: ['alice', 'bob'] });
    const posted = ['h1', 'h2', 'h3', 'h4'].map((text) => sim.control.postMessage('bob', room._id, text));
    const last = posted[3]!;
    const history = (await alice.call('loadHistory', [room._id, { $date: last.ts.getTime() }, 2, null]))[
      'result'
    ] as { messages: { msg: string }[]; unreadNotLoaded: number };
    expect(history.messages.map((m) => m.msg)).toEqual(['h3', 'h2']);
    expect(history.unreadNotLoaded).toBe(0);
    const missed = (await alice.call('loadMissedMessages', [room._id, { $date: posted[1]!.ts.getTime() }]))[
      'result'
    ] as { msg: string }[];
    expect(missed.map((m) => m.msg)).toEqual(['h4', 'h3']);
    expect((await alice.call('loadHistory', ['nope']))['result']).toBe(false);

    const since = { $date: posted[1]!._updatedAt.getTime() };
    const legacy = (await alice.call('messages/get', [room._id, { lastUpdate: since }]))['result'] as {
      updated: { msg: string }[];
    };
    expect(legacy.updated.map((m) => m.msg)).toEqual(['h4', 'h3']);
    const cursor = (await alice.call('messages/get', [room._id, { type: 'UPDATED', next: '0', count: 3 }]))[
      'result'
    ] as { updated: { msg: string }[]; cursor: { next: string | null } };
    expect(cursor.updated.map((m) => m.msg)).toEqual(['h1', 'h2', 'h3']);
    expect(cursor.cursor.next).toBe(String(posted[2]!._updatedAt.getTime()));
    expect((await alice.call('messages/get', [room._id, { next: '0' }]))['error']).toMatchObject({
      error: 'error-type-param-required',
    });
  });

  it('sendMessage accepts an EJSON ts within 10 s and rejects one a minute off', async () => {
    const alice = await loggedIn('alice');
    const ts = Date.now() - 5000;
    const kept = await alice.call('sendMessage', [{ rid: 'GENERAL', msg: 'old-ish', ts: { $date: ts } }]);
    expect(kept['result']).toMatchObject({ ts: { $date: ts } });
    // Out-of-sync timestamps are swallowed like other sendMessage errors: void result.
    const off = await alice.call('sendMessage', [
      { rid: 'GENERAL', msg: 'stale', ts: { $date: ts - 120_000 } },
    ]);
    expect(Object.keys(off)).toEqual(['msg', 'id']);
  });
});

describe('user-scoped streams', () => {
  it('__my_messages__ carries the message and the permission result', async () => {
    const alice = await loggedIn('alice');
    await alice.sub('stream-room-messages', ['__my_messages__', { useCollection: false, args: [] }]);
    const from = alice.mark();
    const posted = sim.control.postMessage('bob', 'GENERAL', 'for everyone');
    const event = await alice.waitFor(isEvent('stream-room-messages', '__my_messages__'), { from });
    expect(args(event)).toEqual([
      expect.objectContaining({ _id: posted._id }),
      { roomParticipant: true, roomType: 'c', roomName: 'general' },
    ]);
  });

  it('user-status on stream-notify-logged follows logins and setPresence', async () => {
    const bob = await loggedIn('bob');
    await bob.sub('stream-notify-logged', ['user-status', false]);
    const carolId = sim.control.userId('carol');
    let from = bob.mark();
    await loggedIn('carol');
    const online = await bob.waitFor(
      (f) => isEvent('stream-notify-logged', 'user-status')(f) && (args(f)[0] as unknown[])[0] === carolId,
      { from },
    );
    expect(args(online)).toEqual([[carolId, 'carol', 1, null, 'Carol', ['user']]]);
    from = bob.mark();
    sim.control.setPresence('carol', 'busy', 'in a meeting');
    const busy = await bob.waitFor(isEvent('stream-notify-logged', 'user-status'), { from });
    expect(args(busy)).toEqual([[carolId, 'carol', 3, 'in a meeting', 'Carol', ['user']]]);
  });

  it("stream-user-presence: the first subscription receives watched users' status changes", async () => {
    const bob = await loggedIn('bob');
    const aliceId = sim.control.userId('alice');
    expect(await bob.sub('stream-user-presence', ['', { added: [aliceId], removed: [] }], 'p1')).toEqual({
      msg: 'ready',
      subs: ['p1'],
    });
    // A second subscription only edits the watch list and stops at once.
    expect(await bob.sub('stream-user-presence', ['', { added: [], removed: [] }], 'p2')).toEqual({
      msg: 'nosub',
      id: 'p2',
    });
    const from = bob.mark();
    sim.control.setPresence('alice', 'away');
    const frame = await bob.waitFor((f) => f['collection'] === 'stream-user-presence', { from });
    expect(frame).toEqual({
      msg: 'changed',
      collection: 'stream-user-presence',
      id: aliceId,
      fields: { uid: aliceId, args: ['alice', 2, null], eventName: aliceId },
    });
  });
});
