/**
 * One DDP connection, built to stay up for years against a real Rocket.Chat: it negotiates,
 * keeps the line alive with pings, reconnects with jittered backoff, re-authenticates through a
 * hook, re-subscribes what was subscribed, and reports how long the line was down so the caller
 * can fetch what it missed (Rocket.Chat never replays stream events).
 *
 * It knows DDP only: no Rocket.Chat, no Redis. Rocket.Chat's login is the `onConnected` hook.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { backoffDelayMs } from './backoff.js';
import { decodeFrame, encodeFrame, type FrameDecoder } from './codec.js';
import { decodeEjson, encodeEjson } from './ejson.js';
import {
  DdpClosedError,
  DdpDisconnectedError,
  DdpError,
  DdpNotSentError,
  DdpQueueFullError,
  DdpRemoteError,
  DdpTimeoutError,
} from './errors.js';
import { type DdpErrorObject, type ServerMessage, SUPPORTED_DDP_VERSIONS } from './messages.js';
import { type DdpTimers, systemTimers } from './timers.js';

/** Where the connection is in its life. `waiting` = between attempts, during backoff. */
export type DdpStatus = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'waiting' | 'closed';

/** The interval during which nothing was received: from the last frame before the drop to ready again. */
export interface Downtime {
  readonly fromMs: number;
  readonly toMs: number;
}

export interface ReadyInfo {
  readonly sessionId: string;
  readonly isReconnect: boolean;
  /** Present after a reconnect: what the caller should back-fill. */
  readonly downtime?: Downtime;
}

/** Given to `onConnected`: calls made through it go out at once, before the client is ready. */
export interface ConnectedContext {
  readonly sessionId: string;
  readonly isReconnect: boolean;
  call<T = unknown>(method: string, params: readonly unknown[]): Promise<T>;
}

/**
 * Thrown by `onConnected` to say that retrying cannot help (e.g. the resume token was revoked):
 * the client closes instead of reconnecting, so a dead credential never becomes a login storm.
 */
export class DdpFatalError extends DdpError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DDP_ERR_FATAL', message, options);
  }
}

/** Something to count with (a Prometheus counter child fits); the client knows no metrics library. */
export interface DdpCounter {
  inc(): void;
}

/** What the client counts as it happens, for metrics: frames each way and reconnection attempts. */
export interface DdpCounters {
  readonly framesIn?: DdpCounter;
  readonly framesOut?: DdpCounter;
  readonly reconnects?: DdpCounter;
}

export interface DdpClientOptions {
  /** `ws(s)://host/websocket`. */
  readonly url: string;
  /** Runs after every `connected`, before subscriptions and queued calls go out: log in here. */
  readonly onConnected?: (context: ConnectedContext) => Promise<void>;
  /** Send a ping after this long without any inbound frame. @defaultValue 25000 */
  readonly heartbeatIntervalMs?: number;
  /** Drop the connection when nothing arrives this long after our ping. @defaultValue 15000 */
  readonly heartbeatTimeoutMs?: number;
  /** Give up on an attempt when `connected` has not arrived within this. @defaultValue 15000 */
  readonly connectTimeoutMs?: number;
  /** Default timeout of a method call or subscription, queue time included. @defaultValue 30000 */
  readonly callTimeoutMs?: number;
  /** Calls that may wait for the connection to come back; more fail at once. @defaultValue 1000 */
  readonly maxQueuedCalls?: number;
  /** @defaultValue 500 */
  readonly reconnectInitialDelayMs?: number;
  /** @defaultValue 30000 */
  readonly reconnectMaxDelayMs?: number;
  /** Largest inbound frame accepted. @defaultValue 16 MiB */
  readonly maxPayloadBytes?: number;
  readonly timers?: DdpTimers;
  readonly random?: () => number;
  readonly counters?: DdpCounters;
  /**
   * Turns a text frame into a message. A worker's sessions share one (shared-frame-decoder.ts):
   * the copies of a room's event that they all receive are decoded once. @defaultValue decodeFrame
   */
  readonly decodeFrame?: FrameDecoder;
}

export interface CallOptions {
  /** @defaultValue the client's `callTimeoutMs` */
  readonly timeoutMs?: number;
}

