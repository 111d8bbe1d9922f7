/**
 * A resumable consumer of `GET /v1/events`, as an async iterable:
 *
 * ```ts
 * for await (const item of client.events({ topics: ['room:GENERAL'], store })) { ... }
 * ```
 *
 * - **Resume.** The id of each event is saved to the position store when the loop asks for the
 *   next item, i.e. after the loop body handled it; a new stream (a reconnect, or a new process
 *   with the same store) sends it as `Last-Event-ID`. Delivery is at least once: an event being
 *   handled when the process died comes again.
 * - **Reconnect.** A dropped connection, a draining replica (`reconnect` event), a slow-consumer
 *   cut (`error` event) or a retryable answer (429, 502-504) reconnects after a jittered,
 *   growing delay (backoff.ts); any other refusal (401, 403, 400) ends the iteration with a
 *   `GatewayRequestError`, as retrying would not change it.
 * - **Gaps.** When the gateway's log no longer holds everything after the saved id, the stream
 *   yields a `gap` item (`{ type: 'gap', lastEventId, firstAvailableId }`) before the events it
 *   still has: the consumer decides how to re-sync (fetch room history with a method call).
 */
import { Backoff, type BackoffOptions, sleep } from './backoff.js';
import { GatewayRequestError } from './errors.js';
import type { Event } from './generated/openapi-types.js';
import type { HttpTransport } from './http-transport.js';
import { MemoryPositionStore, type PositionStore } from './position-store.js';
import { type SseFrame, SseParser } from './sse-parser.js';

/** Said by the stream when events after the saved position were trimmed from the log. */
export interface GapNotice {
  readonly type: 'gap';
  /** The position the stream resumed from. */
  readonly lastEventId: string;
  /** The oldest event the log still has (the next item), or null when it has none. */
  readonly firstAvailableId: string | null;
}

/** What the stream yields: gateway events, and gap notices. */
export type StreamItem = Event | GapNotice;

export interface EventStreamOptions {
  /** Topics, as `GET /v1/events?topics=` takes them: `room:<rid>`, `rooms`, `user`, `presence`... */
  readonly topics: readonly string[];
  /** Event types to keep. @defaultValue all */
  readonly types?: readonly Event['type'][];
  /** Where positions are kept. @defaultValue a new MemoryPositionStore (resumes across reconnects only) */
  readonly store?: PositionStore;
  /** The key of this consumer's position in the store. @defaultValue `events:<topics>` */
  readonly positionKey?: string;
  /** Delays between reconnects. */
  readonly backoff?: BackoffOptions;
  /**
   * A connection silent for this long is cut and made again: the gateway sends a heartbeat after
   * `SSE_HEARTBEAT_MS` (15 s) of silence, so longer silence means a dead peer or a half-open TCP
   * connection that would otherwise hang the consumer for good. Time spent in the loop body does
   * not count. @defaultValue 45000
   */
  readonly idleTimeoutMs?: number;
  /** Ends the iteration when aborted (as `close()` does). */
  readonly signal?: AbortSignal;
  /** Called before each reconnect with the error that ended the last connection and the delay. */
  readonly onReconnect?: (info: { readonly error: unknown; readonly delayMs: number }) => void;
}

/** Control events of the gateway's stream that end a connection but not the consumer. */
const RECONNECT_EVENTS = new Set(['reconnect', 'error']);

export class EventStream implements AsyncIterable<StreamItem> {
  readonly #transport: HttpTransport;
  readonly #options: EventStreamOptions;
  readonly #store: PositionStore;
  readonly #key: string;
  readonly #closer = new AbortController();
  #iterating = false;
  /**
   * Connections the gateway started streaming on so far (counted at the first bytes, which it
   * writes once the stream is registered for live events): a reconnect shows here.
   */
  connections = 0;

