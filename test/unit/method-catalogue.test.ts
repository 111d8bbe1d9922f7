/**
 * The method allow-list: what is on it, what can never be, and that each schema accepts the
 * shapes docs/simulator-protocol.md §4 documents and refuses the rest (before anything goes upstream).
 */
import { describe, expect, it } from 'vitest';
import {
  findMethod,
  isNeverCallable,
  METHOD_CATALOGUE,
  reportedResult,
} from '../../src/rocketchat/method-catalogue.js';

function parse(name: string, params: unknown[]): { ok: true; data: readonly unknown[] } | { ok: false } {
  const result = METHOD_CATALOGUE.get(name)!.params.safeParse(params);
  return result.success ? { ok: true, data: result.data } : { ok: false };
}

describe('method catalogue', () => {
  it('holds the documented groups and nothing that sends, logs in or out', () => {
    const names = [...METHOD_CATALOGUE.keys()];
    for (const name of [
      'rooms/get',
      'subscriptions/get',
      'UserPresence:setDefaultStatus',
      'stream-notify-room',
    ]) {
      expect(names).toContain(name);
    }
    for (const name of ['login', 'logout', 'sendMessage', 'updateMessage', 'deleteMessage', 'setReaction']) {
      expect(names).not.toContain(name);
      expect(findMethod(name)).toBeUndefined();
    }
    expect(new Set([...METHOD_CATALOGUE.values()].map((m) => m.group)).size).toBe(11);
  });

  it('never exposes login, logout or internal pseudo-methods', () => {
    for (const name of ['login', 'logout', 'gw:call', 'gateway:forward', '__internal', 'sub', 'connect']) {
      expect(isNeverCallable(name), name).toBe(true);
      expect(findMethod(name), name).toBeUndefined();
    }
    expect(findMethod('getRoomById')?.name).toBe('getRoomById');
    expect(findMethod('getroombyid')).toBeUndefined();
    expect(findMethod('constructor')).toBeUndefined();
  });

  it('turns EJSON and ISO dates into Dates, and keeps optional trailing params optional', () => {
    const ejson = parse('rooms/get', [{ $date: 1_700_000_000_000 }]);
    expect(ejson.ok && ejson.data[0]).toEqual(new Date(1_700_000_000_000));
    const iso = parse('loadMissedMessages', ['GENERAL', '2024-01-02T03:04:05.000Z']);
    expect(iso.ok && iso.data[1]).toEqual(new Date('2024-01-02T03:04:05.000Z'));
    expect(parse('rooms/get', []).ok).toBe(true);
    expect(parse('loadHistory', ['GENERAL']).ok).toBe(true);
    expect(parse('loadHistory', ['GENERAL', null, 50, { $date: 1 }, false]).ok).toBe(true);
    expect(parse('messages/get', ['GENERAL', { type: 'UPDATED', next: '1732550000123', count: 20 }]).ok).toBe(
      true,
    );
    expect(parse('saveRoomSettings', ['GENERAL', 'systemMessages', 'false']).ok).toBe(true);
    expect(parse('saveRoomSettings', ['GENERAL', { roomTopic: 't' }]).ok).toBe(true);
    expect(parse('createChannel', ['name', ['bob'], false, {}, {}]).ok).toBe(true);
    expect(parse('createDirectMessage', ['bob', 'carol']).ok).toBe(true);
  });

  it('refuses wrong types, extra params, bad ids and unknown enum values', () => {
    expect(parse('getRoomById', [1]).ok).toBe(false);
    expect(parse('getRoomById', ['GENERAL', 'x']).ok).toBe(false);
    expect(parse('getRoomById', ['a{b}']).ok).toBe(false);
    expect(parse('getRoomById', []).ok).toBe(false);
    expect(parse('rooms/get', [{ $date: 'yesterday' }]).ok).toBe(false);
    expect(parse('rooms/get', [{ $date: 1, extra: true }]).ok).toBe(false);
    expect(parse('UserPresence:setDefaultStatus', ['asleep']).ok).toBe(false);
    expect(parse('UserPresence:away', ['x']).ok).toBe(false);
    expect(parse('loadHistory', ['GENERAL', null, 1000]).ok).toBe(false);
    expect(parse('createDirectMessage', []).ok).toBe(false);
    expect(parse('getRoomByTypeAndName', ['l', 'livechat']).ok).toBe(false);
  });

  it('allows only typing and user-activity on stream-notify-room, as the caller', () => {
    const typing = findMethod('stream-notify-room')!;
    expect(parse('stream-notify-room', ['GENERAL/typing', 'alice', true]).ok).toBe(true);
    expect(parse('stream-notify-room', ['GENERAL/user-activity', 'alice', ['user-typing'], {}]).ok).toBe(
      true,
    );
    expect(parse('stream-notify-room', ['GENERAL/deleteMessage', 'alice', true]).ok).toBe(false);
    expect(parse('stream-notify-room', ['GENERAL/webrtc', 'alice', {}]).ok).toBe(false);
    expect(parse('stream-notify-room', ['GENERAL/typing', 'alice', 'yes']).ok).toBe(false);
    const caller = { userId: 'u1', username: 'alice' };
    expect(typing.authorize?.(['GENERAL/typing', 'alice', true], caller)).toBeUndefined();
    expect(typing.authorize?.(['GENERAL/typing', 'bob', true], caller)).toMatch(/own username/);
  });

  it('reports every falsy result one way per method, as the ddp-streamer cannot tell them apart', () => {
    const loadHistory = findMethod('loadHistory')!;
    const openRoom = findMethod('openRoom')!;
    for (const falsy of [undefined, null, false, 0, '']) {
      expect(reportedResult(loadHistory, falsy)).toBe(false);
      expect(reportedResult(openRoom, falsy)).toBeNull();
    }
    expect(reportedResult(loadHistory, { messages: [] })).toEqual({ messages: [] });
    expect(reportedResult(openRoom, true)).toBe(true);
  });
});
