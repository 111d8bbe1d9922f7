/**
 * The per-user event log: a Redis Stream whose entry ids are the event ids SSE clients resume
 * from and webhooks carry as `webhook-id`. Appending, de-duplicating, trimming and publishing to
 * live listeners happen in one Lua script, so a crash can never log an event without publishing
 * it or publish one that was not logged, and two workers racing (takeover, catch-up overlapping
 * live delivery) can never log the same message version twice.
 */
import { type Clock, systemClock } from '../clock.js';
import { frozenMemo } from '../frozen-memo.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { hasGapAfter, wasTrimmedFrom } from './stream-trim.js';
import type { GatewayEventType, NewGatewayEvent } from './types.js';

// KEYS, ARGV and reply: see the header of the file.
const APPEND_SCRIPT = LuaScript.fromFile(import.meta.url, './event-log/append.lua', 5);

/** Age trimming (and sweeping old dedupe entries) runs at most this often per user. */
const AGE_TRIM_INTERVAL_MS = 5000;

export interface EventLogOptions {
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  /** Entries kept per user (approximately: trimming is done in whole stream nodes). */
  readonly maxLength: number;
  /** Entries older than this are trimmed. */
  readonly maxAgeMs: number;
  /** Age trims and the de-duplication window. @defaultValue systemClock */
  readonly clock?: Clock;
}

export interface AppendedEvent {
  readonly id: string;
  readonly type: GatewayEventType;
  /** For routing without parsing the JSON again. */
  readonly roomId: string | undefined;
  /** The full envelope, serialized once: SSE `data:` and webhook bodies use these bytes. */
  readonly json: string;
}

export interface ReadResult {
  /** Serialized envelopes, oldest first. */
  readonly events: readonly AppendedEvent[];
  /** True when entries after the requested id were trimmed before they could be read. */
  readonly gap: boolean;
  /** The first id returned, if any: where a client told of a gap picks up again. */
  readonly firstKeptId: string | undefined;
}

/**
 * An event as the append script takes it: the few fields it routes and de-duplicates on, and the
 * rest of the envelope already serialized. A queue of events waiting for Redis holds these rather
 * than the events: one string each instead of a tree of objects that every young-generation
 * collection in between would copy (the session's appends, bench/RESULTS.md).
 */
export interface SerializedEvent {
  readonly type: GatewayEventType;
  readonly userId: string;
  readonly roomId: string | undefined;
  readonly dedupe: NewGatewayEvent['dedupe'];
  /** The envelope after its id and type: `"userId":...}` (see `envelopeJson`). */
  readonly tail: string;
}

export function serializeEvent(event: NewGatewayEvent): SerializedEvent {
  return {
    type: event.type,
    userId: event.userId,
    roomId: event.roomId,
    dedupe: event.dedupe,
    tail: envelopeTail(event),
  };
}

/** `{"userId":...}` without its opening brace: the script prepends the id and type. */
function envelopeTail(event: NewGatewayEvent): string {
  const head: Record<string, unknown> = { userId: event.userId };
  if (event.roomId !== undefined) head.roomId = event.roomId;
  head.ts = event.ts;
  if (event.data === undefined) return JSON.stringify(head).slice(1);
  return `${JSON.stringify(head).slice(1, -1)},"data":${dataJson(event.data)}}`;
}

/**
 * The members of a room that one worker holds get events with the same frozen `data` (see
 * normalize.ts): it is serialized once for all of them.
 */
const dataJson = frozenMemo((data) => JSON.stringify(data));

/** A write refused because the writer's session lease was granted to a newer holder. */
export class FencedError extends Error {
  readonly code = 'GW_ERR_FENCED';
  constructor(userId: string) {
    super(`the session of user ${userId} is held by a newer lease generation`);
    this.name = 'FencedError';
  }
}

function isFencedReply(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('FENCED');
}

export function envelopeJson(id: string, type: string, tail: string): string {
  return `{"id":"${id}","type":"${type}",${tail}`;
}

export class EventLog {
  readonly #redis: RedisClient;
  readonly #keys: GatewayKeys;
  readonly #maxLength: number;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  /** User id -> when its log was last trimmed by age (bounded: entries older than the interval are dropped). */
  readonly #lastAgeTrimMs = new Map<string, number>();