/** `(args, eventName)`: `args` is `fields.args` exactly as received (EJSON, not decoded). */
export type StreamListener = (args: readonly unknown[], eventName: string) => void;

/** Raw `added`/`changed`/`removed` for one collection (e.g. Meteor's `users`). */
export type CollectionListener = (message: ServerMessage & { collection: string }) => void;

export interface DdpSubscription {
  readonly id: string;
  readonly name: string;
  readonly params: readonly unknown[];
  /** Sends `unsub`. Resolves at once: Rocket.Chat's ddp-streamer never confirms with `nosub`. */
  stop(): void;
}

export interface DdpClientEvents {
  status: [DdpStatus];
  ready: [ReadyInfo];
  disconnected: [{ readonly code: number; readonly reason: string }];
  /** The server ended a subscription we did not stop (permission lost, re-subscribe refused). */
  subscriptionLost: [DdpSubscription, DdpRemoteError | undefined];
  /** `onConnected` failed; with `fatal` the client is now closed. */
  authFailed: [{ readonly error: unknown; readonly fatal: boolean }];
  /** A frame we could not use, or a DDP `error` message from the server. */
  protocolError: [string];
}

interface PendingCall {
  readonly id: string;
  readonly method: string;
  readonly frame: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: unknown;
  sent: boolean;
}

interface SubscriptionWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: unknown;
  /** Set by `#awaitSubReady`: the wait of a reconnect for a subscription that was live before,
   * as opposed to the caller's own first `subscribe()`. */
  readonly isResubscribe: boolean;
}

interface SubscriptionRecord extends DdpSubscription {
  readonly frame: string;
  isReady: boolean;
  waiter: SubscriptionWaiter | undefined;
}

export interface DdpClientStats {
  framesIn: number;
  framesOut: number;
  reconnects: number;
}

/** The first frame of a SockJS session. */
const SOCKJS_OPEN_FRAME = 'o';

/** The url's path only: its host and query may carry credentials and never reach a log. */
function safePathOf(url: string): string {
  try {
    return `DDP endpoint path ${new URL(url).pathname}`;
  } catch {
    return 'DDP endpoint';
  }
}

export class DdpClient extends EventEmitter<DdpClientEvents> {
  readonly stats: DdpClientStats = { framesIn: 0, framesOut: 0, reconnects: 0 };
  #status: DdpStatus = 'idle';
  #socket: WebSocket | undefined;
  #sessionId = '';
  #seq = 0;
  #attempt = 0;
  #hasBeenReady = false;
  #lastInboundAtMs = 0;
  #downSinceMs: number | undefined;
  #pingSentAtMs: number | undefined;
  #heartbeatTimer: unknown;
  #connectTimer: unknown;
  #reconnectTimer: unknown;
  #closing: Promise<void> | undefined;
  /** Sub ids sent on the current socket and not unsubscribed since: an id is never sent twice,
   * because Rocket.Chat's ddp-streamer answers a repeated id with a second live copy. */
  readonly #sentSubIds = new Set<string>();
  readonly #inflight = new Map<string, PendingCall>();
  readonly #queued: PendingCall[] = [];
  readonly #subscriptions = new Map<string, SubscriptionRecord>();
  readonly #streamListeners = new Map<string, Map<string, Set<StreamListener>>>();
  readonly #collectionListeners = new Map<string, Set<CollectionListener>>();
  readonly #readyWaiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();
  readonly #timers: DdpTimers;
  readonly #counters: DdpCounters;
  readonly #decodeFrame: FrameDecoder;
  readonly #opts: Required<
    Omit<DdpClientOptions, 'onConnected' | 'timers' | 'random' | 'counters' | 'decodeFrame'>
  > &
    Pick<DdpClientOptions, 'onConnected' | 'random'>;

