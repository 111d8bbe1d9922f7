import { describe, expect, it } from 'vitest';
import { sharedFrameDecoder } from '../../src/ddp/shared-frame-decoder.js';
import { serializeEvent } from '../../src/events/event-log.js';
import { frozenMemo } from '../../src/frozen-memo.js';
import { normalizeStreamEvent } from '../../src/rocketchat/normalize.js';

/** A room message as Rocket.Chat's streamer writes it to every subscriber of the room. */
function roomFrame(id: string, text = 'hello @bob'): string {
  return JSON.stringify({
    msg: 'changed',
    collection: 'stream-room-messages',
    id: 'id',
    fields: {
      eventName: 'GENERAL',
      args: [
        {
          _id: id,
          rid: 'GENERAL',
          msg: text,
          ts: { $date: 1732550000000 },
          u: { _id: 'uidA', username: 'alice', name: 'Alice' },
          _updatedAt: { $date: 1732550000123 },
          mentions: [{ _id: 'uidB', username: 'bob', type: 'user' }],
          md: [{ type: 'PARAGRAPH', value: [{ type: 'PLAIN_TEXT', value: text }] }],
        },
      ],
    },
  });
}

/** The same text as a new string, as each socket's frame is. */
const copyOf = (text: string): string => Buffer.from(text).toString();

function argsOf(result: ReturnType<ReturnType<typeof sharedFrameDecoder>>): readonly unknown[] {
  if (!result.ok || result.message?.msg !== 'changed') throw new Error('not a stream frame');
  return (result.message.fields as { args: unknown[] }).args;
}

describe('sharedFrameDecoder', () => {
  it('decodes the copies of one stream frame once, into one message frozen once it is shared', () => {
    const decode = sharedFrameDecoder();
    const text = roomFrame('m1');
    const first = decode(copyOf(text));
    // A frame only one session received costs no freezing walk.
    expect(Object.isFrozen(argsOf(first)[0])).toBe(false);
    const second = decode(copyOf(text));
    expect(second).toBe(first);
    const message = argsOf(first)[0] as { u: object; md: { value: object[] }[] };
    expect(Object.isFrozen(message)).toBe(true);
    expect(Object.isFrozen(message.u)).toBe(true);
    expect(Object.isFrozen(message.md[0]!.value[0])).toBe(true);
    // ES modules are strict: a consumer that tried to change a shared frame would throw, not
    // silently change every other session's copy.
    expect(() => {
      (message as { msg?: string }).msg = 'changed by one session';
    }).toThrow(TypeError);
  });

  it("leaves each connection's own frames (results, readies) unshared and unfrozen", () => {
    const decode = sharedFrameDecoder();
    const text = '{"msg":"result","id":"1","result":{"token":"t"}}';
    const first = decode(copyOf(text));
    const second = decode(copyOf(text));
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(Object.isFrozen(first)).toBe(false);
    expect(decode('not json')).toEqual({ ok: false, error: 'frame is not JSON' });
  });

  it('forgets the oldest frames beyond its bounds, by count and by size', () => {
    const byCount = sharedFrameDecoder({ frames: 2 });
    const [a, b, c] = [roomFrame('a'), roomFrame('b'), roomFrame('c')];
    const firstA = byCount(a);
    byCount(b);
    expect(byCount(copyOf(a))).toBe(firstA);
    byCount(c);
    expect(byCount(copyOf(a))).not.toBe(firstA);

    const bySize = sharedFrameDecoder({ maxChars: a.length + b.length - 1 });
    const sizedA = bySize(a);
    bySize(b);
    expect(bySize(copyOf(a))).not.toBe(sizedA);
    const huge = roomFrame('h', 'x'.repeat(300 * 1024));
    expect(bySize(copyOf(huge))).not.toBe(bySize(copyOf(huge)));
  });

  it('gives every session the events and envelope bytes it got from its own copy', () => {
    const decode = sharedFrameDecoder();
    const text = roomFrame('m2');
    const forUser = (userId: string, shared: boolean) => {
      const args = shared ? argsOf(decode(copyOf(text))) : argsOf({ ok: true, message: JSON.parse(text) });
      const events = normalizeStreamEvent({
        collection: 'stream-room-messages',
        eventName: 'GENERAL',
        args,
        userId,
        receivedAtMs: 1732550001000,
      });
      return events.map((event) => ({ event, tail: serializeEvent(event).tail }));
    };
    const [alice, bob, carol] = [forUser('uidA', true), forUser('uidB', true), forUser('uidC', true)];
    for (const [shared, userId] of [
      [alice, 'uidA'],
      [bob, 'uidB'],
      [carol, 'uidC'],
    ] as const) {
      const own = forUser(userId, false);
      expect(shared).toEqual(own);
      const { event } = shared[0]!;
      expect(shared[0]!.tail).toBe(
        JSON.stringify({ userId, roomId: event.roomId, ts: event.ts, data: event.data }).slice(1),
      );
    }
    // Once the frame is shared (from its second copy), the EJSON walk is made once: the later
    // sessions' events hold the same (frozen) data.
    expect(carol[0]!.event.data).toBe(bob[0]!.event.data);
    expect(Object.isFrozen(bob[0]!.event.data)).toBe(true);
    expect((alice[0]!.event.data as { ts: string }).ts).toBe('2024-11-25T15:53:20.000Z');
  });
});

describe('frozenMemo', () => {
  it('computes once per frozen object and every time for anything else', () => {
    let calls = 0;
    const keysOf = frozenMemo((value) => {
      calls++;
      return { keys: Object.keys(value as object) };
    });
    const frozen = Object.freeze({ a: 1 });
    expect(keysOf(frozen)).toBe(keysOf(frozen));
    expect(calls).toBe(1);
    expect(Object.isFrozen(keysOf(frozen).keys)).toBe(true);
    const open = { a: 1 };
    expect(keysOf(open)).not.toBe(keysOf(open));
    expect(calls).toBe(3);
  });
});
