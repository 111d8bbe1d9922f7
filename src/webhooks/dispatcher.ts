/**
 * Turns logged events into delivery jobs. For each user with webhooks, one dispatcher in the
 * cluster owns the user's dispatch (a lease in Redis, renewed while it lives, taken over by
 * another worker when it expires). The owner keeps a cursor (the last event id dispatched) and,
 * whenever the LiveHub says the user's log grew, reads the log after the cursor, adds one job per
 * matching (webhook, event) and only then moves the cursor:
 *
 * - a dispatcher killed between adding jobs and moving the cursor leaves the cursor behind; its
 *   successor reads the same events again and re-adds the same job ids, which BullMQ ignores, so
 *   no event is skipped and none is enqueued twice;
 * - the cursor only moves forward, and only while the lease is still ours (one script), so an
 *   owner that stalled (GC pause, network split) and lost its lease cannot drag it back;
 * - Pub/Sub can drop a notice (the subscriber reconnecting): the LiveHub's resync and a slow
 *   periodic pass re-read every owned log, so a missed notice delays events, never loses them.
 *
 * Events are read before the webhooks are loaded. A webhook's `fromId` is the log's last id read
 * atomically with its creation (webhook-store.ts), so a webhook that did not exist when the
 * webhooks were loaded has a `fromId` at or after every event of that batch: it is owed none.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import type { AppendedEvent, EventLog } from '../events/event-log.js';
import type { LiveHub } from '../events/live-hub.js';
import { compareStreamIds, parseStreamId } from '../events/stream-id.js';
import {
  createTopicMatcher,
  type MatchableEvent,
  parseEventTypes,
  parseTopics,
  type TopicMatcher,
} from '../events/topics.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { DeadLetter, DeliveryLedger } from './delivery-ledger.js';
import {
  DEFAULT_RETENTION,
  type DeliveryJobRetention,
  deliveryJobId,
  deliveryJobOptions,
  type WebhookJobData,
} from './webhook-queue.js';
import type { DispatchTarget, WebhookStore } from './webhook-store.js';

export interface WebhookDispatcherOptions {
  readonly redis: RedisClient;
  /** A connection used only for SUBSCRIBE (webhook changes); the dispatcher owns and closes it. */
  readonly subscriber: RedisClient;
  readonly keys: GatewayKeys;
  readonly eventLog: EventLog;
  readonly liveHub: LiveHub;
  readonly store: WebhookStore;
  readonly ledger: DeliveryLedger;
  readonly queue: Queue<WebhookJobData>;
  /** When given, a claimed user's webhooks are registered again as durable consumers (heals a crash between create and register). */
  readonly consumers?: ConsumerRegistry;
  readonly workerId: string;
  readonly retryScheduleMs: readonly number[];
  /** @defaultValue DEFAULT_RETENTION */
  readonly retention?: DeliveryJobRetention;
  /** How long a dead owner's users wait before another dispatcher takes them. @defaultValue 10000 */
  readonly leaseTtlMs?: number;
  /** Every owned log is re-read this often even without a notice (the safety net). @defaultValue 30000 */
  readonly safetySweepMs?: number;
  /** Events read per batch. @defaultValue 500 */
  readonly batchSize?: number;
  /** @defaultValue systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** KEYS: lease, cursor. ARGV: token, new id. Returns -1 (lease lost), 0 (not newer) or 1. */
