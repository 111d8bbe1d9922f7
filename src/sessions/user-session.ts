/**
 * One Rocket.Chat user's upstream session: a DDP client logged in with the user's resume token,
 * its stream subscriptions, and the path from stream frame to event log. After any reconnect or
 * takeover it holds live events back, fetches what changed while nobody listened, logs that,
 * then releases the held events: the log stays in order and the de-duplicating append drops the
 * overlap, so nothing is logged twice and nothing is missing.
 */
import { type Clock, delay, systemClock } from '../clock.js';
import { DdpClient, type DdpClientOptions, DdpRemoteError, type Downtime } from '../ddp/index.js';
import { type EventLog, FencedError, type SerializedEvent, serializeEvent } from '../events/event-log.js';
import { formatTopic, parseTopics, type Topic } from '../events/topics.js';
import { isRetryableRedisError } from '../redis/errors.js';
import { CredentialsRejectedError, loginOverDdp } from '../rocketchat/login.js';
import { normalizeStreamEvent, type SkipListener } from '../rocketchat/normalize.js';
import { type RocketChatRestClient, RocketChatRestError } from '../rocketchat/rest-client.js';
import { controlStreams, type UpstreamStream, upstreamSubscriptionsFor } from '../rocketchat/streams.js';
import { catchUp } from './catch-up.js';
import { UpstreamSubscriptions } from './upstream-subscriptions.js';

export interface StreamRefusal {
  readonly key: string;
  /** Rocket.Chat's error code (`not-allowed`, 404...). */
  readonly error: string | number;
  readonly reason?: string;
}

export type UserSessionState =
  | 'starting'
  | 'live'
  | 'catching-up'
  | 'reconnecting'
  | 'unauthorized'
  | 'closed';

const STREAM_COLLECTIONS = [
  'stream-room-messages',
  'stream-notify-room',
  'stream-notify-user',
  'stream-notify-logged',
] as const;

export interface UserSessionOptions {
  readonly userId: string;
  readonly token: string;
  readonly ddpUrl: string;
  readonly eventLog: EventLog;
  readonly rest: RocketChatRestClient;
  readonly lingerMs: number;
  /** The generation of the lease this session runs under: every append carries it (the fence). */
  readonly leaseGeneration: number;
  readonly ddp?: Partial<Omit<DdpClientOptions, 'url' | 'onConnected'>>;
  /** Activity times, lag, catch-up windows and retry pauses. @defaultValue systemClock */
  readonly clock?: Clock;
  /** The token stopped working: the owner marks the credential invalid and releases the session. */
  readonly onUnauthorized?: (reason: string) => void;
  /** Redis refused an append: the user's session was granted to a newer lease. The owner closes this one. */
  readonly onFenced?: () => void;
  readonly onStateChange?: (state: UserSessionState) => void;
  /** Failures that the session survives (a failed append, a failed catch-up), for logs and metrics. */
  readonly onError?: (error: unknown, context: string) => void;
  /** After each event is logged: receivedAt -> logged lag, for metrics. */
  readonly onLogged?: (event: LoggedEvent, lagMs: number) => void;
  /** A stream frame that gave no event (see normalize.ts `SkipReason`), for metrics. */
  readonly onSkipped?: SkipListener;
}

/** Pauses between attempts at a catch-up that failed; then it is given up (about 15 s in all). */
const CATCH_UP_RETRY_DELAYS_MS = [250, 1000, 2000, 4000, 8000];

/** How long to wait before catching up again, or undefined when trying again cannot help. */
function catchUpRetryDelayMs(err: unknown, attempt: number): number | undefined {
  const delayMs = CATCH_UP_RETRY_DELAYS_MS[attempt];
  if (delayMs === undefined) return undefined;
  if (err instanceof RocketChatRestError) {
    // The token no longer works: the session's own login failure handles that.
    if (err.status === 401 || err.status === 403) return undefined;
    // Rate limited: Rocket.Chat says how long (capped, so a session does not sit on its events).
    if (err.retryAfterMs !== undefined) return Math.min(Math.max(delayMs, err.retryAfterMs), 10_000);
  }
  return delayMs;
}

