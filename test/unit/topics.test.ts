import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import {
  createTopicMatcher,
  EventTypeError,
  formatTopic,
  MAX_TOPICS,
  parseEventTypes,
  parseTopic,
  parseTopics,
  sharedTopicMatcher,
  type Topic,
  TopicError,
} from '../../src/events/topics.js';
import { EVENT_TYPES } from '../../src/events/types.js';

const DM_RID = 'uidAaaaaaaaaaaaaauidBbbbbbbbbbbbbb'; // two 17-char user ids
const RID = 'Xq3Lr9ZkT2nWb7YcH'; // a 17-char Random.id

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parseTopics', () => {
  it('parses every topic kind from a comma-separated string, trimming blanks', () => {
    expect(parseTopics(` room:GENERAL , rooms,typing:${RID}, user ,presence,`)).toEqual([
      { kind: 'room', roomId: 'GENERAL' },
      { kind: 'rooms' },
      { kind: 'typing', roomId: RID },
      { kind: 'user' },
      { kind: 'presence' },
    ]);
  });

  it('accepts repeated parameters, each of which may itself be a list, and drops duplicates', () => {
    expect(parseTopics(['room:GENERAL,user', `room:${DM_RID}`, 'user', 'room:GENERAL'])).toEqual([
      { kind: 'room', roomId: 'GENERAL' },
      { kind: 'user' },
      { kind: 'room', roomId: DM_RID },
    ]);
  });

  it('gives [] for an empty input (the caller decides whether that is allowed)', () => {
    expect(parseTopics('')).toEqual([]);
    expect(parseTopics([])).toEqual([]);
    expect(parseTopics([' , '])).toEqual([]);
  });

  it('keeps room ids case-sensitive and accepts the whole id alphabet up to 64 characters', () => {
    const longest = `a-_Z9${'x'.repeat(59)}`;
    expect(parseTopics(['room:general', 'room:GENERAL', `room:${longest}`])).toHaveLength(3);
  });

  it('names the bad topic and the grammar for an unknown topic', () => {
    const error = errorOf(() => parseTopics('user,foo'));
    expect(error).toBeInstanceOf(TopicError);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: 'GW_ERR_TOPIC_INVALID',
      status: 400,
      topic: 'foo',
      message: 'unknown topic "foo": expected room:<rid>, rooms, typing:<rid>, user or presence',
      details: { topic: 'foo' },
    });
  });

  it.each([
    ['room', 'malformed topic "room": expected room:<rid>'],
    ['typing', 'malformed topic "typing": expected typing:<rid>'],
    ['room:', 'malformed topic "room:": expected room:<rid> where <rid> is 1 to 64 of A-Z a-z 0-9 _ -'],
    ['room:a/b', 'malformed topic "room:a/b"'],
    ['typing:a b', 'malformed topic "typing:a b"'],
    [`room:${'x'.repeat(65)}`, 'malformed topic'],
    ['room:GENERAL:x', 'malformed topic'],
    ['Room:GENERAL', 'unknown topic "Room:GENERAL"'],
    ['presence:GENERAL', 'unknown topic "presence:GENERAL"'],
    ['USER', 'unknown topic "USER"'],
  ])('rejects %j', (input, message) => {
    expect(() => parseTopics(input)).toThrow(TopicError);
    expect(() => parseTopics(input)).toThrow(message);
  });

  it('clips and escapes the echoed topic', () => {
    const error = errorOf(() => parseTopics(`bad\n${'y'.repeat(500)}`)) as TopicError;
    expect(error.message).toContain('"bad\\ny');
    expect(error.message.length).toBeLessThan(200);
  });

  it('refuses non-string entries (what a query parser makes of ?topics[a]=b)', () => {
    expect(() => parseTopics([{ a: 'b' } as unknown as string])).toThrow(TopicError);
  });

  it(`allows ${MAX_TOPICS} distinct topics, not one more; duplicates do not count`, () => {
    const rooms = Array.from({ length: MAX_TOPICS }, (_, i) => `room:r${i}`);
    expect(parseTopics(rooms)).toHaveLength(MAX_TOPICS);
    expect(parseTopics([...rooms, ...rooms, 'room:r0'])).toHaveLength(MAX_TOPICS);
    expect(() => parseTopics([...rooms, 'user'])).toThrow(
      `too many topics: at most ${MAX_TOPICS} are allowed`,
    );
  });
});

