/**
 * One SSE client: replay from the log, then live, with no gap and no duplicate at the seam.
 * Live events arriving during replay are queued and flushed after it, skipping what the replay
 * already sent (mercure's `liveQueue`). Writes are bounded: a client whose unsent bytes exceed
 * the limit is told why and disconnected, never allowed to grow memory or slow anyone else.
 */
import type { ServerResponse } from 'node:http';
import type { AppendedEvent, EventLog } from '../events/event-log.js';
import type { LiveEvent } from '../events/live-hub.js';
import { compareStreamIds } from '../events/stream-id.js';
import { eventFrame, formatEvent, HEARTBEAT_FRAME } from './frame.js';

const REPLAY_PAGE = 500;

/**
 * Decides whether a logged event goes to this client: the topic matcher, with the client's
 * content filter after it when it has one (src/events/content-filter.ts).
 */
export type SseEventMatcher = (event: LiveEvent | AppendedEvent) => boolean;

/** Where a stream without `Last-Event-ID` starts: the log from `sinceMs`, or all of it (`undefined`). */
export interface HistoryStart {
  readonly sinceMs: number | undefined;
}

export type SseEndReason = 'client-closed' | 'slow-consumer' | 'unauthorized' | 'draining' | 'error';

export interface SseConnectionOptions {
  readonly response: ServerResponse;
  readonly userId: string;
  readonly eventLog: EventLog;
  readonly matches: SseEventMatcher;
  readonly maxBufferBytes: number;
  readonly now: () => number;
  /** The hub's name for the stream (its consumer registration); the callbacks can tell streams apart by it. */
  readonly consumerId?: string;
  /**
   * An event written during replay or at the seam (live writes are counted by the caller). The
   * callbacks are given the connection, so that one pair of functions serves every stream of a
   * hub: a closure per stream (and its context) was a measurable part of an idle stream's heap.
   */
  readonly onWrite?: (event: LiveEvent | AppendedEvent, connection: SseConnection) => void;
  readonly onEnd?: (reason: SseEndReason, connection: SseConnection) => void;
}

export class SseConnection {
  readonly userId: string;
  readonly consumerId: string | undefined;
  readonly response: ServerResponse;
  lastWriteMs: number;
  /** The hub's batch this connection's socket is held for (see `SseHub`); a plain field, read per event. */
  heldBatch = -1;
  /**
   * Live frames held for this turn of the event loop (`holdLive`), written as one chunk by
   * `flushHeld`: one `write` per client per turn rather than one per event (each `write` of a
   * chunked response is four buffers for the socket's `writev`). Empty when nothing is held.
   */
  #held = '';
  #lastSentId: string | undefined;
  /** While replaying: live events wait here. Undefined when live events go straight out. */
  #liveQueue: LiveEvent[] | undefined = [];
  #ended = false;
  // The options are kept field by field rather than as the object given: an open stream then
  // holds no object of its own beyond this one (the functions are the hub's, shared).
  readonly #eventLog: EventLog;
  readonly #matches: SseEventMatcher;
  readonly #maxBufferBytes: number;
  readonly #now: () => number;
  readonly #onWrite: SseConnectionOptions['onWrite'];
  readonly #onEnd: SseConnectionOptions['onEnd'];