/** Pauses between attempts at an append Redis could not take (the last one repeats). */
const APPEND_RETRY_DELAYS_MS = [50, 100, 250, 500, 1000];

/** The most events one append script takes: bounds how long Redis runs one script. */
const MAX_APPEND_BATCH = 64;

/** What `onLogged` is told of an event (it was serialized for the log as it arrived). */
export type LoggedEvent = Pick<SerializedEvent, 'type' | 'userId' | 'roomId'>;

interface PendingAppend {
  readonly event: SerializedEvent;
  readonly receivedAtMs: number;
}

export class UserSession {
  readonly userId: string;
  readonly client: DdpClient;
  #state: UserSessionState = 'starting';
  #topics: readonly Topic[] = [];
  #held: PendingAppend[] | undefined = [];
  /** Events waiting for the batch on its way to Redis (see #drainAppends). */
  readonly #pendingAppends: PendingAppend[] = [];
  /** The drain in progress, while there is one. */
  #appending: Promise<void> | undefined;
  /** An append was given up at close: the rest is dropped too (see #enqueueAppend). */
  #isAppendAbandoned = false;
  #lastActivityMs: number;
  readonly #subscriptions: UpstreamSubscriptions;
  readonly #options: UserSessionOptions;
  readonly #clock: Clock;