describe('formatTopic', () => {
  it('round-trips through parseTopic', () => {
    const topics: Topic[] = [
      { kind: 'room', roomId: DM_RID },
      { kind: 'rooms' },
      { kind: 'typing', roomId: 'GENERAL' },
      { kind: 'user' },
      { kind: 'presence' },
    ];
    const texts = topics.map(formatTopic);
    expect(texts).toEqual([`room:${DM_RID}`, 'rooms', 'typing:GENERAL', 'user', 'presence']);
    expect(texts.map(parseTopic)).toEqual(topics);
  });
});

describe('createTopicMatcher', () => {
  const match = (topics: string, event: { type: string; roomId?: string }, types?: string) =>
    createTopicMatcher(parseTopics(topics), types === undefined ? [] : parseEventTypes(types))(event);

  it('room:<rid> gets that room’s created, updated and deleted messages only', () => {
    for (const type of ['message.created', 'message.updated', 'message.deleted']) {
      expect(match('room:GENERAL', { type, roomId: 'GENERAL' })).toBe(true);
      expect(match('room:GENERAL', { type, roomId: RID })).toBe(false);
      expect(match('room:GENERAL', { type })).toBe(false);
    }
    expect(match('room:GENERAL', { type: 'typing', roomId: 'GENERAL' })).toBe(false);
    expect(match('room:GENERAL', { type: 'message.ephemeral', roomId: 'GENERAL' })).toBe(false);
    expect(match('room:GENERAL', { type: 'notification', roomId: 'GENERAL' })).toBe(false);
  });

  it('rooms gets messages of every room, and nothing else', () => {
    expect(match('rooms', { type: 'message.created', roomId: RID })).toBe(true);
    expect(match('rooms', { type: 'message.deleted', roomId: 'GENERAL' })).toBe(true);
    expect(match('rooms', { type: 'typing', roomId: RID })).toBe(false);
    expect(match('rooms', { type: 'room.changed', roomId: RID })).toBe(false);
  });

  it('typing:<rid> gets typing of that room only', () => {
    expect(match(`typing:${RID}`, { type: 'typing', roomId: RID })).toBe(true);
    expect(match(`typing:${RID}`, { type: 'typing', roomId: 'GENERAL' })).toBe(false);
    expect(match(`typing:${RID}`, { type: 'message.created', roomId: RID })).toBe(false);
    expect(match(`room:${RID}`, { type: 'typing', roomId: RID })).toBe(false);
  });

  it('user gets notifications, room/subscription changes, ephemeral, outbound and webhook events', () => {
    for (const type of [
      'notification',
      'room.changed',
      'subscription.changed',
      'message.ephemeral',
      'outbound.sent',
      'outbound.failed',
      'webhook.disabled',
      'webhook.test',
    ]) {
      expect(match('user', { type, roomId: RID }), type).toBe(true);
      expect(match('rooms,presence', { type, roomId: RID }), type).toBe(false);
    }
    expect(match('user', { type: 'message.created', roomId: RID })).toBe(false);
    expect(match('user', { type: 'user.status' })).toBe(false);
  });

  it('presence gets user.status only', () => {
    expect(match('presence', { type: 'user.status' })).toBe(true);
    expect(match('user,rooms', { type: 'user.status' })).toBe(false);
  });

  it('session.unauthorized reaches every non-empty topic set, whatever the type filter', () => {
    for (const topics of ['room:GENERAL', 'rooms', 'typing:GENERAL', 'user', 'presence']) {
      expect(match(topics, { type: 'session.unauthorized' })).toBe(true);
      expect(match(topics, { type: 'session.unauthorized' }, 'message.created')).toBe(true);
    }
    expect(createTopicMatcher([])({ type: 'session.unauthorized' })).toBe(false);
  });

  it('applies the event-type filter on top of the topics', () => {
    expect(match('rooms', { type: 'message.created', roomId: 'GENERAL' }, 'message.created')).toBe(true);
    expect(match('rooms', { type: 'message.updated', roomId: 'GENERAL' }, 'message.created')).toBe(false);
    expect(match('rooms,user', { type: 'notification' }, 'message.deleted,notification')).toBe(true);
  });

  it('matches nothing for unknown types, including prototype keys', () => {
    for (const type of ['gap', 'constructor', '__proto__', 'toString', '']) {
      expect(match('rooms,user,presence,room:GENERAL', { type, roomId: 'GENERAL' }), type).toBe(false);
    }
  });

  it('routes every event type somewhere a topic can reach', () => {
    const all = createTopicMatcher(parseTopics(['rooms', 'typing:GENERAL', 'user', 'presence']));
    for (const type of EVENT_TYPES) expect(all({ type, roomId: 'GENERAL' }), type).toBe(true);
  });

  it('decides an event in constant time whatever the number of topics', () => {
    const many = createTopicMatcher(parseTopics(Array.from({ length: MAX_TOPICS }, (_, i) => `room:r${i}`)));
    const one = createTopicMatcher(parseTopics('room:r99'));
    const hit = { type: 'message.created', roomId: 'r99' };
    const time = (fn: () => void) => {
      const start = performance.now();
      fn();
      return performance.now() - start;
    };
    const loop = (m: typeof many) => () => {
      for (let i = 0; i < 200_000; i++) m(hit);
    };
    loop(many)();
    loop(one)(); // warm up
    expect(many(hit) && one(hit)).toBe(true);
    // Generous: a per-topic loop would be ~100x slower for `many`.
    expect(time(loop(many))).toBeLessThan(time(loop(one)) * 10 + 20);
  });
});

