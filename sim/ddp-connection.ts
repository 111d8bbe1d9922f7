/**
 * One DDP session over one WebSocket (Meteor ddp-server `Session`, rocketchat-ddp.md §1):
 * `{"server_id":"0"}` on open, version negotiation, heartbeat, and a single in-order queue for
 * `method`/`sub`/`unsub` (Meteor runs a connection's messages one at a time). `ping` is answered
 * immediately, outside the queue, as Meteor does.
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { LiveConnection } from './connection-registry.js';
import type { SimContext } from './context.js';
import { parseFrame } from './ddp-codec.js';
import { changeUser, handleMethod, handleSub, handleUnsub, type SubscriptionRecord } from './ddp-dispatch.js';
import { stringifyEJSON } from './ejson.js';
import { Heartbeat } from './heartbeat.js';
import { randomId } from './ids.js';
import { Outbox } from './outbox.js';
import type { StreamSubscription } from './stream-hub.js';

/** DDP versions the server speaks, in preference order (Meteor `SUPPORTED_DDP_VERSIONS`). */
const SUPPORTED_VERSIONS = ['1', 'pre2', 'pre1'];
/** Meteor's stream_server gives a socket 45 s to complete the DDP handshake. */
const HANDSHAKE_TIMEOUT_MS = 45_000;

export class DdpConnection implements LiveConnection {
  readonly connectionId = randomId();
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
  ) {
    this.outbox = new Outbox(
      (data, bytes) => this.write(data, bytes),
      () => ctx.faults.frameDelayMs,
    );
    ws.on('message', (data: RawData) => this.receive(data));
    ws.on('close', () => this.handleClose());
    ws.on('error', () => this.handleClose());
    ctx.connections.add(this);
    this.handshakeTimer = setTimeout(() => this.close(), HANDSHAKE_TIMEOUT_MS);
    // Meteor's stream_server greets every socket with this msg-less object (old hot-code-push).
    this.sendRaw('{"server_id":"0"}');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  subscriptionCount(): number {
    return this.subs.size;
  }

  send(message: Record<string, unknown>): void {
    this.sendRaw(stringifyEJSON(message));
  }

  sendRaw(frame: string, bytes?: Buffer): void {
    if (!this.closed) {
      this.outbox.send(frame, bytes);
    }
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
    const { heartbeatIntervalMs, heartbeatTimeoutMs } = this.ctx.options;
    if (version !== 'pre1' && heartbeatIntervalMs > 0) {
      this.heartbeat = new Heartbeat(heartbeatIntervalMs, heartbeatTimeoutMs, {
        sendPing: () => this.send({ msg: 'ping' }),
        onTimeout: () => this.close(),
        isPaused: () => this.ctx.faults.ignorePings,
      });
      this.heartbeat.start();
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
      record.handle.stop();
    }
    this.subs.clear();
    if (this.userId) {
      this.ctx.presence.connectionGone(this.userId, this.connectionId);
    }
    this.ctx.connections.delete(this);
  }
}
