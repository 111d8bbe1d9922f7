import { describe, expect, it } from 'vitest';
import {
  normalizeStreamEvent,
  normalizeSyncedDeletion,
  normalizeSyncedMessage,
  type SkipReason,
  type StreamEventInput,
} from '../../src/rocketchat/normalize.js';

const UID = 'uidA';
const RECEIVED_MS = 1732550001000;
const RECEIVED_ISO = '2024-11-25T15:53:21.000Z';

/** A DDP `changed` frame exactly as it crosses the wire, turned into the normalizer's input. */
function frame(json: string, userId = UID): StreamEventInput {
  const message = JSON.parse(json) as { collection: string; fields: { eventName: string; args: unknown[] } };
  return {
    collection: message.collection,
    eventName: message.fields.eventName,
    args: message.fields.args,
    userId,
    receivedAtMs: RECEIVED_MS,
  };
}

function input(collection: string, eventName: string, args: unknown[], userId = UID): StreamEventInput {
  return { collection, eventName, args, userId, receivedAtMs: RECEIVED_MS };
}

/** Normalizes and records skips. */
function run(event: StreamEventInput): {
  events: ReturnType<typeof normalizeStreamEvent>;
  skips: SkipReason[];
} {
  const skips: SkipReason[] = [];
  const events = normalizeStreamEvent(event, (reason) => skips.push(reason));
  return { events, skips };
}

// docs/simulator-protocol.md §5 IMessage, with the optional fields a first sighting has.
const IMESSAGE = {
  _id: 'aBcDeFgHiJkLmNoPq',
  rid: 'GENERAL',
  msg: 'hello @bob',
  ts: { $date: 1732550000000 },
  u: { _id: 'uidA', username: 'alice', name: 'Alice' },
  _updatedAt: { $date: 1732550000123 },
  urls: [],
  mentions: [{ _id: 'uidB', username: 'bob', name: 'Bob', type: 'user' }],
  channels: [],
  md: [
    {
      type: 'PARAGRAPH',
      value: [
        { type: 'PLAIN_TEXT', value: 'hello ' },
        { type: 'MENTION_USER', value: { type: 'PLAIN_TEXT', value: 'bob' } },
      ],
    },
  ],
};
const IMESSAGE_JSON = {
  ...IMESSAGE,
  ts: '2024-11-25T15:53:20.000Z',
  _updatedAt: '2024-11-25T15:53:20.123Z',
};

const roomMessages = (eventName: string, ...args: unknown[]) =>
  input('stream-room-messages', eventName, args);