  constructor(options: EventLogOptions) {
    if (!(options.maxLength > 0) || !(options.maxAgeMs > 0))
      throw new RangeError('event log bounds must be positive');
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#maxLength = options.maxLength;
    this.#maxAgeMs = options.maxAgeMs;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Appends once; resolves `undefined` when that message version is already in the log. A
   * session's writes carry its lease generation and are refused (`FencedError`) once the user's
   * session was granted to someone else: a paused worker that wakes up cannot log anything more.
   */
  async append(
    event: NewGatewayEvent,
    writer?: { readonly leaseGeneration: number },
  ): Promise<AppendedEvent | undefined> {
    return (await this.appendBatch(event.userId, [event], writer))[0];
  }

  /**
   * Appends one user's events in order, in one round trip, whole or not at all; resolves with
   * each event as logged, or `undefined` for one already in the log. See `append`.
   */
  async appendBatch(
    userId: string,
    events: readonly NewGatewayEvent[],
    writer?: { readonly leaseGeneration: number },
  ): Promise<(AppendedEvent | undefined)[]> {
    return this.appendSerialized(userId, events.map(serializeEvent), writer);
  }

  /** `appendBatch` of events serialized beforehand (`serializeEvent`). */
  async appendSerialized(
    userId: string,
    events: readonly SerializedEvent[],
    writer?: { readonly leaseGeneration: number },
  ): Promise<(AppendedEvent | undefined)[]> {
    if (events.length === 0) return [];
    const keys = this.#keys.user(userId);
    const now = this.#clock.now();
    const argv: (string | number)[] = [
      this.#maxLength,
      `${Math.max(0, now - this.#maxAgeMs)}-0`,
      keys.liveChannel,
      now,
      now - this.#maxAgeMs,
      this.#isAgeTrimDue(userId, now) ? '1' : '0',
      writer ? writer.leaseGeneration : '',
    ];
    for (const event of events) {
      if (event.userId !== userId) throw new RangeError("a batch holds one user's events");
      const dedupe = event.dedupe;
      argv.push(
        event.type,
        event.tail,
        dedupe?.messageId ?? '',
        dedupe?.updatedAtMs ?? 0,
        dedupe?.once ? '2' : dedupe?.deleted ? '1' : '0',
        event.roomId ?? '',
      );
    }
    const result = await APPEND_SCRIPT.run<string[]>(
      this.#redis,
      [keys.events, keys.seenMessages, keys.roomWatermarks, keys.leaseGeneration, keys.webhookVersion],
      argv,
    ).catch((err: unknown) => {
      throw isFencedReply(err) ? new FencedError(userId) : err;
    });
    return events.map((event, i) => {
      const id = result[2 * i];
      const type = result[2 * i + 1] as GatewayEventType | undefined;
      if (!id || !type) return undefined;
      return { id, type, roomId: event.roomId, json: envelopeJson(id, type, event.tail) };
    });
  }

  #isAgeTrimDue(userId: string, now: number): boolean {
    const last = this.#lastAgeTrimMs.get(userId);
    if (last !== undefined && now - last < AGE_TRIM_INTERVAL_MS) return false;
    if (this.#lastAgeTrimMs.size > 10_000) {
      for (const [id, at] of this.#lastAgeTrimMs)
        if (now - at >= AGE_TRIM_INTERVAL_MS) this.#lastAgeTrimMs.delete(id);
    }
    this.#lastAgeTrimMs.set(userId, now);
    return true;
  }

  /**
   * Events logged after `afterId` (exclusive), oldest first, at most `limit`. With no `afterId`,
   * from the start of what is kept. `gap` says that some events after `afterId` are gone.
   */
  async readAfter(userId: string, afterId: string | undefined, limit: number): Promise<ReadResult> {
    const key = this.#keys.user(userId).events;
    const start = afterId ? `(${afterId}` : '-';
    const [entries, info] = await Promise.all([
      this.#redis.xrange(key, start, '+', 'COUNT', limit),
      afterId ? hasGapAfter(this.#redis, key, afterId) : Promise.resolve(false),
    ]);
    const events = entries.map(([id, fields]) => toAppended(id, fields));
    const gap = info;
    return { events, gap, firstKeptId: events[0]?.id };
  }

  /**
   * History for a new reader: events logged at or after `sinceMs` (Redis stream ids start with
   * their ms), or from the oldest kept entry when `sinceMs` is undefined, oldest first, at most
   * `limit`. `gap` (here: "truncated") says that the log no longer holds all of it: trimming
   * removed entries from that time on. Continue with `readAfter` from the last id returned.
   */
  async readSince(userId: string, sinceMs: number | undefined, limit: number): Promise<ReadResult> {
    const key = this.#keys.user(userId).events;
    const start = sinceMs === undefined ? '0-0' : `${Math.max(0, Math.floor(sinceMs))}-0`;
    const [entries, truncated] = await Promise.all([
      this.#redis.xrange(key, sinceMs === undefined ? '-' : start, '+', 'COUNT', limit),
      wasTrimmedFrom(this.#redis, key, start),
    ]);
    const events = entries.map(([id, fields]) => toAppended(id, fields));
    return { events, gap: truncated, firstKeptId: events[0]?.id };
  }

  /** The event logged as `id`, or undefined when the log does not hold it (never, or trimmed). */
  async readOne(userId: string, id: string): Promise<AppendedEvent | undefined> {
    const entries = await this.#redis.xrange(this.#keys.user(userId).events, id, id);
    const entry = entries[0];
    return entry ? toAppended(entry[0], entry[1]) : undefined;
  }

  /** The newest event id, or undefined for an empty log. */
  async lastId(userId: string): Promise<string | undefined> {
    const entries = await this.#redis.xrevrange(this.#keys.user(userId).events, '+', '-', 'COUNT', 1);
    return entries[0]?.[0];
  }

  /** Room id -> newest `_updatedAt` (ms) logged for it: where catch-up starts. */
  async roomWatermarks(userId: string): Promise<Map<string, number>> {
    const raw = await this.#redis.hgetall(this.#keys.user(userId).roomWatermarks);
    return new Map(Object.entries(raw).map(([rid, ms]) => [rid, Number(ms)]));
  }
}

function toAppended(id: string, fields: string[]): AppendedEvent {
  let type = '';
  let roomId: string | undefined;
  let tail = '}';
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] ?? '';
    if (fields[i] === 't') type = value;
    else if (fields[i] === 'r') roomId = value === '' ? undefined : value;
    else if (fields[i] === 'b') tail = value || '}';
  }
  return { id, type: type as GatewayEventType, roomId, json: envelopeJson(id, type, tail) };
}