  constructor(options: SseConnectionOptions) {
    this.userId = options.userId;
    this.consumerId = options.consumerId;
    this.response = options.response;
    this.#eventLog = options.eventLog;
    this.#matches = options.matches;
    this.#maxBufferBytes = options.maxBufferBytes;
    this.#now = options.now;
    this.#onWrite = options.onWrite;
    this.#onEnd = options.onEnd;
    this.lastWriteMs = options.now();
    // `on`, not `once`: `close` comes once, `#finish` is idempotent, and `once` would add a
    // wrapper and its state object to every open stream.
    options.response.on('close', () => this.#finish('client-closed'));
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  /**
   * Sends what the log holds after `lastEventId` (with a `gap` event first if some of it was
   * trimmed), then switches to live. Without an id, `history` asks for the log from a time (or
   * all of it) after a `history` event that says where it starts; without either, the stream
   * starts live, from now.
   */
  async replayThenGoLive(lastEventId: string | undefined, history?: HistoryStart): Promise<void> {
    if (lastEventId !== undefined) {
      this.#lastSentId = lastEventId;
      await this.#replay(true);
    } else if (history !== undefined) {
      await this.#replayHistory(history);
    }
    // After a replay, queued events it already sent are skipped at the seam. Without one: live
    // from the moment the live subscription was confirmed, which is before anything in the queue
    // was published, so the whole queue is new.
    this.#drainLiveQueue();
  }

  /** Live events may have been lost (the Pub/Sub connection dropped): re-read from the last sent id. */
  async resync(): Promise<void> {
    if (this.#ended || this.#liveQueue) return;
    this.#liveQueue = [];
    if (this.#lastSentId === undefined) this.#lastSentId = '0-0';
    await this.#replay(false);
    this.#drainLiveQueue();
  }

  /** True when the event was written now (the caller counts deliveries once per fan-out). */
  onLive(event: LiveEvent): boolean {
    if (this.#ended) return false;
    if (this.#liveQueue) {
      this.#liveQueue.push(event);
      return false;
    }
    // Pub/Sub delivers one user's events in log order, so after the seam every event should be
    // newer than the last one sent. The id is still compared (a string compare per write): the
    // replay's XRANGE and the live PUBLISH travel on different sockets, so a live copy of an event
    // the replay already sent can arrive after the seam (test/integration/sse-seam.test.ts).
    return this.#sendEvent(event, true);
  }

  /**
   * `onLive`, except that the frame is held until `flushHeld`, which the caller (the hub) must
   * call later in the same turn. Every check is made now, as `onLive` makes it: the seam, the
   * matcher, the buffer limit (the held frames count towards it), and `session.unauthorized`
   * ends the stream at once, after what was held.
   */
  holdLive(event: LiveEvent): boolean {
    if (this.#ended) return false;
    if (this.#liveQueue) {
      this.#liveQueue.push(event);
      return false;
    }
    if (this.#lastSentId !== undefined && compareStreamIds(event.id, this.#lastSentId) <= 0) return false;
    this.#lastSentId = event.id;
    if (!this.#matches(event)) return false;
    if (event.type === 'session.unauthorized') {
      this.#write(event.frame);
      this.end('unauthorized');
      return true;
    }
    this.#held += event.frame;
    // Measured in characters: at least one byte each, so the limit is never passed unseen.
    if (this.response.writableLength + this.#held.length > this.#maxBufferBytes) this.flushHeld();
    return true;
  }

  /**
   * Writes what `holdLive` held, in one chunk. `turn` is every frame the hub held for this
   * connection's user this turn, encoded once for all of them: a client that was given all of
   * them (the held text is as long: frames are never empty, so only the whole set has the whole
   * length) is written that shared buffer instead of an encoding of its own.
   */
  flushHeld(turn?: { readonly text: string; buffer(): Buffer }): void {
    const held = this.#held;
    if (held === '' || this.#ended) return;
    this.#held = '';
    // Corked around the write, the response's four buffers (chunk size, CRLF, frames, CRLF) go
    // out in one `writev` now, without the tick Node's own cork of each response write waits for.
    const socket = this.response.socket;
    socket?.cork();
    this.#write(turn !== undefined && held.length === turn.text.length ? turn.buffer() : held);
    socket?.uncork();
  }

  writeHeartbeat(now: number): void {
    if (!this.#ended && now - this.lastWriteMs >= 0) {
      this.flushHeld();
      if (!this.#ended) this.#write(HEARTBEAT_FRAME);
    }
  }

  /** Ends the stream with a last event saying why (and, for drains, where to go: anywhere). */
  end(reason: SseEndReason, data: Record<string, unknown> = {}): void {
    if (this.#ended) return;
    // What was held this turn goes out before the last word (and counts towards the limit).
    const held = this.#held;
    this.#held = '';
    if (held !== '') this.response.write(held);
    const event = reason === 'draining' ? 'reconnect' : reason === 'slow-consumer' ? 'error' : undefined;
    if (event) this.response.write(formatEvent({ event, data: JSON.stringify({ reason, ...data }) }));
    this.response.end();
    this.#finish(reason);
  }

  async #replay(announceGap: boolean): Promise<void> {
    let announced = !announceGap;
    for (;;) {
      const page = await this.#eventLog.readAfter(this.userId, this.#lastSentId, REPLAY_PAGE);
      if (this.#ended) return;
      if (!announced) {
        announced = true;
        if (page.gap) {
          this.#write(
            formatEvent({
              event: 'gap',
              data: JSON.stringify({
                lastEventId: this.#lastSentId,
                firstAvailableId: page.firstKeptId ?? null,
              }),
            }),
          );
        }
      }
      for (const event of page.events) if (this.#sendEvent(event, true)) this.#onWrite?.(event, this);
      if (page.events.length < REPLAY_PAGE) return;
    }
  }

  /**
   * The first page comes from `sinceMs` on (inclusive), told in a `history` event before it; the
   * rest as any replay, after the last id that page held. A page that is empty leaves no id, and
   * then every queued live event is new: the read saw none of them (the append script logs and
   * publishes at once, so an event logged before the read is in it).
   */
  async #replayHistory(history: HistoryStart): Promise<void> {
    const page = await this.#eventLog.readSince(this.userId, history.sinceMs, REPLAY_PAGE);
    if (this.#ended) return;
    this.#write(
      formatEvent({
        event: 'history',
        data: JSON.stringify({
          since: history.sinceMs === undefined ? null : new Date(history.sinceMs).toISOString(),
          firstAvailableId: page.firstKeptId ?? null,
          truncated: page.gap,
        }),
      }),
    );
    for (const event of page.events) if (this.#sendEvent(event, true)) this.#onWrite?.(event, this);
    if (page.events.length === REPLAY_PAGE) await this.#replay(false);
  }

  #drainLiveQueue(): void {
    const queue = this.#liveQueue ?? [];
    this.#liveQueue = undefined;
    for (const event of queue) if (this.#sendEvent(event, true)) this.#onWrite?.(event, this);
  }

  #sendEvent(event: LiveEvent | AppendedEvent, isAtSeam: boolean): boolean {
    if (this.#ended) return false;
    // The seam: anything at or before what was already sent is a duplicate.
    if (isAtSeam && this.#lastSentId !== undefined && compareStreamIds(event.id, this.#lastSentId) <= 0)
      return false;
    this.#lastSentId = event.id;
    if (!this.#matches(event)) return false;
    this.#write(eventFrame(event));
    if (event.type === 'session.unauthorized') this.end('unauthorized');
    return true;
  }

  #write(frame: string | Buffer): void {
    const response = this.response;
    if (this.#held !== '') {
      // Never reached by the hub's turn (it flushes first); kept so that no path can reorder.
      const held = this.#held;
      this.#held = '';
      response.write(held);
    }
    response.write(frame);
    this.lastWriteMs = this.#now();
    if (response.writableLength > this.#maxBufferBytes) {
      this.end('slow-consumer', {
        message: 'the client did not read fast enough; resume with Last-Event-ID',
      });
    }
  }

  #finish(reason: SseEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#liveQueue = undefined;
    this.#held = '';
    this.#onEnd?.(reason, this);
  }
}
