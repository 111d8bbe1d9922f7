/**
 * One DDP session over one WebSocket (docs/simulator-protocol.md), in the flavor of the server
 * it was opened on:
 * - `meteor` (Meteor ddp-server `Session`): `{"server_id":"0"}` on open, version negotiation,
 *   heartbeat from `connected` on, protocol errors answered with `error` frames, and a single
 *   in-order queue for `method`/`sub`/`unsub`. `ping` is answered at once, outside the queue.
 * - `streamer` (RC ee/apps/ddp-streamer Client.ts): `{"msg":"server_id",...}`, heartbeat from
 *   the socket's open on (first ping after 30 ms), protocol errors close the socket, no version
 *   negotiation; `method` and `sub` share the queue but `unsub` and `ping` are handled at once.
 *   On any path but exactly `/websocket` it speaks SockJS framing (`o`, `a[...]`).
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { LiveConnection } from './connection-registry.js';
import type { SimContext } from './context.js';
import { parseFrame } from './ddp-codec.js';
import { changeUser, handleMethod, handleSub, handleUnsub, type SubscriptionRecord } from './ddp-dispatch.js';
import { stringifyEJSON } from './ejson.js';
import {
  type Flavor,
  METEOR_GREETING,
  METEOR_HEARTBEAT_MS,
  STREAMER_CLOSE,
  STREAMER_FIRST_PING_MS,
  STREAMER_GREETING,
  STREAMER_HEARTBEAT_MS,
  STREAMER_TIMEOUT_REASON,
  streamerErrorWire,
  uuidV1,
} from './flavor.js';
import { Heartbeat } from './heartbeat.js';
import { randomId } from './ids.js';
import type { MeteorError } from './meteor-error.js';
import { Outbox } from './outbox.js';
import type { StreamSubscription } from './stream-hub.js';

/** DDP versions the server speaks, in preference order (Meteor `SUPPORTED_DDP_VERSIONS`). */
const SUPPORTED_VERSIONS = ['1', 'pre2', 'pre1'];
/** Meteor's stream_server gives a socket 45 s to complete the DDP handshake. */
const HANDSHAKE_TIMEOUT_MS = 45_000;

/** `raw`: one DDP frame per WebSocket message; `sockjs`: SockJS framing over the WebSocket. */
export type Transport = 'raw' | 'sockjs';

export class DdpConnection implements LiveConnection {
  readonly connectionId = randomId();
  /** Fixed at open: a flavor switch through the control API applies to new connections. */
  readonly flavor: Flavor;
  session: string | undefined;
  userId: string | null = null;
  token: string | null = null;
  readonly subs = new Map<string, SubscriptionRecord>();
  /** Collections for which an `added` doc was sent (useCollection:true streams). */
  readonly addedDocs = new Set<string>();
  /** The connection's stream-user-presence watch list (first such subscription owns it). */
  presenceWatch: { subs: Map<string, StreamSubscription> } | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private heartbeat: Heartbeat | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private readonly outbox: Outbox;
  private corked = false;