describe('stream-room-messages', () => {
  it('turns the doc transcript frame into message.created with ISO dates and dedupe keys', () => {
    const { events, skips } = run(
      frame(
        '{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"GENERAL","args":[{"_id":"m1m1m1m1m1m1m1m1m","rid":"GENERAL","msg":"hi","ts":{"$date":1732550000000},"u":{"_id":"uidA","username":"alice","name":"Alice"},"_updatedAt":{"$date":1732550000000},"urls":[],"mentions":[],"channels":[],"md":[{"type":"PARAGRAPH","value":[{"type":"PLAIN_TEXT","value":"hi"}]}]}]}}',
      ),
    );
    expect(skips).toEqual([]);
    expect(events).toEqual([
      {
        type: 'message.created',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: {
          _id: 'm1m1m1m1m1m1m1m1m',
          rid: 'GENERAL',
          msg: 'hi',
          ts: '2024-11-25T15:53:20.000Z',
          u: { _id: 'uidA', username: 'alice', name: 'Alice' },
          _updatedAt: '2024-11-25T15:53:20.000Z',
          urls: [],
          mentions: [],
          channels: [],
          md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: 'hi' }] }],
        },
        dedupe: { messageId: 'm1m1m1m1m1m1m1m1m', updatedAtMs: 1732550000000 },
      },
    ]);
  });

  it('keeps the whole IMessage (mentions, md) and converts dates nested anywhere in args', () => {
    const message = {
      ...IMESSAGE,
      tmid: 'parentParentParen',
      attachments: [{ text: 'quoted', ts: { $date: 1732540000000 } }],
      file: { _id: 'f1', name: 'a.png', type: 'image/png' },
    };
    const [event] = normalizeStreamEvent(roomMessages('GENERAL', message));
    expect(event?.type).toBe('message.created'); // a thread reply is new: tmid is set at insert
    expect(event?.data).toEqual({
      ...IMESSAGE_JSON,
      tmid: 'parentParentParen',
      attachments: [{ text: 'quoted', ts: '2024-11-25T13:06:40.000Z' }],
      file: { _id: 'f1', name: 'a.png', type: 'image/png' },
    });
    expect(event?.dedupe).toEqual({ messageId: IMESSAGE._id, updatedAtMs: 1732550000123 });
  });

  it('does not mutate the frame', () => {
    const message = structuredClone(IMESSAGE);
    normalizeStreamEvent(roomMessages('GENERAL', message));
    expect(message).toEqual(IMESSAGE);
  });

  it('takes __my_messages__ frames and drops their room-meta second arg', () => {
    const { events } = run(
      frame(
        `{"msg":"changed","collection":"stream-room-messages","id":"id","fields":{"eventName":"__my_messages__","args":[${JSON.stringify(
          { ...IMESSAGE, rid: 'Xq3Lr9ZkT2nWb7YcH' },
        )},{"roomParticipant":true,"roomType":"c","roomName":"general"}]}}`,
      ),
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'message.created', roomId: 'Xq3Lr9ZkT2nWb7YcH' });
    expect(events[0]?.data).toEqual({ ...IMESSAGE_JSON, rid: 'Xq3Lr9ZkT2nWb7YcH' });
    expect(JSON.stringify(events[0])).not.toContain('roomParticipant');
  });

  it('skips _hidden edit-history copies as ignored', () => {
    const { events, skips } = run(
      roomMessages('GENERAL', { ...IMESSAGE, _hidden: true, parent: IMESSAGE._id }),
    );
    expect(events).toEqual([]);
    expect(skips).toEqual(['ignored']);
  });

  it('reports t:\'rm\' (deleted, shown as "message removed") as message.deleted with a deletion dedupe', () => {
    const removed = {
      ...IMESSAGE,
      msg: '',
      t: 'rm',
      urls: [],
      mentions: [],
      attachments: [],
      reactions: [],
      editedAt: { $date: 1732550005000 },
      editedBy: { _id: 'uidA', username: 'alice' },
      _updatedAt: { $date: 1732550005001 },
    };
    const [event] = normalizeStreamEvent(roomMessages('GENERAL', removed));
    expect(event).toMatchObject({
      type: 'message.deleted',
      roomId: 'GENERAL',
      data: { _id: IMESSAGE._id, t: 'rm', msg: '', editedAt: '2024-11-25T15:53:25.000Z' },
      dedupe: { messageId: IMESSAGE._id, updatedAtMs: 1732550005001, deleted: true },
    });
  });

  it.each([
    ['an edit', { editedAt: { $date: 1732550009000 }, editedBy: { _id: 'uidA', username: 'alice' } }],
    ['a reaction', { reactions: { ':+1:': { usernames: ['bob'] } } }],
    ['reactions all removed', { reactions: {} }],
    ['a pin', { pinned: true, pinnedAt: { $date: 1732550009000 }, pinnedBy: { _id: 'uidB' } }],
    ['an unpin', { pinned: false, pinnedAt: { $date: 1732550009000 } }],
    ['thread replies', { tcount: 3, tlm: { $date: 1732550009000 }, replies: ['uidB'] }],
    ['a discussion started from it', { drid: 'Disc0Disc0Disc0Di' }],
    ['discussion activity', { t: 'discussion-created', drid: 'Disc0Disc0Disc0Di', dcount: 2 }],
    ['a star', { starred: [{ _id: 'uidB' }] }],
  ])('reports a message showing %s as message.updated', (_, change) => {
    const [event] = normalizeStreamEvent(roomMessages('GENERAL', { ...IMESSAGE, ...change }));
    expect(event?.type).toBe('message.updated');
    expect(event?.dedupe).toEqual({ messageId: IMESSAGE._id, updatedAtMs: 1732550000123 });
  });

  it('reports a fresh discussion-created system message (drid set at insert) as message.created', () => {
    const [event] = normalizeStreamEvent(
      roomMessages('GENERAL', {
        ...IMESSAGE,
        t: 'discussion-created',
        drid: 'Disc0Disc0Disc0Di',
        msg: 'topic',
      }),
    );
    expect(event?.type).toBe('message.created');
  });

  it('uses the eventName as room when a <rid> frame lacks rid, but never for __my_messages__', () => {
    const { rid: _, ...noRid } = IMESSAGE;
    expect(normalizeStreamEvent(roomMessages('GENERAL', noRid))[0]?.roomId).toBe('GENERAL');
    const { events, skips } = run(roomMessages('__my_messages__', noRid, {}));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
  });

  it.each([
    ['no args', []],
    ['a null message', [null]],
    ['a string message', ['hello']],
    ['an array message', [[IMESSAGE]]],
    ['a message without _id', [{ ...IMESSAGE, _id: undefined }]],
    ['a message with an empty _id', [{ ...IMESSAGE, _id: '' }]],
    ['a message with a numeric _id', [{ ...IMESSAGE, _id: 7 }]],
    ['a message without any date', [{ ...IMESSAGE, ts: undefined, _updatedAt: undefined }]],
    ['a message with a broken date', [{ ...IMESSAGE, ts: { $date: 'x' }, _updatedAt: { $date: null } }]],
  ])('drops %s as malformed, without throwing', (_, args) => {
    const { events, skips } = run(roomMessages('GENERAL', ...args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
  });
});