  constructor(transport: HttpTransport, options: EventStreamOptions) {
    if (options.topics.length === 0) throw new RangeError('at least one topic is needed');
    this.#transport = transport;
    this.#options = options;
    this.#store = options.store ?? new MemoryPositionStore();
    this.#key = options.positionKey ?? `events:${options.topics.join(',')}`;
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Ends the iteration: the open connection is cut, the loop ends after its current item. */
  close(): void {
    this.#closer.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    if (this.#iterating) throw new Error('an EventStream can be iterated once');
    this.#iterating = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<StreamItem, void, undefined> {
    const backoff = new Backoff(this.#options.backoff);
    const closed = this.#closer.signal;
    while (!closed.aborted) {
      let failure: unknown;
      try {
        for await (const item of this.#connect(backoff)) {
          yield item;
          // The loop body returned: the item is handled, its position may be saved.
          if (item.type !== 'gap') await this.#store.save(this.#key, item.id);
        }
        failure = new Error('the stream ended');
      } catch (err) {
        if (closed.aborted) return;
        if (err instanceof GatewayRequestError && !err.isRetryable) throw err;
        failure = err;
      }
      if (closed.aborted) return;
      const delayMs = Math.max(backoff.next(), retryAfterOf(failure));
      this.#options.onReconnect?.({ error: failure, delayMs });
      await sleep(delayMs, closed);
    }
  }

  /** One connection: yields its items until it ends; throws what ended it otherwise. */
  async *#connect(backoff: Backoff): AsyncGenerator<StreamItem, void, undefined> {
    const lastEventId = await this.#store.load(this.#key);
    const query = new URLSearchParams({ topics: this.#options.topics.join(',') });
    if (this.#options.types) query.set('types', this.#options.types.join(','));
    const idleTimeoutMs = this.#options.idleTimeoutMs ?? 45_000;
    // Cut by close(), by the idle watchdog, or when the consumer leaves the loop (finally).
    const connection = new AbortController();
    const cut = (): void => connection.abort();
    this.#closer.signal.addEventListener('abort', cut, { once: true });
    let isIdle = false;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const watch = (): void => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        isIdle = true;
        connection.abort();
      }, idleTimeoutMs);
    };
    try {
      watch();
      const response = await this.#transport.open(
        `/v1/events?${query}`,
        {
          accept: 'text/event-stream',
          ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
        },
        connection.signal,
      );
      const parser = new SseParser(lastEventId);
      const body = response.body;
      if (!body) throw new Error('the event stream has no body');
      let isFirstChunk = true;
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        if (isFirstChunk) {
          isFirstChunk = false;
          this.connections++;
        }
        for (const frame of framesOf(parser, chunk)) {
          if (RECONNECT_EVENTS.has(frame.event))
            throw new Error(`the gateway ended the stream: ${frame.event} ${frame.data}`);
          // The consumer's time is not the connection's silence.
          clearTimeout(idleTimer);
          if (frame.event === 'gap') {
            const gap = JSON.parse(frame.data) as Omit<GapNotice, 'type'>;
            yield { type: 'gap', lastEventId: gap.lastEventId, firstAvailableId: gap.firstAvailableId };
          } else {
            // A stream that delivers is healthy: the next failure starts from the shortest delay.
            backoff.reset();
            yield JSON.parse(frame.data) as Event;
          }
        }
        watch();
      }
    } catch (err) {
      if (isIdle) throw new Error(`no data from the gateway for ${idleTimeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      clearTimeout(idleTimer);
      this.#closer.signal.removeEventListener('abort', cut);
      connection.abort();
    }
  }
}

/** The frames a chunk completes; a frame beyond the parser's bound ends the consumer (no retry). */
function framesOf(parser: SseParser, chunk: Uint8Array): SseFrame[] {
  try {
    return parser.push(chunk);
  } catch (err) {
    throw new GatewayRequestError(`the event stream is not usable: ${(err as Error).message}`, {
      status: 200,
      code: 'GW_CLIENT_ERR_RESPONSE',
      cause: err,
    });
  }
}

function retryAfterOf(err: unknown): number {
  return err instanceof GatewayRequestError && err.retryAfterMs !== undefined ? err.retryAfterMs : 0;
}
