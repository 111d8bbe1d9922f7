/**
 * The control plane's messages as read from Redis Pub/Sub: each kind parses to its typed shape,
 * and anything else (junk, another version, a wrong shape) is dropped rather than thrown.
 */
import { describe, expect, it } from 'vitest';
import {
  CONTROL_PLANE_VERSION,
  outboundNoticeParts,
  parseControlMessage,
} from '../../src/sessions/control-plane.js';
import { formatLease, parseLease } from '../../src/sessions/lease.js';

const v = CONTROL_PLANE_VERSION;

describe('parseControlMessage', () => {
  it('reads every kind of message', () => {
    const messages = [
      {
        v,
        kind: 'call',
        id: 'c1',
        replyTo: 'p1',
        userId: 'u1',
        method: 'rooms/get',
        params: [],
        timeoutMs: 5000,
      },
      {
        v,
        kind: 'ensure-topics',
        id: 'c2',
        replyTo: 'p1',
        userId: 'u1',
        topics: ['room:GENERAL'],
        timeoutMs: 100,
      },
      { v, kind: 'ack', id: 'c1' },
      { v, kind: 'reply', id: 'c1', result: [{ _id: 'GENERAL' }] },
      { v, kind: 'reply', id: 'c1' },
      {
        v,
        kind: 'reply',
        id: 'c1',
        error: {
          kind: 'remote',
          message: 'no',
          remote: { error: 'error-not-allowed', reason: 'Not allowed' },
        },
      },
      { v, kind: 'credentials-changed', userId: 'u1' },
      { v, kind: 'consumers-changed', userId: 'u1' },
      { v, kind: 'wanted', userId: 'u1' },
      { v, kind: 'outbound', userId: 'u1' },
      { v, kind: 'outbound', userId: 'u1', job: { id: 'out_1', seq: 3, data: { kind: 'send' } } },
    ];
    for (const message of messages) expect(parseControlMessage(JSON.stringify(message))).toEqual(message);
  });

  it('reads the outbound notice the accept script splices together', () => {
    // The script publishes beforeSeq + seq + beforeData + data + '}}' (outbox-store/accept.lua).
    const parts = outboundNoticeParts('u"1', 'out_\\x');
    const data = JSON.stringify({ kind: 'send', text: 'a "quoted" }} text' });
    expect(parseControlMessage(`${parts.beforeSeq}7${parts.beforeData}${data}}}`)).toEqual({
      v,
      kind: 'outbound',
      userId: 'u"1',
      job: { id: 'out_\\x', seq: 7, data: JSON.parse(data) },
    });
  });

  it('drops junk, other versions and wrong shapes instead of throwing', () => {
    const call = {
      v,
      kind: 'call',
      id: 'c',
      replyTo: 'p',
      userId: 'u',
      method: 'm',
      params: [],
      timeoutMs: 5,
    };
    const junk = [
      'not json',
      'null',
      '[]',
      '"credentials"',
      '42',
      JSON.stringify({ kind: 'ack', id: 'x' }),
      JSON.stringify({ v: 2, kind: 'ack', id: 'x' }),
      JSON.stringify({ v, kind: 'nope', id: 'x' }),
      JSON.stringify({ v, kind: 'ack', id: '' }),
      JSON.stringify({ ...call, params: {} }),
      JSON.stringify({ ...call, timeoutMs: -1 }),
      JSON.stringify({ ...call, timeoutMs: 1e20 }),
      JSON.stringify({ ...call, kind: 'ensure-topics', method: undefined, params: undefined, topics: [1] }),
      JSON.stringify({ v, kind: 'outbound', userId: 'u', job: { id: 'out_1', seq: 0, data: {} } }),
      JSON.stringify({ v, kind: 'outbound', userId: 'u', job: { id: 'out_1', seq: 1, data: 'x' } }),
      JSON.stringify({ v, kind: 'outbound', userId: '' }),
      JSON.stringify({ v, kind: 'reply', id: 'c', error: { kind: 'weird', message: 'x' } }),
      JSON.stringify({ v, kind: 'wanted' }),
    ];
    for (const raw of junk) expect(parseControlMessage(raw), raw).toBeUndefined();
  });
});

describe('lease values', () => {
  it('round-trip generation and worker id, worker ids with colons included', () => {
    for (const lease of [
      { workerId: 'w-1', generation: 1 },
      { workerId: 'host:1234:ab', generation: 9_007_199_254 },
    ])
      expect(parseLease(formatLease(lease))).toEqual(lease);
  });

  it('read anything else as no lease', () => {
    for (const value of [undefined, null, '', 'w-1', ':w-1', '7:', 'x:w-1', '1.5:w'])
      expect(parseLease(value)).toBeUndefined();
  });
});