const ADVANCE_SCRIPT = new LuaScript(
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local cur = redis.call('GET', KEYS[2])
if cur then
  local cms, cseq = string.match(cur, '^(%d+)-(%d+)$')
  local nms, nseq = string.match(ARGV[2], '^(%d+)-(%d+)$')
  if cms and nms then
    cms, cseq, nms, nseq = tonumber(cms), tonumber(cseq), tonumber(nms), tonumber(nseq)
    if nms < cms or (nms == cms and nseq <= cseq) then return 0 end
  end
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`,
  2,
);

const RENEW_SCRIPT = new LuaScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
  1,
);

const RELEASE_SCRIPT = new LuaScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);

interface OwnedUser {
  readonly userId: string;
  /** The cursor as last written by us; undefined: read it from Redis. Only the lease holder moves it. */
  cursor: string | undefined;
  unlisten: (() => void) | undefined;
  running: Promise<void> | undefined;
  /** A notice arrived while a pass was running: run another. */
  dirty: boolean;
  lost: boolean;
}

interface CompiledTarget {
  readonly target: DispatchTarget;
  readonly matcher: TopicMatcher;
}

type DispatcherState = 'created' | 'running' | 'closing' | 'closed';

export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #clock: Clock;
  readonly #token: string;
  readonly #leaseTtlMs: number;
  readonly #batchSize: number;
  readonly #retention: DeliveryJobRetention;
  readonly #owned = new Map<string, OwnedUser>();
  readonly #matchers = new Map<string, { updatedAtMs: number; matcher: TopicMatcher }>();
  #state: DispatcherState = 'created';
  #leaseTimer: TimerHandle | undefined;
  #safetyTimer: TimerHandle | undefined;
  #sweeping: Promise<void> | undefined;
  #stopResync: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#token = `${options.workerId}:${randomUUID()}`;
    this.#leaseTtlMs = options.leaseTtlMs ?? 10_000;
    this.#batchSize = options.batchSize ?? 500;
    this.#retention = options.retention ?? DEFAULT_RETENTION;
    if (!(this.#leaseTtlMs >= 100)) throw new RangeError('leaseTtlMs must be at least 100');
    if (!(this.#batchSize >= 1)) throw new RangeError('batchSize must be at least 1');
  }

  /** Users whose dispatch this process owns right now. */
  get ownedUsers(): readonly string[] {
    return [...this.#owned.keys()];
  }

  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error('dispatcher already started');
    this.#state = 'running';
    const { subscriber, keys, liveHub } = this.#options;
    subscriber.on('message', (channel: string, userId: string) => {
      if (channel === keys.webhookChangesChannel) void this.#onChange(userId);
    });
    await subscriber.subscribe(keys.webhookChangesChannel);
    this.#stopResync = liveHub.onResync(() => {
      for (const userId of this.#owned.keys()) this.#schedule(userId);
    });
    this.#leaseTimer = this.#clock.setInterval(
      () => void this.sweep(),
      Math.max(50, Math.floor(this.#leaseTtlMs / 3)),
    );
    this.#leaseTimer.unref();
    this.#safetyTimer = this.#clock.setInterval(() => {
      for (const userId of this.#owned.keys()) this.#schedule(userId);
    }, this.#options.safetySweepMs ?? 30_000);
    this.#safetyTimer.unref();
    await this.sweep();
  }

  /** Renews owned leases, drops users without webhooks, claims users nobody owns. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce()
      .catch((err) => this.#options.logger?.error({ err }, 'webhook dispatch sweep failed'))
      .finally(() => {
        this.#sweeping = undefined;
      });
    return this.#sweeping;
  }

  /** Resolves when every pass in progress or scheduled for owned users has finished. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#owned.values()].map((owned) => owned.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  async #sweepOnce(): Promise<void> {
    if (this.#state !== 'running') return;
    const { redis, keys, store } = this.#options;
    const users = new Set(await store.users());
    for (const userId of [...this.#owned.keys()]) {
      if (!users.has(userId)) await this.#drop(userId, true);
    }
    const owned = [...this.#owned.keys()];
    if (owned.length > 0) {
      const renewals = await Promise.all(
        owned.map((userId) =>
          RENEW_SCRIPT.run<number>(
            redis,
            [keys.user(userId).webhookDispatchLease],
            [this.#token, this.#leaseTtlMs],
          ),
        ),
      );
      for (const [i, userId] of owned.entries()) {
        if (renewals[i] !== 1) await this.#drop(userId, false);
      }
    }
    for (const userId of users) {
      if (!this.#owned.has(userId) && this.#state === 'running') await this.#tryClaim(userId);
    }
  }

  async #onChange(userId: string): Promise<void> {
    if (this.#state !== 'running') return;
    try {
      if (this.#owned.has(userId)) this.#schedule(userId);
      else await this.#tryClaim(userId);
    } catch (err) {
      this.#options.logger?.error({ err, userId }, 'webhook change handling failed');
    }
  }

  async #tryClaim(userId: string): Promise<void> {
    const { redis, keys } = this.#options;
    const lease = keys.user(userId).webhookDispatchLease;
    const claimed = await redis.set(lease, this.#token, 'PX', this.#leaseTtlMs, 'NX');
    if (claimed !== 'OK' || this.#state !== 'running' || this.#owned.has(userId)) return;
    const owned: OwnedUser = {
      userId,
      cursor: undefined,
      unlisten: undefined,
      running: undefined,
      dirty: false,
      lost: false,
    };
    this.#owned.set(userId, owned);
    // Listening before the first read: an event logged in between is then either read or heard.
    try {
      owned.unlisten = await this.#options.liveHub.listen(userId, () => this.#schedule(userId));
    } catch (err) {
      await this.#drop(userId, true);
      throw err;
    }
    if (owned.lost) {
      owned.unlisten();
      return;
    }
    void this.#healConsumers(userId);
    this.#schedule(userId);
  }

  async #healConsumers(userId: string): Promise<void> {
    const { consumers, store } = this.#options;
    if (!consumers) return;
    try {
      for (const webhook of await store.list(userId)) {
        await consumers.register(userId, `webhook:${webhook.id}`, webhook.topics, 'durable');
      }
    } catch (err) {
      this.#options.logger?.warn({ err, userId }, 'could not re-register webhook consumers');
    }
  }

  async #drop(userId: string, release: boolean): Promise<void> {
    const owned = this.#owned.get(userId);
    if (!owned) return;
    this.#owned.delete(userId);
    owned.lost = true;
    owned.unlisten?.();
    await owned.running;
    if (release) {
      const { redis, keys } = this.#options;
      await RELEASE_SCRIPT.run(redis, [keys.user(userId).webhookDispatchLease], [this.#token]).catch((err) =>
        this.#options.logger?.warn({ err, userId }, 'could not release webhook dispatch lease'),
      );
    }
  }

  /** Runs a pass for the user now, or once more after the one in progress. */
  #schedule(userId: string): void {
    const owned = this.#owned.get(userId);
    if (!owned || owned.lost) return;
    if (owned.running) {
      owned.dirty = true;
      return;
    }
    owned.running = this.#run(owned)
      .catch((err) => this.#options.logger?.error({ err, userId }, 'webhook dispatch failed'))
      .finally(() => {
        owned.running = undefined;
      });
  }

  async #run(owned: OwnedUser): Promise<void> {
    do {
      owned.dirty = false;
      while (!owned.lost && (await this.#dispatchBatch(owned))) {
        // A full batch: there may be more right behind it.
      }
    } while (owned.dirty && !owned.lost);
  }

  /** One batch; resolves true when the batch was full (read again at once). */
  async #dispatchBatch(owned: OwnedUser): Promise<boolean> {
    const { redis, keys, eventLog, store, queue } = this.#options;
    const { userId } = owned;
    const userKeys = keys.user(userId);
    let cursor = owned.cursor ?? (await redis.get(userKeys.webhookCursor)) ?? undefined;
    if (cursor === undefined) {
      // First pass for this user: start where the oldest webhook starts, not at the log's head.
      const targets = await store.dispatchTargets(userId);
      if (targets.length === 0) return false;
      cursor = targets.map((t) => t.fromId).sort(compareStreamIds)[0]!;
    }
    const read = await eventLog.readAfter(userId, cursor, this.#batchSize);
    if (read.gap) {
      this.#options.logger?.warn(
        { userId, cursor, firstKeptId: read.firstKeptId },
        'webhook dispatch fell behind the event log: events trimmed before dispatch are not delivered',
      );
    }
    if (read.events.length === 0) return false;
    const targets = this.#compile(await store.dispatchTargets(userId));
    const jobs: { name: string; data: WebhookJobData; opts: ReturnType<typeof deliveryJobOptions> }[] = [];
    const dead = new Map<string, DeadLetter[]>();
    const nowMs = this.#clock.now();
    for (const event of read.events) {
      const matchable = lazyMatchable(event);
      const eventTimeMs = parseStreamId(event.id)?.ms ?? nowMs;
      for (const { target, matcher } of targets) {
        if (compareStreamIds(event.id, target.fromId) <= 0 || !matcher(matchable)) continue;
        if (target.status === 'enabled') {
          const data: WebhookJobData = {
            webhookId: target.id,
            userId,
            eventId: event.id,
            eventType: event.type,
            eventTimeMs,
            payload: event.json,
          };
          const opts = deliveryJobOptions(
            deliveryJobId(target.id, event.id),
            this.#options.retryScheduleMs,
            this.#retention,
          );
          jobs.push({ name: event.type, data, opts });
        } else if (target.disabledReason !== 'manual') {
          // Disabled by failures or 410: kept as dead letters, so `replay` after re-enabling
          // sends what the endpoint missed. An endpoint the owner turned off gets nothing.
          const list = dead.get(target.id) ?? [];
          list.push({
            eventId: event.id,
            eventType: event.type,
            eventTimeMs,
            payload: event.json,
            failedAtMs: nowMs,
            error: 'endpoint disabled',
          });
          dead.set(target.id, list);
        }
      }
    }
    if (jobs.length > 0) await queue.addBulk(jobs);
    for (const [webhookId, letters] of dead)
      await this.#options.ledger.addDeadLetters(userId, webhookId, letters);
    const lastId = read.events[read.events.length - 1]!.id;
    const advanced = await ADVANCE_SCRIPT.run<number>(
      redis,
      [userKeys.webhookDispatchLease, userKeys.webhookCursor],
      [this.#token, lastId],
    );
    if (advanced === -1) {
      // Someone else owns the user now; what we added is deduplicated against their adds.
      this.#options.logger?.warn({ userId }, 'webhook dispatch lease lost mid-pass');
      void this.#drop(userId, false);
      return false;
    }
    // 0: the stored cursor was already further (a previous owner's): read it again next pass.
    owned.cursor = advanced === 1 ? lastId : undefined;
    return read.events.length === this.#batchSize;
  }

  /**
   * Topic matchers, compiled once per webhook version. A record that does not parse (written by
   * a newer version with a topic this one does not know) matches nothing rather than stalling
   * the user's whole dispatch.
   */
  #compile(targets: readonly DispatchTarget[]): CompiledTarget[] {
    return targets.map((target) => {
      const cached = this.#matchers.get(target.id);
      if (cached && cached.updatedAtMs === target.updatedAtMs) return { target, matcher: cached.matcher };
      let matcher: TopicMatcher;
      try {
        matcher = createTopicMatcher(parseTopics(target.topics), parseEventTypes(target.eventTypes));
      } catch (err) {
        this.#options.logger?.error(
          { err, webhookId: target.id },
          'webhook topics unreadable: it receives nothing',
        );
        matcher = () => false;
      }
      this.#matchers.set(target.id, { updatedAtMs: target.updatedAtMs, matcher });
      return { target, matcher };
    });
  }

  /** Stops dispatching and releases every owned user, so another worker takes them at once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const wasRunning = this.#state === 'running';
      this.#state = 'closing';
      this.#clock.clearInterval(this.#leaseTimer);
      this.#clock.clearInterval(this.#safetyTimer);
      this.#stopResync?.();
      const errors: unknown[] = [];
      await this.#sweeping;
      for (const userId of [...this.#owned.keys()]) {
        await this.#drop(userId, true).catch((err) => errors.push(err));
      }
      if (wasRunning || this.#options.subscriber.status !== 'end') {
        await this.#options.subscriber.quit().catch(() => this.#options.subscriber.disconnect());
      }
      this.#state = 'closed';
      if (errors.length > 0) throw new AggregateError(errors, 'webhook dispatcher closed with errors');
    })();
    return this.#closing;
  }
}

/**
 * The matcher reads `roomId` only for room-scoped types, so the envelope is parsed only then
 * (the log's read API returns the serialized envelope, not its fields).
 */
function lazyMatchable(event: AppendedEvent): MatchableEvent {
  let roomId: string | undefined | null = null;
  return {
    type: event.type,
    get roomId(): string | undefined {
      if (roomId === null) {
        try {
          const parsed = JSON.parse(event.json) as { roomId?: unknown };
          roomId = typeof parsed.roomId === 'string' ? parsed.roomId : undefined;
        } catch {
          // A damaged entry cannot be routed to a room; it must not stall the dispatch either.
          roomId = undefined;
        }
      }
      return roomId;
    },
  };
}