  constructor(options: UserSessionOptions) {
    this.userId = options.userId;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#lastActivityMs = this.#clock.now();
    this.client = new DdpClient({
      ...options.ddp,
      url: options.ddpUrl,
      onConnected: async (ctx) => {
        await loginOverDdp(ctx.call, { kind: 'resume', token: options.token });
      },
    });
    this.#subscriptions = new UpstreamSubscriptions({
      client: this.client,
      lingerMs: options.lingerMs,
      clock: this.#clock,
    });
    for (const collection of STREAM_COLLECTIONS) {
      this.client.onStream(collection, '*', (args, eventName) =>
        this.#onStreamEvent(collection, eventName, args),
      );
    }
    this.client.on('disconnected', () => {
      // Hold live events from the moment the line drops until catch-up has run.
      this.#held ??= [];
      this.#setState('reconnecting');
    });
    this.client.on('ready', (info) => {
      if (info.downtime) void this.#catchUpThenRelease(info.downtime);
    });
    this.client.on('authFailed', ({ error, fatal }) => {
      if (fatal)
        this.#becomeUnauthorized(
          error instanceof CredentialsRejectedError ? 'token rejected' : String(error),
        );
    });
    this.client.on('subscriptionLost', (sub) => this.#subscriptions.forget(sub.id));
  }

  get state(): UserSessionState {
    return this.#state;
  }

  get topics(): readonly Topic[] {
    return this.#topics;
  }

  get lastActivityMs(): number {
    return this.#lastActivityMs;
  }

  /**
   * Connects, logs in, subscribes the control streams and the given topics, then catches up
   * from what the log already holds (a takeover or a restart) before going live.
   */
  async start(topics: readonly Topic[]): Promise<void> {
    await this.client.connect();
    this.#topics = topics;
    await this.#subscriptions.reconcile(this.#wantedStreams());
    await this.#catchUpThenRelease(undefined);
  }

  /** Changes what the session subscribes; resolves when new streams are ready or refused. */
  async setTopics(topics: readonly Topic[]): Promise<void> {
    this.#topics = topics;
    if (topics.length > 0) this.#lastActivityMs = this.#clock.now();
    if (this.#state === 'unauthorized' || this.#state === 'closed') return;
    await this.#subscriptions.reconcile(this.#wantedStreams());
  }

  /**
   * Whether every one of `topicStrings` (formatted topics) is among the session's topics and none
   * of their streams was refused (a refused one is tried again by the next `setTopics`).
   */
  hasTopics(topicStrings: readonly string[]): boolean {
    const wanted = new Set(topicStrings);
    let found = 0;
    for (const topic of this.#topics) {
      if (!wanted.has(formatTopic(topic))) continue;
      found++;
      for (const stream of upstreamSubscriptionsFor(topic, this.userId))
        if (this.#subscriptions.refusalOf(stream.key)) return false;
    }
    return found === wanted.size;
  }

  /** Why Rocket.Chat refused a stream (e.g. `not-allowed` for a room the user cannot read). */
  refusalOf(stream: UpstreamStream): Error | undefined {
    return this.#subscriptions.refusalOf(stream.key);
  }

  /** A method call over this session (after login; queued while reconnecting). */
  call<T = unknown>(method: string, params: readonly unknown[], timeoutMs?: number): Promise<T> {
    this.#lastActivityMs = this.#clock.now();
    return this.client.call<T>(method, params, timeoutMs ? { timeoutMs } : {});
  }

  /**
   * Adds the topics to the session, waits until their streams are subscribed, and reports the
   * streams Rocket.Chat refused with its own `nosub` (so an SSE request for a room the user
   * cannot read gets a 403, and one that can read it is answered only once nothing can be missed).
   */
  async ensureTopics(topicStrings: readonly string[]): Promise<StreamRefusal[]> {
    const requested = parseTopics(topicStrings);
    const merged = new Map(this.#topics.map((t) => [formatTopic(t), t]));
    for (const topic of requested) merged.set(formatTopic(topic), topic);
    this.#topics = [...merged.values()];
    this.#lastActivityMs = this.#clock.now();
    await this.#subscriptions.reconcile(this.#wantedStreams());
    const refusals: StreamRefusal[] = [];
    for (const topic of requested) {
      for (const stream of upstreamSubscriptionsFor(topic, this.userId)) {
        const refusal = this.#subscriptions.refusalOf(stream.key);
        if (refusal instanceof DdpRemoteError) {
          refusals.push({
            key: stream.key,
            error: refusal.error,
            ...(refusal.reason ? { reason: refusal.reason } : {}),
          });
        } else if (refusal) {
          throw refusal;
        }
      }
    }
    return refusals;
  }

  /** Resolves when every event received so far has been appended to the log. */
  flushed(): Promise<void> {
    return this.#appending ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    this.#subscriptions.close();
    await this.client.close();
    await this.#appending;
  }

  #wantedStreams(): UpstreamStream[] {
    const streams = new Map<string, UpstreamStream>();
    for (const stream of controlStreams(this.userId)) streams.set(stream.key, stream);
    for (const topic of this.#topics) {
      for (const stream of upstreamSubscriptionsFor(topic, this.userId)) streams.set(stream.key, stream);
    }
    return [...streams.values()];
  }

  #onStreamEvent(collection: string, eventName: string, args: readonly unknown[]): void {
    const receivedAtMs = this.#clock.now();
    const events = normalizeStreamEvent(
      { collection, eventName, args, userId: this.userId, receivedAtMs },
      this.#options.onSkipped,
    );
    for (const event of events) {
      // Serialized now: what waits for Redis is then one string, and the frame's objects die young.
      const serialized = serializeEvent(event);
      if (this.#held) this.#held.push({ event: serialized, receivedAtMs });
      else this.#enqueueAppend(serialized, receivedAtMs);
      if (event.type === 'session.unauthorized') this.#becomeUnauthorized('force_logout');
    }
  }

  /**
   * Appends strictly in arrival order (one queue per session), so the log keeps upstream order.
   * A failure Redis may get over (a cluster node away, a connection lost) is tried again, and
   * the events behind it wait: dropping it while later ones got in would leave a hole that no
   * catch-up fills, since catch-up starts after the newest message logged for the room (found
   * by test/integration/redis-cluster.test.ts, a master stopped for a few seconds). A closed
   * session stops trying, and logs nothing more: whoever takes the user over catches up from
   * what was logged.
   */
  #enqueueAppend(event: SerializedEvent, receivedAtMs: number): void {
    if (this.#isAppendAbandoned) return;
    this.#pendingAppends.push({ event, receivedAtMs });
    this.#appending ??= this.#drainAppends();
  }

  /**
   * While one batch is on its way to Redis, the events that arrive meanwhile wait, and go as
   * the next batch: one round trip for all of them, so the log keeps up with a flood instead of
   * paying a round trip per event. A batch is one script, logged whole or not at all, so the
   * order and the no-hole rule above hold for batches as they did for single events.
   */
  async #drainAppends(): Promise<void> {
    // The sessions' appends of one turn already leave in one write: the event log's connection
    // is auto-pipelined, and ioredis flushes it with `setImmediate`, after the turn's I/O.
    while (this.#pendingAppends.length > 0 && !this.#isAppendAbandoned) {
      await this.#appendBatch(this.#pendingAppends.splice(0, MAX_APPEND_BATCH));
    }
    // Cleared in the same synchronous step as the last look at the queue: an event enqueued
    // from here on starts a new drain.
    this.#appending = undefined;
  }

  async #appendBatch(batch: readonly PendingAppend[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const logged = await this.#options.eventLog.appendSerialized(
          this.userId,
          batch.map((pending) => pending.event),
          { leaseGeneration: this.#options.leaseGeneration },
        );
        const now = this.#clock.now();
        logged.forEach((appended, i) => {
          if (appended) this.#options.onLogged?.(batch[i]!.event, now - batch[i]!.receivedAtMs);
        });
        return;
      } catch (err) {
        if (err instanceof FencedError) {
          // Taken over while this process was paused or cut off: the successor logs from here.
          this.#abandonAppends();
          this.#options.onFenced?.();
          return;
        }
        if (attempt === 0 || !isRetryableRedisError(err)) this.#options.onError?.(err, 'append');
        if (!isRetryableRedisError(err)) return;
        await delay(this.#clock, APPEND_RETRY_DELAYS_MS[Math.min(attempt, 4)] ?? 1000);
        if (this.#isClosed()) {
          // Nothing after this batch may be logged by this session either: a later event in
          // the log would move the room's catch-up start past this one.
          this.#abandonAppends();
          return;
        }
      }
    }
  }

  #abandonAppends(): void {
    this.#isAppendAbandoned = true;
    this.#pendingAppends.length = 0;
  }

  /** A method, not a field read: the state changes while an append waits to try again. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  async #catchUpThenRelease(downtime: Downtime | undefined): Promise<void> {
    this.#held ??= [];
    this.#setState('catching-up');
    // Given up, the held events go out and the log moves past what was missed: the rooms'
    // catch-up would then start after it. So a failure (Rocket.Chat busy or rate limiting,
    // Redis away) is tried again for a while first.
    for (let attempt = 0; ; attempt++) {
      try {
        const events = await catchUp({
          userId: this.userId,
          token: this.#options.token,
          topics: this.#topics,
          eventLog: this.#options.eventLog,
          rest: this.#options.rest,
          call: (method, params) => this.client.call(method, params),
          downtime,
          now: this.#clock.now(),
        });
        for (const event of events) this.#enqueueAppend(serializeEvent(event), this.#clock.now());
        break;
      } catch (err) {
        this.#options.onError?.(err, 'catch-up');
        const delayMs = catchUpRetryDelayMs(err, attempt);
        if (delayMs === undefined || this.#isClosed()) break;
        await delay(this.#clock, delayMs);
        if (this.#isClosed()) break;
      }
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const { event, receivedAtMs } of held) this.#enqueueAppend(event, receivedAtMs);
    if (this.#state === 'catching-up') this.#setState('live');
  }

  #becomeUnauthorized(reason: string): void {
    if (this.#state === 'unauthorized' || this.#state === 'closed') return;
    this.#setState('unauthorized');
    // No retry loop: the session waits for new credentials (a new session is started then).
    this.#subscriptions.close();
    void this.client.close();
    if (reason !== 'force_logout') {
      this.#enqueueAppend(
        serializeEvent({
          type: 'session.unauthorized',
          userId: this.userId,
          ts: new Date(this.#clock.now()).toISOString(),
          data: { reason },
        }),
        this.#clock.now(),
      );
    }
    this.#options.onUnauthorized?.(reason);
  }

  #setState(state: UserSessionState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