describe('parseEventTypes', () => {
  it('parses, trims and de-duplicates a list of known types', () => {
    expect(parseEventTypes(['message.created, message.deleted', 'message.created'])).toEqual([
      'message.created',
      'message.deleted',
    ]);
    expect(parseEventTypes('')).toEqual([]);
  });

  it('accepts every type in EVENT_TYPES', () => {
    expect(parseEventTypes([...EVENT_TYPES])).toEqual(EVENT_TYPES);
  });

  it('names the unknown type and lists the valid ones', () => {
    const error = errorOf(() => parseEventTypes('message.created,message.exploded'));
    expect(error).toBeInstanceOf(EventTypeError);
    expect(error).toMatchObject({ code: 'GW_ERR_VALIDATION', status: 400, eventType: 'message.exploded' });
    expect((error as Error).message).toMatch(
      /^unknown event type "message\.exploded": expected one of message\.created, message\.updated, /,
    );
  });

  it('refuses non-string entries', () => {
    expect(() => parseEventTypes([1 as unknown as string])).toThrow(EventTypeError);
  });
});

describe('sharedTopicMatcher', () => {
  const message = (roomId: string) => ({ type: 'message.created', roomId });

  it('gives streams with the same topics and types one matcher, and others their own', () => {
    const general = sharedTopicMatcher(parseTopics('room:GENERAL,user'));
    expect(sharedTopicMatcher(parseTopics('room:GENERAL,user'))).toBe(general);
    const typed = sharedTopicMatcher(parseTopics('room:GENERAL,user'), parseEventTypes('message.deleted'));
    expect(typed).not.toBe(general);
    const other = sharedTopicMatcher(parseTopics('room:OTHER'));
    expect(general(message('GENERAL'))).toBe(true);
    expect(general(message('OTHER'))).toBe(false);
    expect(typed(message('GENERAL'))).toBe(false);
    expect(other(message('OTHER'))).toBe(true);
    expect(other(message('GENERAL'))).toBe(false);
  });
});
