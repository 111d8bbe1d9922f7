/**
 * The DDP client's state machine against a scripted peer on a real socket: every answer (or
 * silence) is chosen by the test. Fault behaviour against the Rocket.Chat simulator lives in
 * test/integration/ddp-client*.test.ts.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  DdpClient,
  type DdpClientOptions,
  DdpClosedError,
  DdpDisconnectedError,
  DdpFatalError,
  DdpNotSentError,
  DdpQueueFullError,
  DdpRemoteError,
  DdpTimeoutError,
  type ReadyInfo,
} from '../../src/ddp/index.js';
import { isUnknownOutcome, mapUpstreamError } from '../../src/rocketchat/errors.js';
import { type ScriptedPeer, startScriptedPeer } from '../helpers/scripted-ddp-peer.js';
import { waitFor } from '../helpers/wait-for.js';

let peer: ScriptedPeer;
const clients: DdpClient[] = [];
const closers: (() => Promise<void>)[] = [];

function client(options: Partial<DdpClientOptions> = {}): DdpClient {
  const c = new DdpClient({
    url: peer.url,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 100,
    ...options,
  });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  peer = await startScriptedPeer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(closers.splice(0).map((close) => close()));
  await peer.close();
});

describe('DdpClient', () => {
  it('negotiates with the versions Rocket.Chat clients offer and becomes ready', async () => {
    const c = client();
    await c.connect();
    expect(c.status).toBe('ready');
    expect(c.sessionId).toBe('s1');
    expect(peer.connections[0]?.received[0]).toEqual({
      msg: 'connect',
      version: '1',
      support: ['1', 'pre2', 'pre1'],
    });
  });

  it('answers server pings, echoing the id only when there is one', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    conn.send({ msg: 'ping', id: 'abc' });
    conn.send({ msg: 'ping' });
    await conn.next((f) => f.msg === 'pong' && f.id === 'abc');
    await conn.next((f) => f.msg === 'pong' && !('id' in f));
  });

  it('correlates results by id, decodes EJSON results and keeps Meteor errors', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const first = c.call('a', [new Date(5)]);
    const second = c.call('b');
    const frameA = await conn.next((f) => f.method === 'a');
    const frameB = await conn.next((f) => f.method === 'b');
    expect(frameA.params).toEqual([{ $date: 5 }]);
    conn.send({
      msg: 'result',
      id: frameB.id,
      error: {
        isClientSafe: true,
        error: 'error-not-allowed',
        reason: 'Not allowed',
        details: { method: 'b' },
      },
    });
    conn.send({ msg: 'updated', methods: [frameA.id] });
    conn.send({ msg: 'result', id: frameA.id, result: { ts: { $date: 7 } } });
    await expect(first).resolves.toEqual({ ts: new Date(7) });
    const error = await second.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DdpRemoteError);
    expect(error).toMatchObject({
      error: 'error-not-allowed',
      reason: 'Not allowed',
      details: { method: 'b' },
    });
  });

  it('resolves undefined when the result key is omitted (Meteor void methods)', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const call = c.call('sendMessage', [{ _id: 'dup' }]);
    const frame = await conn.next((f) => f.method === 'sendMessage');
    conn.send({ msg: 'result', id: frame.id });
    await expect(call).resolves.toBeUndefined();
  });

  it('carries the time to wait on rate-limit errors', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const call = c.call('sendMessage', []);
    const frame = await conn.next((f) => f.method === 'sendMessage');
    conn.send({
      msg: 'result',
      id: frame.id,
      error: {
        isClientSafe: true,
        error: 'too-many-requests',
        reason: 'Error, too many requests. Please slow down. You must wait 3 seconds before trying again.',
        details: { timeToReset: 2710 },
        errorType: 'Meteor.Error',
      },
    });
    await expect(call).rejects.toMatchObject({ error: 'too-many-requests', retryAfterMs: 2710 });
  });

  it('times out a call that gets no answer and ignores a late result', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const call = c.call('slow', [], { timeoutMs: 50 });
    await expect(call).rejects.toBeInstanceOf(DdpTimeoutError);
    const frame = await conn.next((f) => f.method === 'slow');
    conn.send({ msg: 'result', id: frame.id, result: 1 });
    expect(c.pendingCallCount).toBe(0);
  });

  it('pings a quiet line and reconnects when even the ping gets no answer', async () => {
    peer.autoPong = false;
    const c = client({ heartbeatIntervalMs: 60, heartbeatTimeoutMs: 60 });
    await c.connect();
    await peer.connections[0]!.next((f) => f.msg === 'ping');
    await peer.nextConnection();
    await waitFor(() => c.status === 'ready', 10_000, 'ready again');
    expect(c.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('keeps a quiet line up while pongs come back', async () => {
    const c = client({ heartbeatIntervalMs: 30, heartbeatTimeoutMs: 200 });
    await c.connect();
    const conn = peer.connections[0]!;
    await waitFor(() => conn.received.filter((f) => f.msg === 'ping').length >= 3, 10_000, 'three pings');
    expect(peer.connections).toHaveLength(1);
    expect(c.status).toBe('ready');
  });

  it('fails an in-flight call with "may have run" when the line drops, and queues new calls until it is back', async () => {
    const c = client();
    await c.connect();
    const inflight = c.call('sendMessage', [{ rid: 'x' }]);
    await peer.connections[0]!.next((f) => f.method === 'sendMessage');
    peer.connections[0]!.socket.terminate();
    const error = await inflight.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DdpDisconnectedError);
    expect((error as DdpDisconnectedError).mayHaveRun).toBe(true);

    peer.autoConnect = false;
    const second = await peer.nextConnection();
    const queued = c.call('later', []);
    expect(c.pendingCallCount).toBe(1);
    expect(second.received.some((f) => f.method === 'later')).toBe(false);
    peer.autoConnect = true;
    second.send({ msg: 'connected', session: 'late' });
    const frame = await second.next((f) => f.method === 'later');
    second.send({ msg: 'result', id: frame.id, result: 'ok' });
    await expect(queued).resolves.toBe('ok');
  });

  it('fails a call whose time runs out before any connection as never sent, not as a timeout', async () => {
    peer.autoConnect = false;
    const c = client();
    void c.connect().catch(() => {});
    const conn = await peer.nextConnection();
    const error = await c.call('sendMessage', [{ rid: 'x' }], { timeoutMs: 30 }).catch((e: unknown) => e);
    // A timeout's call may have run; this one was never written, so it is safe to send again.
    expect(error).toBeInstanceOf(DdpNotSentError);
    expect(error).not.toBeInstanceOf(DdpTimeoutError);
    expect((error as DdpNotSentError).mayHaveRun).toBe(false);
    expect(mapUpstreamError(error).code).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(isUnknownOutcome(error)).toBe(false);
    expect(c.pendingCallCount).toBe(0);
    conn.send({ msg: 'connected', session: 'late' });
    await waitFor(() => c.status === 'ready', 5000, 'ready');
    expect(conn.received.some((f) => f.method === 'sendMessage')).toBe(false);
  });

  it('bounds the calls waiting for a connection', async () => {
    peer.autoConnect = false;
    const c = client({ maxQueuedCalls: 2, callTimeoutMs: 60_000 });
    void c.connect().catch(() => {});
    const waiting = [c.call('a'), c.call('b')].map((call) => call.catch((e: unknown) => e));
    await expect(c.call('c')).rejects.toBeInstanceOf(DdpQueueFullError);
    await c.close();
    for (const outcome of await Promise.all(waiting)) expect(outcome).toBeInstanceOf(DdpClosedError);
  });

  it('logs in through the hook before anything else, on every connection', async () => {
    const logins: boolean[] = [];
    const c = client({
      onConnected: async (ctx) => {
        logins.push(ctx.isReconnect);
        await ctx.call('login', [{ resume: 'tok' }]);
      },
    });
    const ready = c.connect();
    const queued = c.call('after-login');
    const conn = peer.connections.length ? peer.connections[0]! : await peer.nextConnection();
    const login = await conn.next((f) => f.method === 'login');
    expect(conn.received.some((f) => f.method === 'after-login')).toBe(false);
    conn.send({ msg: 'result', id: login.id, result: { id: 'u1', token: 'tok' } });
    await ready;
    const after = await conn.next((f) => f.method === 'after-login');
    conn.send({ msg: 'result', id: after.id, result: 1 });
    await queued;
    conn.socket.terminate();
    const again = await peer.nextConnection();
    const relogin = await again.next((f) => f.method === 'login');
    again.send({ msg: 'result', id: relogin.id, result: { id: 'u1', token: 'tok' } });
    await waitFor(() => c.status === 'ready');
    expect(logins).toEqual([false, true]);
  });

  it('closes instead of reconnecting when the hook says the credentials are dead', async () => {
    const c = client({
      onConnected: async () => {
        throw new DdpFatalError('token revoked');
      },
    });
    const failures: boolean[] = [];
    c.on('authFailed', (e) => failures.push(e.fatal));
    await expect(c.connect()).rejects.toBeInstanceOf(DdpFatalError);
    expect(c.status).toBe('closed');
    expect(failures).toEqual([true]);
    expect(peer.connections).toHaveLength(1);
  });

  it('re-subscribes with the same ids after a reconnect and reports the downtime', async () => {
    const c = client();
    await c.connect();
    const first = peer.connections[0]!;
    const subscribing = c.subscribe('stream-room-messages', ['GENERAL', { useCollection: false, args: [] }]);
    const sub = await first.next((f) => f.msg === 'sub');
    first.send({ msg: 'ready', subs: [sub.id] });
    await subscribing;
    const events: unknown[] = [];
    c.onStream('stream-room-messages', 'GENERAL', (args) => events.push(args[0]));
    first.send({
      msg: 'changed',
      collection: 'stream-room-messages',
      id: 'id',
      fields: { eventName: 'GENERAL', args: [{ _id: 'm1' }] },
    });
    await waitFor(() => events.length === 1);

    const readies: ReadyInfo[] = [];
    c.on('ready', (info) => readies.push(info));
    first.socket.terminate();
    const second = await peer.nextConnection();
    const resub = await second.next((f) => f.msg === 'sub');
    expect(resub.id).toBe(sub.id);
    expect(c.status).toBe('authenticating');
    second.send({ msg: 'ready', subs: [resub.id] });
    await waitFor(() => readies.length === 1);
    const downtime = readies[0]!.downtime!;
    expect(readies[0]!.isReconnect).toBe(true);
    expect(downtime.toMs).toBeGreaterThanOrEqual(downtime.fromMs);
    second.send({
      msg: 'changed',
      collection: 'stream-room-messages',
      id: 'id',
      fields: { eventName: 'GENERAL', args: [{ _id: 'm2' }] },
    });
    await waitFor(() => events.length === 2);
  });

  it('rejects a subscription refused with nosub and reports a subscription the server drops later', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const refused = c.subscribe('stream-room-messages', ['secret', false]);
    const s1 = await conn.next((f) => f.msg === 'sub');
    conn.send({
      msg: 'nosub',
      id: s1.id,
      error: { isClientSafe: true, error: 'not-allowed', message: '[not-allowed]' },
    });
    await expect(refused).rejects.toMatchObject({ error: 'not-allowed' });

    const accepted = c.subscribe('stream-notify-user', ['u1/message', false]);
    const s2 = await conn.next((f) => f.msg === 'sub' && f.id !== s1.id);
    conn.send({ msg: 'ready', subs: [s2.id] });
    await accepted;
    const lost: string[] = [];
    c.on('subscriptionLost', (sub) => lost.push(sub.name));
    conn.send({ msg: 'nosub', id: s2.id });
    await waitFor(() => lost.length === 1);
    expect(c.subscriptionCount).toBe(0);
  });

  it('leaves nothing behind after close(), and close() is idempotent', async () => {
    const c = client();
    await c.connect();
    const pending = c.call('never').catch((e: unknown) => e);
    await Promise.all([c.close(), c.close()]);
    expect(await pending).toBeInstanceOf(DdpClosedError);
    expect(c.pendingCallCount).toBe(0);
    expect(c.listenerCount('status')).toBe(0);
    await waitFor(() => peer.connections[0]!.socket.readyState === peer.connections[0]!.socket.CLOSED);
    await expect(c.call('x')).rejects.toBeInstanceOf(DdpClosedError);
  });

  it('survives hostile frames: reports them and stays ready', async () => {
    const c = client();
    await c.connect();
    const problems: string[] = [];
    c.on('protocolError', (p) => problems.push(p));
    c.onStream('c', '*', () => problems.push('a listener saw a bad event'));
    const conn = peer.connections[0]!;
    for (const frame of [
      '{"msg":"ready","subs":3}',
      '{"msg":"result"}',
      'not json',
      '[1]',
      '{"msg":"changed","collection":"c","fields":{"eventName":5}}',
    ]) {
      conn.socket.send(frame);
    }
    await waitFor(() => problems.length >= 5, 5000, 'five protocol errors');
    expect(problems).not.toContain('a listener saw a bad event');
    const call = c.call('still-works');
    const frame = await conn.next((f) => f.method === 'still-works');
    conn.send({ msg: 'result', id: frame.id, result: 1 });
    await expect(call).resolves.toBe(1);
  });

  it('rejects bad options at once', () => {
    expect(() => new DdpClient({ url: 'http://x' })).toThrow(TypeError);
    expect(() => new DdpClient({ url: 'ws://x', callTimeoutMs: 0 })).toThrow(RangeError);
  });
});

/** A server that speaks SockJS on the upgrade, as the streamer does on any path but /websocket. */
async function startSockJsLikeServer(): Promise<{ url: string; connections: () => number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  let count = 0;
  server.on('connection', (socket) => {
    count++;
    socket.send('o');
  });
  closers.push(async () => {
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/chat/websocket`, connections: () => count };
}

describe('DdpClient and the ddp-streamer quirks', () => {
  it('answers a ping that arrives before connected, then connects', async () => {
    peer.autoConnect = false;
    const c = client();
    const ready = c.connect();
    const conn = await peer.nextConnection();
    await conn.next((f) => f.msg === 'connect');
    conn.send({ msg: 'ping' });
    conn.send({ msg: 'ping', id: 'early' });
    await conn.next((f) => f.msg === 'pong' && !('id' in f));
    await conn.next((f) => f.msg === 'pong' && f.id === 'early');
    expect(c.status).toBe('connecting');
    conn.send({ msg: 'connected', session: 'late' });
    await ready;
    expect(c.sessionId).toBe('late');
  });

  it('fails at once, saying what to fix, when the endpoint answers with SockJS framing', async () => {
    const sockjs = await startSockJsLikeServer();
    const protocolErrors: string[] = [];
    const c = new DdpClient({
      url: sockjs.url,
      connectTimeoutMs: 60_000,
      reconnectInitialDelayMs: 20,
      reconnectMaxDelayMs: 50,
    });
    clients.push(c);
    c.on('protocolError', (text) => protocolErrors.push(text));
    const started = Date.now();
    const error = await c.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DdpFatalError);
    expect((error as Error).message).toMatch(/SockJS/);
    expect((error as Error).message).toMatch(/\/chat\/websocket/);
    expect((error as Error).message).toMatch(/exactly \/websocket/);
    expect(protocolErrors).toEqual([(error as Error).message]);
    expect(c.status).toBe('closed');
    // Long before the 60 s connect timeout, and no retry loop against an endpoint that cannot work.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sockjs.connections()).toBe(1);
  });

  it('does not put the host or query of the url in that error', async () => {
    const sockjs = await startSockJsLikeServer();
    const c = new DdpClient({ url: `${sockjs.url}?token=secret` });
    clients.push(c);
    const error = (await c.connect().catch((e: unknown) => e)) as Error;
    expect(error.message).not.toMatch(/secret|127\.0\.0\.1/);
  });

  it('re-sends unsub when ready arrives for a sub it gave up on', async () => {
    const c = client();
    await c.connect();
    const conn = peer.connections[0]!;
    const timedOut = c.subscribe('stream-room-messages', ['GENERAL', false], { timeoutMs: 50 });
    await expect(timedOut).rejects.toMatchObject({ code: 'DDP_ERR_TIMEOUT' });
    const sub = await conn.next((f) => f.msg === 'sub');
    await conn.next((f) => f.msg === 'unsub' && f.id === sub.id);
    // The streamer ran the sub only now (it was queued behind a method): its unsub found nothing.
    conn.send({ msg: 'ready', subs: [sub.id] });
    await waitFor(
      () => conn.received.filter((f) => f.msg === 'unsub' && f.id === sub.id).length === 2,
      10_000,
      'a second unsub',
    );
  });

  it('subscribes each id once per connection, a sub made while re-subscriptions are awaited included', async () => {
    const c = client();
    await c.connect();
    const first = peer.connections[0]!;
    const live = c.subscribe('stream-notify-user', ['u/message', false]);
    const liveFrame = await first.next((f) => f.msg === 'sub');
    first.send({ msg: 'ready', subs: [liveFrame.id] });
    await live;

    peer.autoConnect = true;
    first.socket.terminate();
    const second = await peer.nextConnection();
    const resub = await second.next((f) => f.msg === 'sub' && f.id === liveFrame.id);
    // The client is still awaiting the re-subscription: a new sub made now must go out once.
    expect(c.status).toBe('authenticating');
    const later = c.subscribe('stream-notify-user', ['u/notification', false]);
    second.send({ msg: 'ready', subs: [resub.id] });
    const laterFrame = await second.next((f) => f.msg === 'sub' && f.id !== liveFrame.id);
    second.send({ msg: 'ready', subs: [laterFrame.id] });
    await later;
    await waitFor(() => c.status === 'ready', 10_000, 'ready');
    const subIds = second.received.filter((f) => f.msg === 'sub').map((f) => f.id);
    expect(subIds).toEqual([liveFrame.id, laterFrame.id]);
  });
});