describe('stream-notify-room', () => {
  it('turns <rid>/deleteMessage into message.deleted {_id, rid}', () => {
    const { events } = run(
      frame(
        '{"msg":"changed","collection":"stream-notify-room","id":"id","fields":{"eventName":"GENERAL/deleteMessage","args":[{"_id":"aBcDeFgHiJkLmNoPq"}]}}',
      ),
    );
    expect(events).toEqual([
      {
        type: 'message.deleted',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: { _id: 'aBcDeFgHiJkLmNoPq', rid: 'GENERAL' },
        dedupe: { messageId: 'aBcDeFgHiJkLmNoPq', updatedAtMs: 0, deleted: true },
      },
    ]);
  });

  it('turns <rid>/deleteMessageBulk into ONE message.deleted carrying the query, dates as ISO', () => {
    const { events } = run(
      frame(
        '{"msg":"changed","collection":"stream-notify-room","id":"id","fields":{"eventName":"GENERAL/deleteMessageBulk","args":[{"rid":"GENERAL","excludePinned":false,"ignoreDiscussion":true,"ts":{"$gte":{"$date":1732540000000},"$lte":{"$date":1732550000000}},"users":[],"ids":["m1"],"showDeletedStatus":false,"filesOnly":false}]}}',
      ),
    );
    expect(events).toEqual([
      {
        type: 'message.deleted',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: {
          rid: 'GENERAL',
          bulk: true,
          excludePinned: false,
          ignoreDiscussion: true,
          ts: { $gte: '2024-11-25T13:06:40.000Z', $lte: '2024-11-25T15:53:20.000Z' },
          users: [],
          ids: ['m1'],
          showDeletedStatus: false,
          filesOnly: false,
        },
      },
    ]);
    expect(Object.keys(events[0]?.data as object).slice(0, 2)).toEqual(['rid', 'bulk']);
  });

  it('turns <rid>/typing ["alice", true|false] into typing', () => {
    const start = run(
      frame(
        '{"msg":"changed","collection":"stream-notify-room","id":"id","fields":{"eventName":"GENERAL/typing","args":["alice",true]}}',
      ),
    );
    expect(start.events).toEqual([
      {
        type: 'typing',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: { username: 'alice', typing: true },
      },
    ]);
    const stop = normalizeStreamEvent(input('stream-notify-room', 'GENERAL/typing', ['alice', false]));
    expect(stop[0]?.data).toEqual({ username: 'alice', typing: false });
  });

  it('turns <rid>/user-activity into the same typing event, keeping the activities', () => {
    const typing = normalizeStreamEvent(
      input('stream-notify-room', 'GENERAL/user-activity', ['alice', ['user-typing'], { tmid: 'x' }]),
    );
    expect(typing).toEqual([
      {
        type: 'typing',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: { username: 'alice', typing: true, activities: ['user-typing'] },
      },
    ]);
    const stopped = normalizeStreamEvent(input('stream-notify-room', 'GENERAL/user-activity', ['alice', []]));
    expect(stopped[0]?.data).toEqual({ username: 'alice', typing: false, activities: [] });
    const recording = normalizeStreamEvent(
      input('stream-notify-room', 'GENERAL/user-activity', ['alice', ['user-recording']]),
    );
    expect(recording[0]?.data).toEqual({ username: 'alice', typing: false, activities: ['user-recording'] });
  });

  it.each([
    ['GENERAL/videoconf', ['callId']],
    ['GENERAL/messagesRead', [{ until: { $date: 1732550000000 } }]],
    ['GENERAL/messagesImported', [null]],
    ['GENERAL/e2e.keyRequest', ['k']],
  ])('ignores %s', (eventName, args) => {
    const { events, skips } = run(input('stream-notify-room', eventName, args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['ignored']);
  });

  it.each([
    ['GENERAL/deleteMessage', []],
    ['GENERAL/deleteMessage', [{}]],
    ['GENERAL/deleteMessage', ['aBcDeFgHiJkLmNoPq']],
    ['GENERAL/deleteMessageBulk', []],
    ['GENERAL/typing', ['alice']],
    ['GENERAL/typing', ['alice', 'yes']],
    ['GENERAL/typing', ['', true]],
    ['GENERAL/user-activity', ['alice', 'user-typing']],
    ['GENERAL/user-activity', ['alice', [1]]],
    ['deleteMessage', [{ _id: 'x' }]],
    ['/typing', ['alice', true]],
  ])('drops %s %j as malformed', (eventName, args) => {
    const { events, skips } = run(input('stream-notify-room', eventName, args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
  });
});

describe('stream-notify-user', () => {
  const notifyUser = (event: string, ...args: unknown[]) =>
    input('stream-notify-user', `${UID}/${event}`, args);

  it('turns <uid>/notification into notification, room from payload.rid', () => {
    const notification = {
      title: '@alice',
      text: 'hello @bob',
      duration: 4000,
      payload: {
        _id: IMESSAGE._id,
        rid: 'GENERAL',
        sender: { _id: 'uidB', username: 'bob', name: 'Bob' },
        type: 'c',
        name: 'general',
        message: { msg: 'hello @bob' },
      },
    };
    expect(normalizeStreamEvent(notifyUser('notification', notification))).toEqual([
      { type: 'notification', userId: UID, roomId: 'GENERAL', ts: RECEIVED_ISO, data: notification },
    ]);
    const [noRoom] = normalizeStreamEvent(notifyUser('notification', { title: 't', text: 'x' }));
    expect(noRoom).toEqual({
      type: 'notification',
      userId: UID,
      ts: RECEIVED_ISO,
      data: { title: 't', text: 'x' },
    });
    expect(noRoom).not.toHaveProperty('roomId');
  });

  it('turns <uid>/rooms-changed [action, room] into room.changed with ISO dates', () => {
    const room = {
      _id: 'Xq3Lr9ZkT2nWb7YcH',
      t: 'p',
      name: 'ops',
      u: { _id: 'uidA', username: 'alice' },
      usersCount: 2,
      msgs: 10,
      ts: { $date: 1732540000000 },
      _updatedAt: { $date: 1732550000000 },
      lastMessage: { ...IMESSAGE, rid: 'Xq3Lr9ZkT2nWb7YcH' },
    };
    const { events } = run(
      frame(
        `{"msg":"changed","collection":"stream-notify-user","id":"id","fields":{"eventName":"${UID}/rooms-changed","args":["inserted",${JSON.stringify(room)}]}}`,
      ),
    );
    expect(events).toEqual([
      {
        type: 'room.changed',
        userId: UID,
        roomId: 'Xq3Lr9ZkT2nWb7YcH',
        ts: RECEIVED_ISO,
        data: {
          action: 'inserted',
          room: {
            ...room,
            ts: '2024-11-25T13:06:40.000Z',
            _updatedAt: '2024-11-25T15:53:20.000Z',
            lastMessage: { ...IMESSAGE_JSON, rid: 'Xq3Lr9ZkT2nWb7YcH' },
          },
        },
      },
    ]);
  });

  it('turns <uid>/subscriptions-changed into subscription.changed, room from sub.rid', () => {
    const sub = {
      _id: 'sub1sub1sub1sub1s',
      rid: 'GENERAL',
      u: { _id: UID, username: 'alice' },
      name: 'general',
      t: 'c',
      ts: { $date: 1732540000000 },
      ls: { $date: 1732550000000 },
      _updatedAt: { $date: 1732550000000 },
      open: true,
      alert: false,
      unread: 0,
      userMentions: 0,
      groupMentions: 0,
    };
    const [updated] = normalizeStreamEvent(notifyUser('subscriptions-changed', 'updated', sub));
    expect(updated).toEqual({
      type: 'subscription.changed',
      userId: UID,
      roomId: 'GENERAL',
      ts: RECEIVED_ISO,
      data: {
        action: 'updated',
        subscription: {
          ...sub,
          ts: '2024-11-25T13:06:40.000Z',
          ls: '2024-11-25T15:53:20.000Z',
          _updatedAt: '2024-11-25T15:53:20.000Z',
        },
      },
    });
    const removedSub = {
      _id: 'sub1sub1sub1sub1s',
      u: { _id: UID, username: 'alice' },
      rid: 'GENERAL',
      t: 'c',
    };
    const [removed] = normalizeStreamEvent(notifyUser('subscriptions-changed', 'removed', removedSub));
    expect(removed).toMatchObject({
      roomId: 'GENERAL',
      data: { action: 'removed', subscription: removedSub },
    });
  });

  it('turns <uid>/message (ephemeral, from rocket.cat) into message.ephemeral without dedupe', () => {
    const ephemeral = {
      _id: 'eph0eph0eph0eph0e',
      rid: 'GENERAL',
      ts: { $date: 1732550000000 },
      msg: 'You are not allowed to post here',
      u: { _id: 'rocket.cat', username: 'rocket.cat' },
      private: true,
      groupable: false,
      _updatedAt: { $date: 1732550000000 },
    };
    expect(normalizeStreamEvent(notifyUser('message', ephemeral))).toEqual([
      {
        type: 'message.ephemeral',
        userId: UID,
        roomId: 'GENERAL',
        ts: RECEIVED_ISO,
        data: { ...ephemeral, ts: '2024-11-25T15:53:20.000Z', _updatedAt: '2024-11-25T15:53:20.000Z' },
      },
    ]);
  });

  it('turns <uid>/force_logout [] into session.unauthorized', () => {
    const { events } = run(
      frame(
        `{"msg":"changed","collection":"stream-notify-user","id":"id","fields":{"eventName":"${UID}/force_logout","args":[]}}`,
      ),
    );
    expect(events).toEqual([
      { type: 'session.unauthorized', userId: UID, ts: RECEIVED_ISO, data: { reason: 'force_logout' } },
    ]);
  });

  it('drops frames addressed to another user, whatever the event', () => {
    const { events, skips } = run(input('stream-notify-user', 'uidB/force_logout', []));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
    expect(normalizeStreamEvent(input('stream-notify-user', 'uidAA/notification', [{ title: 'x' }]))).toEqual(
      [],
    );
  });

  it.each([
    ['userData', [{ type: 'updated', id: UID, diff: { status: 'online' }, unset: {} }]],
    ['uiInteraction', [{}]],
    ['webrtc', ['x']],
    ['video-conference', [{ action: 'call' }]],
  ])('ignores <uid>/%s', (event, args) => {
    const { events, skips } = run(notifyUser(event, ...args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['ignored']);
  });

  it.each([
    ['notification', []],
    ['notification', ['text']],
    ['rooms-changed', ['inserted']],
    ['rooms-changed', ['inserted', { name: 'no id' }]],
    ['rooms-changed', [null, { _id: 'r' }]],
    ['subscriptions-changed', ['updated', { rid: 'GENERAL' }]],
    ['message', [{ rid: 'GENERAL', msg: 'no id' }]],
    ['message', []],
  ])('drops <uid>/%s %j as malformed', (event, args) => {
    const { events, skips } = run(notifyUser(event, ...args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
  });
});

describe('presence', () => {
  it('turns stream-notify-logged user-status [[uid, username, n, text, name, roles]] into user.status', () => {
    const { events } = run(
      frame(
        '{"msg":"changed","collection":"stream-notify-logged","id":"id","fields":{"eventName":"user-status","args":[["uidB","bob",2,"lunch","Bob",["user"]]]}}',
      ),
    );
    expect(events).toEqual([
      {
        type: 'user.status',
        userId: UID,
        ts: RECEIVED_ISO,
        data: { userId: 'uidB', username: 'bob', status: 'away', statusText: 'lunch' },
      },
    ]);
    expect(events[0]).not.toHaveProperty('roomId');
  });

  it.each([
    [0, 'offline'],
    [1, 'online'],
    [2, 'away'],
    [3, 'busy'],
  ])('maps status %i to %s', (n, status) => {
    const [event] = normalizeStreamEvent(input('stream-notify-logged', 'user-status', [['uidB', 'bob', n]]));
    expect(event?.data).toEqual({ userId: 'uidB', username: 'bob', status, statusText: '' });
  });

  it('turns stream-user-presence frames (id and eventName = uid) into the same user.status', () => {
    const { events } = run(
      frame(
        '{"msg":"changed","collection":"stream-user-presence","id":"uidB","fields":{"uid":"uidB","args":["bob",1,"lunch"],"eventName":"uidB"}}',
      ),
    );
    expect(events).toEqual([
      {
        type: 'user.status',
        userId: UID,
        ts: RECEIVED_ISO,
        data: { userId: 'uidB', username: 'bob', status: 'online', statusText: 'lunch' },
      },
    ]);
  });

  it.each([
    [[['uidB', 'bob', 4, '']]],
    [[['uidB', 'bob', -1, '']]],
    [[['uidB', 'bob', 1.5, '']]],
    [[['uidB', 'bob', '1', '']]],
    [[['uidB', undefined, 1, '']]],
    [[[null, 'bob', 1, '']]],
    [['uidB', 'bob', 1, '']],
    [[]],
  ])('drops user-status %j as malformed', (args) => {
    const { events, skips } = run(input('stream-notify-logged', 'user-status', args));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);
  });

  it('ignores the other stream-notify-logged events', () => {
    const { events, skips } = run(
      input('stream-notify-logged', 'Users:NameChanged', [{ _id: 'uidB', name: 'Bob', username: 'bob' }]),
    );
    expect(events).toEqual([]);
    expect(skips).toEqual(['ignored']);
  });
});

describe('robustness', () => {
  it('ignores streams it does not map', () => {
    const { events, skips } = run(input('stream-notify-all', 'public-settings-changed', ['updated', {}]));
    expect(events).toEqual([]);
    expect(skips).toEqual(['ignored']);
  });

  it('never throws: args that are not an array, absurd nesting, a broken clock', () => {
    const notArray = { ...input('stream-room-messages', 'GENERAL', []), args: 'x' as unknown as unknown[] };
    expect(run(notArray)).toEqual({ events: [], skips: ['malformed'] });

    let deep: unknown = { $date: 1 };
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const { events, skips } = run(roomMessages('GENERAL', { ...IMESSAGE, blocks: deep }));
    expect(events).toEqual([]);
    expect(skips).toEqual(['malformed']);

    expect(run({ ...roomMessages('GENERAL', IMESSAGE), receivedAtMs: Number.NaN })).toEqual({
      events: [],
      skips: ['malformed'],
    });
  });

  it('tells the skip listener why, in words safe to log (no payload content)', () => {
    const details: string[] = [];
    normalizeStreamEvent(
      roomMessages('GENERAL', { ...IMESSAGE, _id: undefined, msg: 'secret' }),
      (_, detail) => details.push(detail),
    );
    expect(details).toEqual(['message: missing _id']);
  });

  it('works without a skip listener', () => {
    expect(normalizeStreamEvent(input('stream-notify-room', 'GENERAL/typing', []))).toEqual([]);
  });
});

describe('catch-up (chat.syncMessages)', () => {
  const REST_MESSAGE = { ...IMESSAGE_JSON }; // REST form: ISO-string dates
  const BORN_MS = Date.parse(REST_MESSAGE.ts);

  it('reports a message born after the room watermark as message.created, with the live envelope', () => {
    const edited = {
      ...REST_MESSAGE,
      editedAt: '2024-11-25T15:55:00.000Z',
      _updatedAt: '2024-11-25T15:55:00.000Z',
    };
    expect(normalizeSyncedMessage(edited, UID, RECEIVED_MS, BORN_MS - 1)).toEqual({
      type: 'message.created',
      userId: UID,
      roomId: 'GENERAL',
      ts: RECEIVED_ISO,
      data: edited,
      dedupe: { messageId: IMESSAGE._id, updatedAtMs: Date.parse('2024-11-25T15:55:00.000Z') },
    });
  });

  it('reports a message born at or before the watermark as message.updated', () => {
    expect(normalizeSyncedMessage(REST_MESSAGE, UID, RECEIVED_MS, BORN_MS)?.type).toBe('message.updated');
    expect(normalizeSyncedMessage(REST_MESSAGE, UID, RECEIVED_MS, BORN_MS + 5000)?.type).toBe(
      'message.updated',
    );
  });

  it("reports t:'rm' as message.deleted", () => {
    const event = normalizeSyncedMessage({ ...REST_MESSAGE, t: 'rm', msg: '' }, UID, RECEIVED_MS, 0);
    expect(event).toMatchObject({
      type: 'message.deleted',
      dedupe: { messageId: IMESSAGE._id, updatedAtMs: 1732550000123, deleted: true },
    });
  });

  it('gives the same data as the live path for the same message', () => {
    const live = normalizeStreamEvent(roomMessages('GENERAL', IMESSAGE))[0];
    const synced = normalizeSyncedMessage(REST_MESSAGE, UID, RECEIVED_MS, BORN_MS - 1);
    expect(synced).toEqual(live);
  });

  it('also takes the EJSON form of DDP messages/get', () => {
    expect(normalizeSyncedMessage(IMESSAGE, UID, RECEIVED_MS, BORN_MS - 1)?.data).toEqual(REST_MESSAGE);
  });

  it('skips hidden and malformed messages', () => {
    const skips: SkipReason[] = [];
    const onSkip = (reason: SkipReason) => skips.push(reason);
    expect(
      normalizeSyncedMessage({ ...REST_MESSAGE, _hidden: true }, UID, RECEIVED_MS, 0, onSkip),
    ).toBeUndefined();
    expect(
      normalizeSyncedMessage({ ...REST_MESSAGE, _id: undefined }, UID, RECEIVED_MS, 0, onSkip),
    ).toBeUndefined();
    expect(
      normalizeSyncedMessage({ ...REST_MESSAGE, rid: undefined }, UID, RECEIVED_MS, 0, onSkip),
    ).toBeUndefined();
    expect(normalizeSyncedMessage(null, UID, RECEIVED_MS, 0, onSkip)).toBeUndefined();
    expect(skips).toEqual(['ignored', 'malformed', 'malformed', 'malformed']);
  });

  it('turns a {_id, _deletedAt} deletion into message.deleted', () => {
    expect(
      normalizeSyncedDeletion(
        { _id: IMESSAGE._id, _deletedAt: '2024-11-25T16:00:00.000Z' },
        'GENERAL',
        UID,
        RECEIVED_MS,
      ),
    ).toEqual({
      type: 'message.deleted',
      userId: UID,
      roomId: 'GENERAL',
      ts: RECEIVED_ISO,
      data: { _id: IMESSAGE._id, rid: 'GENERAL', _deletedAt: '2024-11-25T16:00:00.000Z' },
      dedupe: { messageId: IMESSAGE._id, updatedAtMs: Date.parse('2024-11-25T16:00:00.000Z'), deleted: true },
    });
    const skips: SkipReason[] = [];
    expect(normalizeSyncedDeletion({}, 'GENERAL', UID, RECEIVED_MS, (r) => skips.push(r))).toBeUndefined();
    expect(skips).toEqual(['malformed']);
  });
});