  constructor(options: DdpClientOptions) {
    super();
    if (!/^wss?:\/\//.test(options.url))
      throw new TypeError(`DDP url must be ws:// or wss:// (got ${options.url})`);
    this.#timers = options.timers ?? systemTimers;
    this.#counters = options.counters ?? {};
    this.#decodeFrame = options.decodeFrame ?? decodeFrame;
    this.#opts = {
      url: options.url,
      onConnected: options.onConnected,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 25_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      maxQueuedCalls: options.maxQueuedCalls ?? 1000,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 500,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 30_000,
      maxPayloadBytes: options.maxPayloadBytes ?? 16 * 1024 * 1024,
      random: options.random,
    };
    for (const [name, value] of Object.entries(this.#opts)) {
      if (name.endsWith('Ms') && (typeof value !== 'number' || !(value > 0))) {
        throw new RangeError(`${name} must be a positive number (got ${String(value)})`);
      }
    }
  }

  get status(): DdpStatus {
    return this.#status;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  /** Calls waiting for an answer or for the connection, for leak checks and metrics. */
  get pendingCallCount(): number {
    return this.#inflight.size + this.#queued.length;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /**
   * Starts connecting (if not already) and resolves when the client is ready. It keeps retrying
   * with backoff in the background; it rejects only when the client closes first.
   */
  connect(): Promise<void> {
    if (this.#status === 'closed') return Promise.reject(new DdpClosedError('connect'));
    if (this.#status === 'idle') this.#open();
    return this.whenReady();
  }

  whenReady(): Promise<void> {
    if (this.#status === 'ready') return Promise.resolve();
    if (this.#status === 'closed') return Promise.reject(new DdpClosedError('whenReady'));
    return new Promise((resolve, reject) => {
      this.#readyWaiters.add({ resolve, reject });
    });
  }

  /** Calls a method. Params are EJSON-encoded; the result is EJSON-decoded (dates become `Date`). */
  call<T = unknown>(method: string, params: readonly unknown[] = [], options: CallOptions = {}): Promise<T> {
    return this.#call(method, params, options.timeoutMs ?? this.#opts.callTimeoutMs, false) as Promise<T>;
  }

  /**
   * Subscribes and resolves on `ready`; rejects with the server's error on `nosub`. The
   * subscription is remembered and re-sent, with the same id, after every reconnect.
   */
  subscribe(
    name: string,
    params: readonly unknown[] = [],
    options: CallOptions = {},
  ): Promise<DdpSubscription> {
    if (this.#status === 'closed') return Promise.reject(new DdpClosedError(`sub ${name}`));
    const id = String(++this.#seq);
    const record: SubscriptionRecord = {
      id,
      name,
      params,
      frame: encodeFrame({ msg: 'sub', id, name, params: encodeEjson(params) }),
      isReady: false,
      waiter: undefined,
      stop: () => this.#unsubscribe(id),
    };
    const timeoutMs = options.timeoutMs ?? this.#opts.callTimeoutMs;
    return new Promise<DdpSubscription>((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#subscriptions.delete(id);
        this.#sendUnsub(id);
        reject(new DdpTimeoutError(`sub ${name}`, timeoutMs));
      }, timeoutMs);
      record.waiter = { resolve: () => resolve(record), reject, timer, isResubscribe: false };
      this.#subscriptions.set(id, record);
      if (this.#status === 'ready') this.#sendSub(record);
    });
  }

  /** Listens to stream events (`changed` on `collection`) for one event name, or `'*'` for all. */
  onStream(collection: string, eventName: string, listener: StreamListener): () => void {
    let byEvent = this.#streamListeners.get(collection);
    if (!byEvent) {
      byEvent = new Map();
      this.#streamListeners.set(collection, byEvent);
    }
    let set = byEvent.get(eventName);
    if (!set) {
      set = new Set();
      byEvent.set(eventName, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) byEvent.delete(eventName);
      if (byEvent.size === 0) this.#streamListeners.delete(collection);
    };
  }

  onCollection(collection: string, listener: CollectionListener): () => void {
    let set = this.#collectionListeners.get(collection);
    if (!set) {
      set = new Set();
      this.#collectionListeners.set(collection, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#collectionListeners.delete(collection);
    };
  }

  /** Drops the current connection as if the network had; the client reconnects by itself. */
  reconnectNow(): void {
    if (this.#status === 'waiting') {
      this.#timers.clearTimeout(this.#reconnectTimer);
      this.#open();
    } else {
      this.#socket?.terminate();
    }
  }

  /**
   * Closes for good: pending calls and subscriptions fail with `DdpClosedError`, every timer
   * and listener is released. Idempotent.
   */
  close(reason?: Error): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = this.#shutdown(reason);
    return this.#closing;
  }

  async #shutdown(reason: Error | undefined): Promise<void> {
    this.#setStatus('closed');
    this.#timers.clearTimeout(this.#reconnectTimer);
    this.#clearConnectionTimers();
    const error = reason ?? new DdpClosedError('client');
    for (const waiter of this.#readyWaiters) waiter.reject(error);
    this.#readyWaiters.clear();
    this.#failCalls((call) => (reason ? reason : new DdpClosedError(call.method)));
    for (const record of this.#subscriptions.values()) this.#settleSubscription(record, error);
    this.#subscriptions.clear();
    this.#streamListeners.clear();
    this.#collectionListeners.clear();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.terminate();
      });
    }
    socket?.removeAllListeners();
    this.removeAllListeners();
  }

  #open(): void {
    this.#setStatus('connecting');
    const socket = new WebSocket(this.#opts.url, {
      perMessageDeflate: false,
      maxPayload: this.#opts.maxPayloadBytes,
      handshakeTimeout: this.#opts.connectTimeoutMs,
    });
    this.#socket = socket;
    this.#sentSubIds.clear();
    this.#connectTimer = this.#timers.setTimeout(() => socket.terminate(), this.#opts.connectTimeoutMs);
    socket.on('open', () => {
      this.#lastInboundAtMs = this.#timers.now();
      this.#send(encodeFrame({ msg: 'connect', version: '1', support: SUPPORTED_DDP_VERSIONS }));
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onFrame(data.toString());
    });
    // 'close' always follows 'error' in ws; all recovery happens there.
    socket.on('error', () => {});
    socket.on('close', (code: number, reason: Buffer) =>
      this.#onSocketClosed(socket, code, reason.toString()),
    );
  }

  #onFrame(text: string): void {
    this.stats.framesIn++;
    this.#counters.framesIn?.inc();
    this.#lastInboundAtMs = this.#timers.now();
    if (text === SOCKJS_OPEN_FRAME && this.#status === 'connecting') {
      this.#failOnSockJs();
      return;
    }
    const decoded = this.#decodeFrame(text);
    if (!decoded.ok) {
      this.emit('protocolError', decoded.error);
      return;
    }
    const message = decoded.message;
    if (message === null) return;
    try {
      this.#dispatch(message);
    } catch (error) {
      // A listener (or a pathological frame) threw: this runs inside the socket's 'message'
      // handler, where an exception would escape ws and take the process down.
      this.emit(
        'protocolError',
        `frame handler threw ${error instanceof Error ? error.name : 'a non-error'}`,
      );
    }
  }

  #dispatch(message: ServerMessage): void {
    switch (message.msg) {
      case 'changed': {
        const byEvent = this.#streamListeners.get(message.collection);
        const fields = message.fields;
        if (byEvent && fields) {
          const eventName = fields.eventName;
          if (typeof eventName !== 'string') {
            this.emit('protocolError', 'changed frame without an eventName');
            return;
          }
          const args = (Array.isArray(fields.args) ? fields.args : []) as unknown[];
          const exact = byEvent.get(eventName);
          if (exact) for (const listener of exact) listener(args, eventName);
          const any = byEvent.get('*');
          if (any) for (const listener of any) listener(args, eventName);
        }
        this.#dispatchCollection(message);
        return;
      }
      case 'result':
        this.#onResult(message.id, message.result, message.error);
        return;
      case 'ping':
        this.#send(encodeFrame(message.id === undefined ? { msg: 'pong' } : { msg: 'pong', id: message.id }));
        return;
      case 'pong':
      case 'updated':
        return;
      case 'ready':
        for (const id of message.subs) this.#onSubReady(id);
        return;
      case 'nosub':
        this.#onNosub(message.id, message.error);
        return;
      case 'added':
      case 'removed':
        this.#dispatchCollection(message);
        return;
      case 'connected':
        this.#onConnected(message.session);
        return;
      case 'failed':
        this.emit('protocolError', `server refused DDP versions ${SUPPORTED_DDP_VERSIONS.join(',')}`);
        this.#socket?.terminate();
        return;
      case 'error':
        this.emit(
          'protocolError',
          `server error: ${typeof message.reason === 'string' ? message.reason : 'unknown'}`,
        );
        return;
      default:
        this.emit('protocolError', `unknown msg ${(message as { msg: string }).msg}`);
    }
  }

  #dispatchCollection(message: ServerMessage & { collection: string }): void {
    const set = this.#collectionListeners.get(message.collection);
    if (set) for (const listener of set) listener(message);
  }

