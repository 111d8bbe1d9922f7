import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame } from '../../src/ddp/codec.js';

describe('DDP frame codec', () => {
  it('decodes a message', () => {
    expect(decodeFrame('{"msg":"ping","id":"1"}')).toEqual({ ok: true, message: { msg: 'ping', id: '1' } });
  });

  it("ignores Meteor's server_id greeting and the ddp-streamer's variant", () => {
    expect(decodeFrame('{"server_id":"0"}')).toEqual({ ok: true, message: null });
    expect(decodeFrame('{"msg":"server_id","server_id":"0"}')).toEqual({ ok: true, message: null });
  });

  it('accepts the array framing ["<json>"]', () => {
    expect(decodeFrame(JSON.stringify(['{"msg":"pong"}']))).toEqual({ ok: true, message: { msg: 'pong' } });
  });

  it('reports malformed frames instead of throwing', () => {
    expect(decodeFrame('{nope').ok).toBe(false);
    expect(decodeFrame('42').ok).toBe(false);
    expect(decodeFrame('null').ok).toBe(false);
    expect(decodeFrame('{"msg":3}').ok).toBe(false);
    expect(decodeFrame('[1]').ok).toBe(false);
  });

  it('refuses frames whose fields the client would read blindly', () => {
    for (const frame of [
      '{"msg":"ready","subs":3}',
      '{"msg":"ready","subs":[1]}',
      '{"msg":"result"}',
      '{"msg":"result","id":"1","error":"boom"}',
      '{"msg":"nosub","id":7}',
      '{"msg":"changed","collection":null}',
      '{"msg":"changed","collection":"c","fields":"x"}',
      '{"msg":"connected"}',
      '{"msg":"updated"}',
      '{"msg":"ping","id":{}}',
    ]) {
      expect(decodeFrame(frame).ok, frame).toBe(false);
    }
  });

  it('encodes as plain JSON', () => {
    expect(encodeFrame({ msg: 'sub', id: '1', name: 'x', params: [] })).toBe(
      '{"msg":"sub","id":"1","name":"x","params":[]}',
    );
  });
});
