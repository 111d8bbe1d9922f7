import { describe, expect, it } from 'vitest';
import { parseTopic } from '../../src/events/topics.js';
import {
  controlStreams,
  ddpSubscriptionParams,
  MY_MESSAGES_EVENT,
  roomDeletionStreams,
  streamKey,
  type UpstreamStream,
  upstreamSubscriptionsFor,
} from '../../src/rocketchat/streams.js';

const UID = 'uidAaaaaaaaaaaaaa';

const pairs = (streams: readonly UpstreamStream[]) => streams.map((s) => [s.name, s.eventName]);

describe('upstreamSubscriptionsFor', () => {
  it('room:<rid> needs the room’s messages and its single and bulk deletions', () => {
    expect(pairs(upstreamSubscriptionsFor(parseTopic('room:GENERAL'), UID))).toEqual([
      ['stream-room-messages', 'GENERAL'],
      ['stream-notify-room', 'GENERAL/deleteMessage'],
      ['stream-notify-room', 'GENERAL/deleteMessageBulk'],
    ]);
  });

  it('rooms needs __my_messages__ only (deletions are added per room by the session)', () => {
    expect(pairs(upstreamSubscriptionsFor(parseTopic('rooms'), UID))).toEqual([
      ['stream-room-messages', '__my_messages__'],
    ]);
    expect(MY_MESSAGES_EVENT).toBe('__my_messages__');
  });

  it('typing:<rid> needs only the typing form (user-activity would double every event)', () => {
    expect(pairs(upstreamSubscriptionsFor(parseTopic('typing:GENERAL'), UID))).toEqual([
      ['stream-notify-room', 'GENERAL/typing'],
    ]);
  });

  it('user needs the user’s notification, rooms-changed, subscriptions-changed and message events', () => {
    expect(pairs(upstreamSubscriptionsFor(parseTopic('user'), UID))).toEqual([
      ['stream-notify-user', `${UID}/notification`],
      ['stream-notify-user', `${UID}/rooms-changed`],
      ['stream-notify-user', `${UID}/subscriptions-changed`],
      ['stream-notify-user', `${UID}/message`],
    ]);
  });

  it('presence needs user-status on stream-notify-logged', () => {
    expect(pairs(upstreamSubscriptionsFor(parseTopic('presence'), UID))).toEqual([
      ['stream-notify-logged', 'user-status'],
    ]);
  });

  it('gives every stream a stable name|eventName key, equal across calls', () => {
    const first = upstreamSubscriptionsFor(parseTopic('room:GENERAL'), UID);
    const again = upstreamSubscriptionsFor(parseTopic('room:GENERAL'), UID);
    expect(first.map((s) => s.key)).toEqual([
      'stream-room-messages|GENERAL',
      'stream-notify-room|GENERAL/deleteMessage',
      'stream-notify-room|GENERAL/deleteMessageBulk',
    ]);
    expect(again.map((s) => s.key)).toEqual(first.map((s) => s.key));
    for (const s of first) expect(s.key).toBe(streamKey(s.name, s.eventName));
  });

  it('lets the session reference-count shared streams by key', () => {
    const counts = new Map<string, number>();
    for (const topic of ['room:GENERAL', 'rooms', 'typing:GENERAL', 'user', 'presence']) {
      for (const s of upstreamSubscriptionsFor(parseTopic(topic), UID))
        counts.set(s.key, (counts.get(s.key) ?? 0) + 1);
    }
    for (const s of roomDeletionStreams('GENERAL')) counts.set(s.key, (counts.get(s.key) ?? 0) + 1);
    expect(counts.get('stream-notify-room|GENERAL/deleteMessage')).toBe(2);
    expect(counts.get('stream-room-messages|__my_messages__')).toBe(1);
    expect(counts.size).toBe(10);
  });
});

describe('roomDeletionStreams', () => {
  it('is the deletion half of room:<rid>', () => {
    expect(pairs(roomDeletionStreams('Xq3Lr9ZkT2nWb7YcH'))).toEqual([
      ['stream-notify-room', 'Xq3Lr9ZkT2nWb7YcH/deleteMessage'],
      ['stream-notify-room', 'Xq3Lr9ZkT2nWb7YcH/deleteMessageBulk'],
    ]);
  });
});

describe('controlStreams', () => {
  it('is the user’s force_logout, so every session sees revocation', () => {
    expect(controlStreams(UID)).toEqual([
      {
        name: 'stream-notify-user',
        eventName: `${UID}/force_logout`,
        key: `stream-notify-user|${UID}/force_logout`,
      },
    ]);
  });
});

describe('ddpSubscriptionParams', () => {
  it('is [eventName, {useCollection:false, args:[]}], as @rocket.chat/ddp-client sends it', () => {
    const [typing] = upstreamSubscriptionsFor(parseTopic('typing:GENERAL'), UID);
    expect(ddpSubscriptionParams(typing!)).toEqual(['GENERAL/typing', { useCollection: false, args: [] }]);
    // The exact bytes of the doc's sub frame (docs/simulator-protocol.md §1.5).
    const [messages] = upstreamSubscriptionsFor(parseTopic('room:GENERAL'), UID);
    expect(
      JSON.stringify({
        msg: 'sub',
        id: 's1',
        name: messages!.name,
        params: ddpSubscriptionParams(messages!),
      }),
    ).toBe(
      '{"msg":"sub","id":"s1","name":"stream-room-messages","params":["GENERAL",{"useCollection":false,"args":[]}]}',
    );
  });
});