  /** `socket` is the TCP socket under `ws`: writes in one tick are corked into one syscall. */
  constructor(
    private readonly ws: WebSocket,
    readonly ctx: SimContext,
    readonly remoteAddress: string,
    private readonly socket: Duplex,
    private readonly transport: Transport = 'raw',
  ) {
    this.flavor = ctx.flavor.current;
    this.outbox = new Outbox(
      (data, bytes) => this.write(data, bytes),
      () => ctx.faults.frameDelayMs,
    );
    ws.on('message', (data: RawData) => this.receive(data));
    ws.on('close', () => this.handleClose());
    ws.on('error', () => this.handleClose());
    ctx.connections.add(this);
    this.handshakeTimer = setTimeout(() => this.close(), HANDSHAKE_TIMEOUT_MS);
    if (transport === 'sockjs') {
      // SockJS's open frame, written as is (every later frame is wrapped in `a[...]`).
      this.outbox.send('o');
    }
    if (this.isStreamer) {
      this.sendRaw(STREAMER_GREETING);
      // The streamer arms its idle timer at once, and the first one is 30 ms: a client slower
      // than that to send `connect` is pinged before it is connected.
      this.startHeartbeat(STREAMER_FIRST_PING_MS);
    } else {
      // Meteor's stream_server greets every socket with this msg-less object (old hot-code-push).
      this.sendRaw(METEOR_GREETING);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isStreamer(): boolean {
    return this.flavor === 'streamer';
  }

  /** A Meteor.Error as this connection's server puts it in `result.error` and `nosub.error`. */
  errorWire(error: MeteorError): Record<string, unknown> {
    const wire = error.toWire();
    return this.isStreamer ? streamerErrorWire(wire) : { ...wire };
  }

  subscriptionCount(): number {
    return this.subs.size;
  }

  send(message: Record<string, unknown>): void {
    this.sendRaw(stringifyEJSON(message));
  }

  sendRaw(frame: string, bytes?: Buffer): void {
    if (this.closed) {
      return;
    }
    if (this.transport === 'sockjs') {
      this.outbox.send(`a${JSON.stringify([frame])}`);
      return;
    }
    this.outbox.send(frame, bytes);
  }

  /** `{"msg":"error","reason":...,"offendingMessage":...}` (Meteor `sendError`). */
  sendError(reason: string, offendingMessage?: unknown): void {
    this.send({ msg: 'error', reason, ...(offendingMessage !== undefined && { offendingMessage }) });
  }

  logoutInPlace(): void {
    this.enqueue(() => changeUser(this, null, null));
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(code, reason);
    }
    this.handleClose();
  }

  terminate(): void {
    this.ws.terminate();
    this.handleClose();
  }

  private write(data: string, bytes?: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      return;
    }
    this.ctx.frames.record('out', this.connectionId, data);
    if (!this.corked) {
      // A fan-out burst (flood) would otherwise cost one writev per frame.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.ws.send(bytes ?? data, { binary: false });
  }

  private receive(data: RawData): void {
    if (this.closed) {
      return;
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    this.ctx.frames.record('in', this.connectionId, text);
    this.heartbeat?.messageReceived();
    if (this.isStreamer) {
      this.receiveAsStreamer(text);
      return;
    }
    const parsed = parseFrame(text);
    if (parsed.kind === 'invalid') {
      this.sendError('Bad request');
      return;
    }
    if (parsed.kind === 'no-msg') {
      this.sendError('Bad request', parsed.value);
      return;
    }
    const { msg } = parsed;
    if (msg.msg === 'connect') {
      if (this.session) {
        this.sendError('Already connected', msg);
        return;
      }
      this.handleConnect(msg);
      return;
    }
    if (!this.session) {
      this.sendError('Must connect first', msg);
      return;
    }
    if (msg.msg === 'ping') {
      if (!this.ctx.faults.ignorePings) {
        this.send({ msg: 'pong', ...(msg['id'] !== undefined && { id: msg['id'] }) });
      }
      return;
    }
    if (msg.msg === 'pong') {
      return;
    }
    this.enqueue(() => this.dispatch(msg));
  }

  /**
   * RC ddp-streamer Client.ts: protocol errors close the socket instead of answering, unknown
   * `msg`s and a second `connect` are ignored, and only `method` and `sub` wait in the queue.
   */
  private receiveAsStreamer(text: string): void {
    const parsed = parseFrame(text);
    if (parsed.kind === 'invalid' && parsed.notJson) {
      this.close(STREAMER_CLOSE.unsupportedData);
      return;
    }
    const msg = parsed.kind === 'message' ? parsed.msg : undefined;
    if (!this.session) {
      if (msg?.msg !== 'connect') {
        this.close(STREAMER_CLOSE.protocolError);
        return;
      }
      this.connectAsStreamer();
      return;
    }
    switch (msg?.msg) {
      case 'ping':
        if (!this.ctx.faults.ignorePings) {
          this.send({ msg: 'pong', ...(msg['id'] !== undefined && { id: msg['id'] }) });
        }
        return;
      case 'unsub':
        handleUnsub(this, msg);
        return;
      case 'method':
        if (typeof msg['id'] !== 'string' || typeof msg['method'] !== 'string') {
          this.close(STREAMER_CLOSE.protocolError);
          return;
        }
        this.enqueue(() => handleMethod(this, msg));
        return;
      case 'sub':
        if (typeof msg['id'] !== 'string' || typeof msg['name'] !== 'string') {
          this.close(STREAMER_CLOSE.protocolError);
          return;
        }
        this.enqueue(() => handleSub(this, msg));
        return;
      default:
        // `connect` again, `pong`, unknown msgs, objects without one: ignored.
        return;
    }
  }

  /** The streamer does not negotiate: any `connect` is `connected`, with a uuid v1 session. */
  private connectAsStreamer(): void {
    clearTimeout(this.handshakeTimer);
    this.session = uuidV1();
    this.send({ msg: 'connected', session: this.session });
  }

  private startHeartbeat(firstIdleMs?: number): void {
    const fallback = this.isStreamer ? STREAMER_HEARTBEAT_MS : METEOR_HEARTBEAT_MS;
    const intervalMs = this.ctx.options.heartbeatIntervalMs ?? fallback;
    const timeoutMs = this.ctx.options.heartbeatTimeoutMs ?? fallback;
    if (intervalMs <= 0) {
      return;
    }
    this.heartbeat = new Heartbeat(intervalMs, timeoutMs, {
      sendPing: () => this.send({ msg: 'ping' }),
      onTimeout: () =>
        this.isStreamer ? this.close(STREAMER_CLOSE.timeout, STREAMER_TIMEOUT_REASON) : this.close(),
      isPaused: () => this.ctx.faults.ignorePings,
    });
    this.heartbeat.start(firstIdleMs);
  }

  private async dispatch(msg: Record<string, unknown>): Promise<void> {
    switch (msg['msg']) {
      case 'method':
        return handleMethod(this, msg);
      case 'sub':
        return handleSub(this, msg);
      case 'unsub':
        return handleUnsub(this, msg);
      default:
        this.sendError('Bad request', msg);
    }
  }

  /** Meteor `_handleConnect`: the proposed version must be in `support` and be our pick from it. */
  private handleConnect(msg: Record<string, unknown>): void {
    const { version, support } = msg;
    const valid =
      typeof version === 'string' &&
      Array.isArray(support) &&
      support.every((item) => typeof item === 'string') &&
      support.includes(version);
    const chosen = Array.isArray(support)
      ? (support.find(
          (item): item is string => typeof item === 'string' && SUPPORTED_VERSIONS.includes(item),
        ) ?? SUPPORTED_VERSIONS[0])
      : SUPPORTED_VERSIONS[0];
    if (!valid || version !== chosen) {
      this.send({ msg: 'failed', version: valid ? chosen : SUPPORTED_VERSIONS[0] });
      this.close();
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.session = randomId();
    this.send({ msg: 'connected', session: this.session });
    if (version !== 'pre1') {
      this.startHeartbeat();
    }
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.queue = this.queue.then(async () => {
      if (this.closed) {
        return;
      }
      try {
        await task();
      } catch (err) {
        this.ctx.stats.internalErrors += 1;
        this.ctx.stats.lastInternalError = err instanceof Error ? (err.stack ?? err.message) : String(err);
      }
    });
  }

  private handleClose(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    this.heartbeat?.stop();
    this.outbox.close();
    for (const record of this.subs.values()) {
      for (let r: SubscriptionRecord | undefined = record; r; r = r.previous) {
        r.handle.stop();
      }
    }
    this.subs.clear();
    if (this.userId) {
      this.ctx.presence.connectionGone(this.userId, this.connectionId);
    }
    this.ctx.connections.delete(this);
  }
}
