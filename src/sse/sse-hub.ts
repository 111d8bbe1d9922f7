/**
 * The SSE connections of one process: one heartbeat sweep for all of them (rather than a timer
 * each), one refresh of their consumer registrations per user, live events from the LiveHub,
 * and the drain that tells every client to reconnect elsewhere on shutdown.
 */
import type { ServerResponse } from 'node:http';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { createError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import type { LiveEvent, LiveHub } from '../events/live-hub.js';
import type { Topic } from '../events/topics.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import { formatRetry } from './frame.js';
import {
  type HistoryStart,
  SseConnection,
  type SseEndReason,
  type SseEventMatcher,
} from './sse-connection.js';

export interface SseHubOptions {
  readonly liveHub: LiveHub;
  readonly eventLog: EventLog;
  readonly consumers: ConsumerRegistry;
  readonly processId: string;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxBufferBytes: number;
  /**
   * Streams (open or being opened) one user may hold in this process; more are refused with
   * `GW_ERR_RATE_LIMITED`. The gateway passes `SSE_MAX_STREAMS_PER_USER`. @defaultValue no cap
   */
  readonly maxStreamsPerUser?: number;
  /** How often consumer registrations are refreshed; they expire after three missed refreshes. */
  readonly consumerRefreshMs?: number;
  /** The heartbeat sweep and the consumer refresh. @defaultValue systemClock */
  readonly clock?: Clock;
  readonly onConnectionCount?: (delta: 1 | -1) => void;
  /** `count` clients were just sent the event (once per event per live fan-out; once per replayed write). */
  readonly onEventWritten?: (event: { readonly id: string }, count: number) => void;
  readonly onEnd?: (reason: SseEndReason) => void;
  readonly onError?: (error: unknown, context: string) => void;
}

export interface SseOpenOptions {
  readonly response: ServerResponse;
  readonly matches: SseEventMatcher;
  readonly lastEventId: string | undefined;
  /** Without `lastEventId`: replay the log from a time (or all of it) before going live. */
  readonly history?: HistoryStart;
}

/** A consumer registered for a stream that is not open yet (the route is still checking access). */
export interface SseReservation {
  readonly userId: string;
  readonly consumerId: string;
  /** Gives the reservation back when the stream will not open after all. */
  release(): void;
}

/** A reservation not yet opened: what releases it when the client hangs up first. */
interface Reserved {
  readonly response: ServerResponse;
  readonly release: () => void;
  registered: Promise<void> | undefined;
}

/** The client hung up (or the response was ended) before the stream could start. */
function isGone(response: ServerResponse): boolean {
  return response.destroyed || response.writableEnded;
}

interface UserEntry {
  readonly connections: Map<string, SseConnection | undefined>;
  readonly unlisten: Promise<() => void>;
  /** Every frame held for the user's clients this turn, and its encoding once asked for. */
  readonly turn: HeldTurn;
}

/**
 * The frames one user's clients were held this turn. Most clients get every one of them (one
 * room, no content filter), so the text is encoded once and that buffer written to each of
 * them, instead of each client's own copy encoded once per socket.
 */
class HeldTurn {
  text = '';
  #buffer: Buffer | undefined;

  add(frame: string): void {
    this.text += frame;
    this.#buffer = undefined;
  }

  buffer(): Buffer {
    this.#buffer ??= Buffer.from(this.text);
    return this.#buffer;
  }

  reset(): void {
    this.text = '';
    this.#buffer = undefined;
  }
}

export class SseHub {
  readonly #options: SseHubOptions;
  readonly #clock: Clock;
  readonly #users = new Map<string, UserEntry>();
  readonly #reserved = new Map<string, Reserved>();
  #held: SseConnection[] = [];
  /** The user entries whose turns are held, reset when the writes are released. */
  #heldTurns: HeldTurn[] = [];
  /** Numbers the turns whose writes are held together; a connection records the one it joined. */
  #batch = 0;
  #isReleaseDue = false;
  readonly #heartbeatTimer: TimerHandle;
  readonly #refreshTimer: TimerHandle;
  readonly #refreshMs: number;
  readonly #stopResync: () => void;
  #seq = 0;
  #draining = false;

  constructor(options: SseHubOptions) {
    this.#options = options;
    const clock = options.clock ?? systemClock;
    this.#clock = clock;
    this.#refreshMs = options.consumerRefreshMs ?? 10_000;
    this.#heartbeatTimer = clock.setInterval(
      () => this.#sweepHeartbeats(),
      Math.max(50, Math.floor(options.heartbeatMs / 4)),
    );
    this.#heartbeatTimer.unref();
    this.#refreshTimer = clock.setInterval(() => void this.#refreshConsumers(), this.#refreshMs);
    this.#refreshTimer.unref();
    this.#stopResync = options.liveHub.onResync(() => {
      for (const entry of this.#users.values()) {
        for (const connection of entry.connections.values()) {
          void connection?.resync().catch((e) => this.#error(e, 'resync'));
        }
      }
    });
  }

  get connectionCount(): number {
    let count = 0;
    for (const entry of this.#users.values()) for (const c of entry.connections.values()) if (c) count++;
    return count;
  }

  /**
   * Registers the consumer in Redis (so a worker holds the session and subscribes the topics)
   * and starts listening for the user's live events, before anything is written to the client.
   * From here on the reservation is released when `response` closes, whenever that happens;
   * undefined when the client is already gone (nothing is taken then).
   */
  async reserve(
    userId: string,
    topics: readonly Topic[],
    response: ServerResponse,
  ): Promise<SseReservation | undefined> {
    if (isGone(response)) return undefined;
    const maxStreamsPerUser = this.#options.maxStreamsPerUser ?? Number.POSITIVE_INFINITY;
    // Counted before the first await, so concurrent requests cannot all slip under the cap.
    if ((this.#users.get(userId)?.connections.size ?? 0) >= maxStreamsPerUser) {
      throw createError(
        'GW_ERR_RATE_LIMITED',
        `At most ${maxStreamsPerUser} event streams per user at a time; close one first`,
        { details: { maxStreamsPerUser } },
      );
    }
    const consumerId = `sse:${this.#options.processId}:${++this.#seq}`;
    const entry = this.#entryFor(userId);
    entry.connections.set(consumerId, undefined);
    const release = (): void => {
      response.off('close', release);
      this.#remove(userId, consumerId);
    };
    // A client that hangs up while the route is still checking access must not leave a
    // registration behind: nothing else would ever see its `close`.
    response.once('close', release);
    this.#reserved.set(consumerId, { response, release, registered: undefined });
    try {
      await entry.unlisten;
      if (!this.#holds(userId, consumerId)) return undefined;
      const registered = this.#options.consumers.register(userId, consumerId, topics, {
        ttlMs: this.#refreshMs * 3,
      });
      this.#reserved.get(consumerId)!.registered = registered;
      await registered;
    } catch (err) {
      release();
      throw err;
    }
    if (!this.#holds(userId, consumerId)) return undefined;
    return { userId, consumerId, release };
  }

  /** Writes `retry:`, replays, and goes live. The response headers must already be set. */
  async open(reservation: SseReservation, options: SseOpenOptions): Promise<void> {
    const { userId, consumerId } = reservation;
    const entry = this.#users.get(userId);
    if (!entry?.connections.has(consumerId)) return;
    if (isGone(options.response)) {
      reservation.release();
      return;
    }
    const reserved = this.#reserved.get(consumerId);
    if (reserved) {
      // The connection listens for `close` from now on, and knows whether it was a drain.
      reserved.response.off('close', reserved.release);
      this.#reserved.delete(consumerId);
    }
    const connection = new SseConnection({
      response: options.response,
      userId,
      consumerId,
      eventLog: this.#options.eventLog,
      matches: options.matches,
      maxBufferBytes: this.#options.maxBufferBytes,
      now: this.#now,
      onWrite: this.#onConnectionWrite,
      onEnd: this.#onConnectionEnd,
    });
    entry.connections.set(consumerId, connection);
    this.#options.onConnectionCount?.(1);
    options.response.write(formatRetry(this.#options.retryMs));
    if (this.#draining) {
      connection.end('draining');
      return;
    }
    try {
      await connection.replayThenGoLive(options.lastEventId, options.history);
    } catch (err) {
      this.#error(err, 'open');
      connection.end('error');
    }
  }

  // One set of callbacks for every connection (a closure per stream was heap per idle stream).
  readonly #now = (): number => this.#clock.now();

  readonly #onConnectionWrite = (event: { readonly id: string }): void => {
    this.#options.onEventWritten?.(event, 1);
  };

  readonly #onConnectionEnd = (reason: SseEndReason, connection: SseConnection): void => {
    // A drained client is on its way to another replica: its consumer registration is left
    // to expire (refreshMs * 3) instead of being withdrawn, so the user stays wanted and
    // another worker takes the session over at once (the drain releases the leases) and
    // logs what happens meanwhile, `user` events included, which Rocket.Chat never replays.
    // Withdrawn, nobody held the session until the client came back (found by
    // test/integration/sse-drain.test.ts).
    this.#remove(connection.userId, connection.consumerId!, { keepRegistration: reason === 'draining' });
    this.#options.onEnd?.(reason);
  };

  /** Ends every stream with a `reconnect` event: the ingress sends the client to another replica. */
  drain(): void {
    this.#draining = true;
    for (const entry of [...this.#users.values()]) {
      for (const connection of [...entry.connections.values()]) connection?.end('draining');
    }
  }

  get isDraining(): boolean {
    return this.#draining;
  }

  close(): void {
    this.drain();
    this.#clock.clearInterval(this.#heartbeatTimer);
    this.#clock.clearInterval(this.#refreshTimer);
    this.#stopResync();
  }

  #entryFor(userId: string): UserEntry {
    let entry = this.#users.get(userId);
    if (!entry) {
      const connections = new Map<string, SseConnection | undefined>();
      const turn = new HeldTurn();
      const unlisten = this.#options.liveHub.listen(userId, (event: LiveEvent) => {
        if (turn.text === '') {
          this.#heldTurns.push(turn);
          this.#releaseSoon();
        }
        turn.add(event.frame);
        let written = 0;
        for (const connection of connections.values()) {
          if (!connection) continue;
          if (connection.heldBatch !== this.#batch) this.#holdWrites(connection);
          if (connection.holdLive(event)) written++;
        }
        if (written > 0) this.#options.onEventWritten?.(event, written);
      });
      entry = { connections, unlisten, turn };
      this.#users.set(userId, entry);
    }
    return entry;
  }

  #holds(userId: string, consumerId: string): boolean {
    return this.#users.get(userId)?.connections.has(consumerId) ?? false;
  }

  #remove(userId: string, consumerId: string, options: { keepRegistration?: boolean } = {}): void {
    const entry = this.#users.get(userId);
    if (!entry?.connections.has(consumerId)) return;
    const wasOpen = entry.connections.get(consumerId) !== undefined;
    entry.connections.delete(consumerId);
    const registering = this.#reserved.get(consumerId)?.registered;
    this.#reserved.delete(consumerId);
    if (wasOpen) this.#options.onConnectionCount?.(-1);
    if (!options.keepRegistration) {
      // Withdrawn only after a registration still in flight has landed, or that one would win.
      void (registering ?? Promise.resolve())
        .catch(() => {})
        .then(() => this.#options.consumers.unregister(userId, consumerId))
        .catch((e) => this.#error(e, 'unregister'));
    }
    if (entry.connections.size === 0) {
      this.#users.delete(userId);
      void entry.unlisten.then((stop) => stop()).catch((e) => this.#error(e, 'unlisten'));
    }
  }

  /**
   * Keeps what is written to a client this turn of the event loop in one write: Pub/Sub brings a
   * few events per read, and one read after another in the same turn; written per event, each
   * would cost a `write` through the HTTP response (four buffers of chunked encoding) per client,
   * and a syscall per client once the write is no longer corked by Node's own per-tick cork.
   */
  #holdWrites(connection: SseConnection): void {
    connection.heldBatch = this.#batch;
    this.#releaseSoon();
    this.#held.push(connection);
  }

  #releaseSoon(): void {
    if (this.#isReleaseDue) return;
    this.#isReleaseDue = true;
    setImmediate(this.#releaseWrites);
  }

  readonly #releaseWrites = (): void => {
    const held = this.#held;
    const turns = this.#heldTurns;
    this.#held = [];
    this.#heldTurns = [];
    this.#batch++;
    this.#isReleaseDue = false;
    for (const connection of held) connection.flushHeld(this.#users.get(connection.userId)?.turn);
    for (const turn of turns) turn.reset();
  };

  #sweepHeartbeats(): void {
    const now = this.#clock.now();
    const due = now - this.#options.heartbeatMs;
    for (const entry of this.#users.values()) {
      for (const connection of entry.connections.values()) {
        if (connection && connection.lastWriteMs <= due) connection.writeHeartbeat(now);
      }
    }
  }

  async #refreshConsumers(): Promise<void> {
    for (const [userId, entry] of this.#users) {
      await this.#options.consumers
        .refresh(userId, [...entry.connections.keys()], this.#refreshMs * 3)
        .catch((e) => this.#error(e, 'refresh consumers'));
    }
  }

  #error(error: unknown, context: string): void {
    this.#options.onError?.(error, context);
  }
}