  #onConnected(sessionId: string): void {
    if (this.#status !== 'connecting') return;
    this.#timers.clearTimeout(this.#connectTimer);
    this.#sessionId = sessionId;
    this.#setStatus('authenticating');
    this.#scheduleHeartbeat(this.#opts.heartbeatIntervalMs);
    const socket = this.#socket;
    const isReconnect = this.#hasBeenReady;
    const hook = this.#opts.onConnected;
    const context: ConnectedContext = {
      sessionId,
      isReconnect,
      call: <T>(method: string, params: readonly unknown[]) =>
        this.#call(method, params, this.#opts.callTimeoutMs, true) as Promise<T>,
    };
    (hook ? hook(context) : Promise.resolve()).then(
      () => {
        if (this.#socket === socket && this.#status === 'authenticating') void this.#becomeReady(isReconnect);
      },
      (error: unknown) => {
        if (this.#socket !== socket || this.#status === 'closed') return;
        const fatal = error instanceof DdpFatalError;
        this.emit('authFailed', { error, fatal });
        if (fatal) void this.close(error);
        else socket?.terminate();
      },
    );
  }

  async #becomeReady(isReconnect: boolean): Promise<void> {
    const socket = this.#socket;
    // Re-subscribe before declaring ready, so that the downtime we report ends at a moment from
    // which every stream is live again: back-filling [from, to] then leaves no hole.
    const resubscribed: Promise<void>[] = [];
    for (const record of this.#subscriptions.values()) {
      record.isReady = false;
      this.#sendSub(record);
      if (!record.waiter) resubscribed.push(this.#awaitSubReady(record));
    }
    await Promise.all(resubscribed);
    if (this.#socket !== socket || this.#status !== 'authenticating') return;
    this.#attempt = 0;
    this.#hasBeenReady = true;
    this.#setStatus('ready');
    // Subscribed while the re-subscriptions were being awaited: not sent yet on this line.
    for (const record of this.#subscriptions.values()) this.#sendSub(record);
    const queued = this.#queued.splice(0);
    for (const call of queued) this.#sendCall(call);
    const downtime =
      isReconnect && this.#downSinceMs !== undefined
        ? { fromMs: this.#downSinceMs, toMs: this.#timers.now() }
        : undefined;
    this.#downSinceMs = undefined;
    for (const waiter of this.#readyWaiters) waiter.resolve();
    this.#readyWaiters.clear();
    this.emit(
      'ready',
      downtime
        ? { sessionId: this.#sessionId, isReconnect, downtime }
        : { sessionId: this.#sessionId, isReconnect },
    );
  }

  /** Waits for a re-sent subscription; a refusal drops it (reported), a lost line ends the wait. */
  #awaitSubReady(record: SubscriptionRecord): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#timers.setTimeout(() => {
        record.waiter = undefined;
        resolve();
      }, this.#opts.callTimeoutMs);
      record.waiter = {
        resolve: () => {
          this.#timers.clearTimeout(timer);
          record.waiter = undefined;
          resolve();
        },
        reject: () => {
          this.#timers.clearTimeout(timer);
          record.waiter = undefined;
          resolve();
        },
        timer,
        isResubscribe: true,
      };
    });
  }

  #onSubReady(id: string): void {
    const record = this.#subscriptions.get(id);
    if (!record) {
      // A sub we gave up on (timed out, stopped) while the server still held it: the
      // ddp-streamer runs `sub` only after the connection's earlier method calls but `unsub` at
      // once, so our unsub found nothing and the sub went live anyway. Left alone, every event
      // of that stream would arrive twice once the stream is subscribed again.
      if (this.#status !== 'closed') this.#send(encodeFrame({ msg: 'unsub', id }));
      return;
    }
    record.isReady = true;
    const waiter = record.waiter;
    if (waiter) {
      record.waiter = undefined;
      this.#timers.clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }

  #onNosub(id: string, error: DdpErrorObject | undefined): void {
    this.#sentSubIds.delete(id);
    const record = this.#subscriptions.get(id);
    if (!record) return;
    this.#subscriptions.delete(id);
    const remote = error ? new DdpRemoteError(error, `sub ${record.name}`) : undefined;
    if (record.waiter) {
      const isResubscribe = record.waiter.isResubscribe;
      this.#settleSubscription(
        record,
        remote ?? new DdpError('DDP_ERR_NOSUB', `sub ${record.name}: stopped by server`),
      );
      // A refused re-subscribe after reconnect is a lost subscription too. A refused first
      // `subscribe()` is not: it never was live, and its caller already gets the rejection
      // (checking `#hasBeenReady` instead reported every refusal made after the first ready).
      if (isResubscribe) this.emit('subscriptionLost', record, remote);
      return;
    }
    this.emit('subscriptionLost', record, remote);
  }

  #settleSubscription(record: SubscriptionRecord, error: Error): void {
    const waiter = record.waiter;
    if (!waiter) return;
    record.waiter = undefined;
    this.#timers.clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  #unsubscribe(id: string): void {
    const record = this.#subscriptions.get(id);
    if (!record) return;
    this.#subscriptions.delete(id);
    this.#settleSubscription(record, new DdpError('DDP_ERR_NOSUB', `sub ${record.name}: stopped`));
    this.#sendUnsub(id);
  }

  /** Sends `sub` unless this id is already subscribed on the current socket. */
  #sendSub(record: SubscriptionRecord): void {
    if (this.#sentSubIds.has(record.id)) return;
    if (this.#send(record.frame)) this.#sentSubIds.add(record.id);
  }

  /** Sends `unsub` for an id sent on the current socket; a new socket knows nothing of it. */
  #sendUnsub(id: string): void {
    if (!this.#sentSubIds.delete(id)) return;
    this.#send(encodeFrame({ msg: 'unsub', id }));
  }

  /**
   * The endpoint speaks SockJS, not raw DDP: Rocket.Chat's ddp-streamer does so on every path
   * but exactly `/websocket`. Retrying cannot help, so the client closes with a message that says
   * what to change instead of sitting in `connecting` and retrying forever.
   */
  #failOnSockJs(): void {
    const path = safePathOf(this.#opts.url);
    const error = new DdpFatalError(
      `${path} answered with SockJS framing ("o"), not raw DDP: Rocket.Chat's ddp-streamer ` +
        'speaks raw WebSocket frames only on exactly /websocket. Route <base path>/websocket to ' +
        "the streamer's /websocket (or set the Rocket.Chat URL so that DDP is served there).",
    );
    this.emit('protocolError', error.message);
    void this.close(error);
  }

  #call(
    method: string,
    params: readonly unknown[],
    timeoutMs: number,
    bypassReadyGate: boolean,
  ): Promise<unknown> {
    if (this.#status === 'closed') return Promise.reject(new DdpClosedError(method));
    const isSendable = this.#status === 'ready' || (bypassReadyGate && this.#status === 'authenticating');
    if (!isSendable && this.#queued.length >= this.#opts.maxQueuedCalls) {
      return Promise.reject(new DdpQueueFullError(this.#opts.maxQueuedCalls));
    }
    const id = String(++this.#seq);
    return new Promise((resolve, reject) => {
      const call: PendingCall = {
        id,
        method,
        frame: encodeFrame({ msg: 'method', id, method, params: encodeEjson(params) }),
        resolve,
        reject,
        timer: undefined,
        sent: false,
      };
      call.timer = this.#timers.setTimeout(() => this.#onCallTimeout(call, timeoutMs), timeoutMs);
      if (isSendable) this.#sendCall(call);
      else this.#queued.push(call);
    });
  }

  #sendCall(call: PendingCall): void {
    this.#inflight.set(call.id, call);
    call.sent = this.#send(call.frame);
  }

  #onCallTimeout(call: PendingCall, timeoutMs: number): void {
    if (this.#inflight.delete(call.id)) {
      call.reject(new DdpTimeoutError(`method ${call.method}`, timeoutMs));
      return;
    }
    const index = this.#queued.indexOf(call);
    if (index >= 0) this.#queued.splice(index, 1);
    call.reject(new DdpNotSentError(`method ${call.method}`, timeoutMs));
  }

  #onResult(id: string, result: unknown, error: DdpErrorObject | undefined): void {
    const call = this.#inflight.get(id);
    if (!call) return;
    this.#inflight.delete(id);
    this.#timers.clearTimeout(call.timer);
    if (error) {
      call.reject(new DdpRemoteError(error, `method ${call.method}`));
      return;
    }
    let value: unknown;
    try {
      value = result === undefined ? undefined : decodeEjson(result);
    } catch (decodeError) {
      // Nesting deep enough to exhaust the stack: fail this call, not the socket handler.
      call.reject(
        new DdpError('DDP_ERR_PROTOCOL', `method ${call.method}: result is not decodable EJSON`, {
          cause: decodeError,
        }),
      );
      return;
    }
    call.resolve(value);
  }

  #failCalls(makeError: (call: PendingCall) => Error, onlyInflight = false): void {
    for (const call of this.#inflight.values()) {
      this.#timers.clearTimeout(call.timer);
      call.reject(makeError(call));
    }
    this.#inflight.clear();
    if (onlyInflight) return;
    for (const call of this.#queued.splice(0)) {
      this.#timers.clearTimeout(call.timer);
      call.reject(makeError(call));
    }
  }

  #onSocketClosed(socket: WebSocket, code: number, reason: string): void {
    socket.removeAllListeners();
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#clearConnectionTimers();
    if (this.#status === 'closed') return;
    const wasUp = this.#status === 'ready' || this.#status === 'authenticating';
    // The line is down from the last moment we know we heard the server, not from the close.
    if (this.#downSinceMs === undefined && this.#hasBeenReady) this.#downSinceMs = this.#lastInboundAtMs;
    // Calls already written may have run upstream: say so. Queued ones wait for the next line.
    this.#failCalls((call) => new DdpDisconnectedError(`method ${call.method}`, call.sent), true);
    // Re-subscribe waits belong to the line that died: end them now. Left in place, the next
    // line's `#becomeReady` saw a waiter, did not wait for its own `ready`, and declared ready
    // (ending the reported downtime) before the server had the subscriptions back: a hole in the
    // back-fill. Callers' own `subscribe()` waits stay: their timeout spans reconnects.
    for (const record of this.#subscriptions.values()) {
      if (record.waiter?.isResubscribe) {
        this.#settleSubscription(record, new DdpDisconnectedError(`sub ${record.name}`, true));
      }
    }
    if (wasUp) this.emit('disconnected', { code, reason });
    this.#setStatus('waiting');
    const delay = backoffDelayMs(this.#attempt++, {
      initialDelayMs: this.#opts.reconnectInitialDelayMs,
      maxDelayMs: this.#opts.reconnectMaxDelayMs,
      ...(this.#opts.random ? { random: this.#opts.random } : {}),
    });
    this.#reconnectTimer = this.#timers.setTimeout(() => {
      this.stats.reconnects++;
      this.#counters.reconnects?.inc();
      this.#open();
    }, delay);
  }

  /**
   * One timer per connection rather than one reset per frame: when it fires it checks how long
   * the line has been quiet, pings if needed, and drops the socket if even our ping got nothing.
   */
  #scheduleHeartbeat(delayMs: number): void {
    this.#heartbeatTimer = this.#timers.setTimeout(() => this.#checkHeartbeat(), delayMs);
  }

  #checkHeartbeat(): void {
    const now = this.#timers.now();
    const quietMs = now - this.#lastInboundAtMs;
    if (this.#pingSentAtMs !== undefined) {
      if (this.#lastInboundAtMs >= this.#pingSentAtMs) {
        this.#pingSentAtMs = undefined;
      } else {
        this.#socket?.terminate();
        return;
      }
    }
    if (quietMs >= this.#opts.heartbeatIntervalMs) {
      this.#pingSentAtMs = now;
      this.#send(encodeFrame({ msg: 'ping' }));
      this.#scheduleHeartbeat(this.#opts.heartbeatTimeoutMs);
    } else {
      this.#scheduleHeartbeat(this.#opts.heartbeatIntervalMs - quietMs);
    }
  }

  #clearConnectionTimers(): void {
    this.#timers.clearTimeout(this.#connectTimer);
    this.#timers.clearTimeout(this.#heartbeatTimer);
    this.#pingSentAtMs = undefined;
  }

  #send(frame: string): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(frame);
    this.stats.framesOut++;
    this.#counters.framesOut?.inc();
    return true;
  }

  #setStatus(status: DdpStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }
}
