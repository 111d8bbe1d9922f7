/**
 * A broken or hostile Rocket.Chat: frames and replies of the wrong shape must be skipped or
 * reported, never thrown out of a socket handler, and never pollute prototypes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeEjson, ejsonToJson, encodeEjson } from '../../src/ddp/ejson.js';
import { DdpClient, DdpRemoteError } from '../../src/ddp/index.js';
import { loginOverDdp } from '../../src/rocketchat/login.js';
import { normalizeStreamEvent } from '../../src/rocketchat/normalize.js';
import { RocketChatRestClient } from '../../src/rocketchat/rest-client.js';
import { roomDeletionStreams } from '../../src/rocketchat/streams.js';
import { UpstreamSubscriptions } from '../../src/sessions/upstream-subscriptions.js';
import { type ScriptedPeer, startScriptedPeer } from '../helpers/scripted-ddp-peer.js';
import { waitFor } from '../helpers/wait-for.js';

describe('EJSON against hostile input', () => {
  it('maps an out-of-range $date to null instead of throwing', () => {
    expect(ejsonToJson({ a: { $date: 1e300 } })).toEqual({ a: null });
    expect(Number.isNaN((decodeEjson({ $date: 1e300 }) as Date).getTime())).toBe(true);
  });

  it('leaves an invalid $regexp as the literal object', () => {
    expect(decodeEjson({ $regexp: '(', $flags: '' })).toEqual({ $regexp: '(', $flags: '' });
    expect(decodeEjson({ $regexp: 'a', $flags: 'zz' })).toEqual({ $regexp: 'a', $flags: 'zz' });
  });

  it('keeps __proto__ keys as own data, never as the prototype', () => {
    const escaped = decodeEjson(JSON.parse('{"$escape":{"__proto__":{"polluted":1}}}')) as object;
    expect(Object.getPrototypeOf(escaped)).toBe(Object.prototype);
    expect(Object.hasOwn(escaped, '__proto__')).toBe(true);
    const walked = ejsonToJson(JSON.parse('{"__proto__":{"x":{"$date":0}},"d":{"$date":0}}')) as object;
    expect(Object.getPrototypeOf(walked)).toBe(Object.prototype);
    expect(JSON.stringify(walked)).toBe(
      '{"__proto__":{"x":"1970-01-01T00:00:00.000Z"},"d":"1970-01-01T00:00:00.000Z"}',
    );
    const encoded = encodeEjson(JSON.parse('{"__proto__":{"y":1}}')) as object;
    expect(Object.getPrototypeOf(encoded)).toBe(Object.prototype);
    expect(JSON.stringify(encoded)).toBe('{"__proto__":{"y":1}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normalize against hostile input', () => {
  it('does not take a $date out of Date range as the dedupe time', () => {
    const skips: string[] = [];
    const events = normalizeStreamEvent(
      {
        collection: 'stream-room-messages',
        eventName: 'R',
        args: [{ _id: 'm', rid: 'R', _updatedAt: { $date: 1e300 } }],
        userId: 'u',
        receivedAtMs: 0,
      },
      (_reason, detail) => skips.push(detail),
    );
    expect(events).toEqual([]);
    expect(skips).toEqual(['message: missing _updatedAt and ts']);
  });

  it('keeps a message whose nested date is garbage', () => {
    const [event] = normalizeStreamEvent({
      collection: 'stream-room-messages',
      eventName: 'R',
      args: [{ _id: 'm', rid: 'R', _updatedAt: { $date: 5 }, attachments: [{ ts: { $date: -1e17 } }] }],
      userId: 'u',
      receivedAtMs: 0,
    });
    expect(event?.data).toMatchObject({ attachments: [{ ts: null }] });
  });
});

describe('DdpRemoteError with fields of the wrong type', () => {
  it('does not throw on objects that cannot become strings', () => {
    const hostile = { error: { toString: 1 }, reason: { toString: 1 }, message: { toString: 1 } };
    const error = new DdpRemoteError(hostile as never, 'method x');
    expect(error.message).toBe('method x: [unknown]');
    expect(error.reason).toBeUndefined();
  });
});

describe('login', () => {
  it('drops an invalid tokenExpires', async () => {
    const call = (async () => ({ id: 'u', token: 't', tokenExpires: new Date(Number.NaN) })) as never;
    await expect(loginOverDdp(call, { kind: 'resume', token: 't' })).resolves.toEqual({
      userId: 'u',
      token: 't',
      tokenExpiresAt: undefined,
    });
  });
});

describe('REST replies of the wrong shape', () => {
  afterEach(() => vi.unstubAllGlobals());
  const auth = { userId: 'u', token: 't' };
  const reply = (body: string, status = 200) =>
    vi.stubGlobal('fetch', async () => new Response(body, { status }));
  const rest = () => new RocketChatRestClient({ baseUrl: 'http://rc.invalid' });

  it('chat.syncMessages: non-array lists and a null body become empty lists', async () => {
    reply('{"result":{"updated":5,"deleted":{"a":1}}}');
    await expect(rest().syncMessages(auth, 'R', 0)).resolves.toEqual({ updated: [], deleted: [] });
    reply('null');
    await expect(rest().syncMessages(auth, 'R', 0)).resolves.toEqual({ updated: [], deleted: [] });
  });

  it('an error reply whose body is null still becomes a RocketChatRestError', async () => {
    reply('null', 400);
    await expect(rest().me(auth)).rejects.toMatchObject({ name: 'RocketChatRestError', status: 400 });
    reply('"x"', 200);
    await expect(rest().getMessage(auth, 'm')).resolves.toBeUndefined();
  });
});

describe('DdpClient against a hostile peer', () => {
  let peer: ScriptedPeer;
  let c: DdpClient;
  beforeEach(async () => {
    peer = await startScriptedPeer();
    c = new DdpClient({ url: peer.url, reconnectInitialDelayMs: 20, reconnectMaxDelayMs: 100 });
  });
  afterEach(async () => {
    await c.close();
    await peer.close();
  });

  it('survives unstringifiable errors, undecodable results and throwing listeners', async () => {
    await c.connect();
    const problems: string[] = [];
    c.on('protocolError', (p) => problems.push(p));
    c.onStream('c', '*', () => {
      throw new TypeError('listener bug');
    });
    const conn = peer.connections[0]!;
    const bad = c.call('bad-error');
    const deep = c.call('deep');
    const badFrame = await conn.next((f) => f.method === 'bad-error');
    const deepFrame = await conn.next((f) => f.method === 'deep');
    conn.socket.send(`{"msg":"result","id":"${badFrame.id}","error":{"error":{"toString":1}}}`);
    const nested = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    conn.socket.send(`{"msg":"result","id":"${deepFrame.id}","result":${nested}}`);
    conn.socket.send('{"msg":"error","reason":{"toString":1}}');
    conn.socket.send('{"msg":"changed","collection":"c","fields":{"eventName":"e","args":[]}}');
    await expect(bad).rejects.toBeInstanceOf(DdpRemoteError);
    await expect(deep).rejects.toMatchObject({ code: 'DDP_ERR_PROTOCOL' });
    await waitFor(() => problems.length >= 2, 5000, 'two protocol errors');
    expect(problems).toEqual(['server error: unknown', 'frame handler threw TypeError']);
    expect(c.status).toBe('ready');
  });
});

describe('UpstreamSubscriptions', () => {
  it('forget() clears the linger timer, so it cannot drop a later entry of the same key', async () => {
    vi.useFakeTimers();
    try {
      const stops: string[] = [];
      let seq = 0;
      const client = {
        subscribe: async (name: string) => {
          const id = String(++seq);
          return { id, name, params: [], stop: () => stops.push(id) };
        },
      } as unknown as DdpClient;
      const subs = new UpstreamSubscriptions({ client, lingerMs: 1000 });
      const [stream] = roomDeletionStreams('R');
      await subs.reconcile([stream!]);
      await subs.reconcile([]); // lingering
      subs.forget('1'); // the server ended it
      await subs.reconcile([stream!]); // subscribed again as id 2
      vi.advanceTimersByTime(5000);
      expect(subs.isActive(stream!.key)).toBe(true);
      expect(stops).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops a subscription that arrives after its entry was dropped', async () => {
    const stops: string[] = [];
    let release!: () => void;
    const client = {
      subscribe: () =>
        new Promise((resolve) => {
          release = () => resolve({ id: '1', name: 'n', params: [], stop: () => stops.push('1') });
        }),
    } as unknown as DdpClient;
    const subs = new UpstreamSubscriptions({ client, lingerMs: 1000 });
    const [stream] = roomDeletionStreams('R');
    const pending = subs.reconcile([stream!]);
    subs.close();
    release();
    await pending;
    expect(stops).toEqual(['1']);
  });
});
