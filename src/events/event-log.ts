/**
 * The per-user event log: a Redis Stream whose entry ids are the event ids SSE clients resume
 * from and webhooks carry as `webhook-id`. Appending, de-duplicating, trimming and publishing to
 * live listeners happen in one Lua script, so a crash can never log an event without publishing
 * it or publish one that was not logged, and two workers racing (takeover, catch-up overlapping
 * live delivery) can never log the same message version twice.
 */
import { type Clock, systemClock } from '../clock.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { hasGapAfter, wasTrimmedFrom } from './stream-trim.js';
import type { GatewayEventType, NewGatewayEvent } from './types.js';

/**
 * Appends a batch of one user's events, in order, in one call.
 * KEYS: events stream, seen-messages zset, room-watermarks hash, lease generation counter.
 * ARGV: max length, min id (age trim), live channel, now ms, seen-trim score (drop dedupe
 *       entries older than the log keeps), age-trim flag, the writer's lease generation ('' for
 *       writers that hold no session); then per event: type, envelope tail (JSON after the id
 *       and type), message id ('' when none), updatedAt ms, flag ('1' a deletion, '2' a key
 *       logged once whatever its version: see NewGatewayEvent.dedupe), room id.
 * The count bound is applied on every append (cheap with `~`); the age bounds only when the flag
 * says so (see AGE_TRIM_INTERVAL_MS), which keeps the script short on the hot path.
 * Returns {id, type} per event, or {'', ''} for one already logged; a FENCED error (and nothing
 * appended) when a newer lease generation exists (the writer's session was taken over: see
 * src/sessions/lease.ts). A batch is one script, so it is logged whole or not at all.
 *
 * What is published is the event's SSE frame, built here once for every replica and client,
 * then the room id: `id: <id>\nevent: <type>\ndata: <envelope>\n\n<roomId>` (parsed by
 * live-message.ts). Listeners route on those fields without parsing the envelope.
 */
const APPEND_SCRIPT = `
if ARGV[7] ~= '' and tonumber(redis.call('GET', KEYS[4]) or '0') > tonumber(ARGV[7]) then
  return redis.error_reply('FENCED a newer session holds this user')
end
local out = {}
for b = 7, #ARGV - 6, 6 do
  local typ, tail, mid, rid = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 6]
  local isNew = true
  if mid ~= '' then
    local updated = tonumber(ARGV[b + 4])
    if ARGV[b + 5] == '2' then
      if redis.call('ZADD', KEYS[2], 'NX', ARGV[4], mid) == 0 then isNew = false end
    elseif ARGV[b + 5] == '1' then
      local member = 'del:' .. mid
      if redis.call('ZSCORE', KEYS[2], member) then
        isNew = false
      else
        redis.call('ZADD', KEYS[2], ARGV[4], member)
      end
    elseif redis.call('ZSCORE', KEYS[2], 'del:' .. mid) then
      isNew = false
    else
      local prev = redis.call('ZSCORE', KEYS[2], mid)
      if prev and tonumber(prev) >= updated then
        isNew = false
      else
        if prev and typ == 'message.created' then typ = 'message.updated' end
        redis.call('ZADD', KEYS[2], updated, mid)
        if rid ~= '' then
          local mark = tonumber(redis.call('HGET', KEYS[3], rid) or '0')
          if updated > mark then redis.call('HSET', KEYS[3], rid, updated) end
        end
      end
    end
  end
  if isNew then
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 't', typ, 'r', rid, 'b', tail)
    redis.call('PUBLISH', ARGV[3], 'id: ' .. id .. '\\nevent: ' .. typ .. '\\ndata: {"id":"' .. id .. '","type":"' .. typ .. '",' .. tail .. '\\n\\n' .. rid)
    out[#out + 1] = id
    out[#out + 1] = typ
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
if ARGV[6] == '1' then
  redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
end
return out
`;

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

type AppendCommand = (
  events: string,
  seen: string,
  rooms: string,
  leaseGeneration: string,
  ...argv: (string | number)[]
) => Promise<string[]>;

/** `{"userId":...}` without its opening brace: the script prepends the id and type. */
function envelopeTail(event: NewGatewayEvent): string {
  const body: Record<string, unknown> = { userId: event.userId };
  if (event.roomId !== undefined) body.roomId = event.roomId;
  body.ts = event.ts;
  body.data = event.data;
  return JSON.stringify(body).slice(1);
}

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
  readonly #append: AppendCommand;
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
    if (!('gwAppendEvent' in this.#redis)) {
      this.#redis.defineCommand('gwAppendEvent', { numberOfKeys: 4, lua: APPEND_SCRIPT });
    }
    const command = (this.#redis as unknown as { gwAppendEvent: AppendCommand }).gwAppendEvent;
    this.#append = command.bind(this.#redis);
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
    if (events.length === 0) return [];
    const keys = this.#keys.user(userId);
    const now = this.#clock.now();
    const tails = events.map(envelopeTail);
    const argv: (string | number)[] = [
      this.#maxLength,
      `${Math.max(0, now - this.#maxAgeMs)}-0`,
      keys.liveChannel,
      now,
      now - this.#maxAgeMs,
      this.#isAgeTrimDue(userId, now) ? '1' : '0',
      writer ? writer.leaseGeneration : '',
    ];
    events.forEach((event, i) => {
      if (event.userId !== userId) throw new RangeError("a batch holds one user's events");
      const dedupe = event.dedupe;
      argv.push(
        event.type,
        tails[i]!,
        dedupe?.messageId ?? '',
        dedupe?.updatedAtMs ?? 0,
        dedupe?.once ? '2' : dedupe?.deleted ? '1' : '0',
        event.roomId ?? '',
      );
    });
    const result = await this.#append(
      keys.events,
      keys.seenMessages,
      keys.roomWatermarks,
      keys.leaseGeneration,
      ...argv,
    ).catch((err: unknown) => {
      throw isFencedReply(err) ? new FencedError(userId) : err;
    });
    return events.map((event, i) => {
      const id = result[2 * i];
      const type = result[2 * i + 1] as GatewayEventType | undefined;
      if (!id || !type) return undefined;
      return { id, type, roomId: event.roomId, json: envelopeJson(id, type, tails[i]!) };
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
