/**
 * Turns logged events into delivery jobs. For each user with webhooks, one dispatcher in the
 * cluster owns the user's dispatch (a lease in Redis, renewed while it lives, taken over by
 * another worker when it expires). The owner keeps a cursor (the last event id dispatched), adds
 * one job per matching (webhook, event) and only then moves the cursor. Events come from the log
 * (after the cursor) until the owner has caught up with it, and from then on straight from the
 * LiveHub: the owner listens before its first read and Pub/Sub brings one user's events in log
 * order, so after a read that reached the head of the log, the live events newer than the cursor
 * are exactly the rest of the log (the ones heard during a pass wait for it, as SSE's live queue
 * does). Anything that may have broken that chain (the subscriber reconnected, a backlog
 * outgrew the queue, a webhook changed, the periodic safety pass, a cursor someone else moved)
 * sends the owner back to the log.
 *
 * - a dispatcher killed between adding jobs and moving the cursor leaves the cursor behind; its
 *   successor reads the same events again and re-adds the same job ids, which BullMQ ignores, so
 *   no event is skipped and none is enqueued twice;
 * - the cursor only moves forward, and only while the lease is still ours (one script), so an
 *   owner that stalled (GC pause, network split) and lost its lease cannot drag it back;
 * - Pub/Sub can drop a notice (the subscriber reconnecting): the LiveHub's resync and a slow
 *   periodic pass re-read every owned log, so a missed notice delays events, never loses them.
 *
 * Jobs go into BullMQ in one of two ways (`#enqueue`): straight into its active list, attempted at
 * once by this process (direct-attempts.ts), or into its wait list for the workers; either way the
 * cursor moves only once they are all there, so the rules above hold for both.
 *
 * Events are read before the webhooks are loaded. A webhook's `fromId` is the log's last id read
 * atomically with its creation (webhook-store.ts), so a webhook that did not exist when the
 * webhooks were loaded has a `fromId` at or after every event of that batch: it is owed none.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import {
  type ContentPredicate,
  compileContentFilter,
  contentFilterSchema,
  withContentFilter,
} from '../events/content-filter.js';
import type { AppendedEvent, EventLog } from '../events/event-log.js';
import type { LiveEvent, LiveHub } from '../events/live-hub.js';
import { compareStreamIds, parseStreamId } from '../events/stream-id.js';
import { createTopicMatcher, parseEventTypes, parseTopics } from '../events/topics.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import { LuaScript } from '../redis/lua-script.js';
import { OwnerLease } from '../redis/owner-lease.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { DeadLetter, DeliveryLedger } from './delivery-ledger.js';
import type { DirectAttempts, PlannedJob } from './direct-attempts.js';
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
  /**
   * When given, the first attempt of each delivery is made here, straight away (direct-attempts.ts);
   * jobs it has no room for go to the queue. Without it, every job goes to the queue.
   */
  readonly direct?: DirectAttempts;
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

// KEYS, ARGV and reply: see the header of the file.
const ADVANCE_SCRIPT = LuaScript.fromFile(import.meta.url, './dispatcher/advance.lua', 2);

interface OwnedUser {
  readonly userId: string;
  /** The cursor as last written by us; undefined: read it from Redis. Only the lease holder moves it. */
  cursor: string | undefined;
  unlisten: (() => void) | undefined;
  running: Promise<void> | undefined;
  /** A notice arrived while a pass was running: run another. */
  dirty: boolean;
  lost: boolean;
  /** The last read reached the head of the log: live events newer than the cursor continue it. */
  caughtUp: boolean;
  /** Live events heard and not yet dispatched, in log order. */
  readonly live: LiveEvent[];
  /** The user's targets as compiled at a webhook version (see `#targets`). */
  targets: { readonly version: string; readonly compiled: CompiledTarget[] } | undefined;
}

/** Topics, event types and content filter of one webhook, compiled into one predicate. */
type EventMatcher = (event: DispatchableEvent) => boolean;

interface CompiledTarget {
  readonly target: DispatchTarget;
  readonly matcher: EventMatcher;
}

type DispatcherState = 'created' | 'running' | 'closing' | 'closed';

/** A logged event, read back or heard live: both carry the routing fields beside the envelope. */
type DispatchableEvent = AppendedEvent | LiveEvent;

/** Live events held per user before the owner gives up on them and reads the log instead. */
const LIVE_QUEUE_BATCHES = 4;

export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #clock: Clock;
  readonly #token: string;
  readonly #leaseTtlMs: number;
  readonly #lease: OwnerLease;
  readonly #batchSize: number;
  readonly #retention: DeliveryJobRetention;
  readonly #owned = new Map<string, OwnedUser>();
  readonly #matchers = new Map<string, { updatedAtMs: number; matcher: EventMatcher }>();
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
    this.#lease = new OwnerLease({ redis: options.redis, ttlMs: this.#leaseTtlMs });
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
      for (const userId of this.#owned.keys()) this.#schedule(userId, true);
    });
    this.#leaseTimer = this.#clock.setInterval(
      () => void this.sweep(),
      Math.max(50, Math.floor(this.#leaseTtlMs / 3)),
    );
    this.#leaseTimer.unref();
    this.#safetyTimer = this.#clock.setInterval(() => {
      for (const userId of this.#owned.keys()) this.#schedule(userId, true);
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
    const { keys, store } = this.#options;
    const users = new Set(await store.users());
    for (const userId of [...this.#owned.keys()]) {
      if (!users.has(userId)) await this.#drop(userId, true);
    }
    const owned = [...this.#owned.keys()];
    if (owned.length > 0) {
      const renewals = await Promise.all(
        owned.map((userId) => this.#lease.renew(keys.user(userId).webhookDispatchLease, this.#token)),
      );
      for (const [i, userId] of owned.entries()) {
        if (!renewals[i]) await this.#drop(userId, false);
      }
    }
    for (const userId of users) {
      if (!this.#owned.has(userId) && this.#state === 'running') await this.#tryClaim(userId);
    }
  }

  async #onChange(userId: string): Promise<void> {
    if (this.#state !== 'running') return;
    try {
      if (this.#owned.has(userId)) this.#schedule(userId, true);
      else await this.#tryClaim(userId);
    } catch (err) {
      this.#options.logger?.error({ err, userId }, 'webhook change handling failed');
    }
  }

  async #tryClaim(userId: string): Promise<void> {
    const { keys } = this.#options;
    const claimed = await this.#lease.acquire(keys.user(userId).webhookDispatchLease, this.#token);
    if (!claimed || this.#state !== 'running' || this.#owned.has(userId)) return;
    const owned: OwnedUser = {
      userId,
      cursor: undefined,
      unlisten: undefined,
      running: undefined,
      dirty: false,
      lost: false,
      caughtUp: false,
      live: [],
      targets: undefined,
    };
    this.#owned.set(userId, owned);
    // Listening before the first read: an event logged in between is then either read or heard.
    try {
      owned.unlisten = await this.#options.liveHub.listen(userId, (event) => this.#onLive(owned, event));
    } catch (err) {
      await this.#drop(userId, true);
      throw err;
    }
    if (owned.lost) {
      owned.unlisten();
      return;
    }
    void this.#healConsumers(userId);
    this.#schedule(userId, true);
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
      const { keys } = this.#options;
      await this.#lease
        .release(keys.user(userId).webhookDispatchLease, this.#token)
        .catch((err) =>
          this.#options.logger?.warn({ err, userId }, 'could not release webhook dispatch lease'),
        );
    }
  }

  #onLive(owned: OwnedUser, event: LiveEvent): void {
    if (owned.lost) return;
    if (owned.live.length >= this.#batchSize * LIVE_QUEUE_BATCHES) {
      // Far behind: the log holds these too; reading it in batches bounds what waits in memory.
      owned.live.length = 0;
      owned.caughtUp = false;
    } else {
      owned.live.push(event);
    }
    this.#schedule(owned.userId);
  }

  /**
   * Runs a pass for the user now, or once more after the one in progress. `fromLog`: read the
   * log after the cursor first, whatever was heard live.
   */
  #schedule(userId: string, fromLog = false): void {
    const owned = this.#owned.get(userId);
    if (!owned || owned.lost) return;
    if (fromLog) {
      owned.caughtUp = false;
      // Whatever sent the owner back to the log (a change notice among them) may have changed
      // the webhooks too: read them again rather than trust the version alone.
      owned.targets = undefined;
    }
    if (owned.running) {
      owned.dirty = true;
      return;
    }
    owned.running = this.#run(owned)
      .catch((err) => {
        // Whatever failed, the log has it: read it again on the next pass.
        owned.caughtUp = false;
        this.#options.logger?.error({ err, userId }, 'webhook dispatch failed');
      })
      .finally(() => {
        owned.running = undefined;
      });
  }

  async #run(owned: OwnedUser): Promise<void> {
    do {
      owned.dirty = false;
      if (!owned.caughtUp) {
        let full = true;
        while (!owned.lost && full) full = await this.#readBatch(owned);
        // An empty or short read reached the head; a lost lease or a cursor moved by someone
        // else (undefined) leaves the owner to read again.
        owned.caughtUp = !owned.lost && owned.cursor !== undefined;
      }
      if (owned.caughtUp && owned.live.length > 0) {
        const heard = owned.live.splice(0, this.#batchSize);
        const cursor = owned.cursor!;
        // Heard while the log was being read: those the read already covered are skipped.
        const fresh = heard.filter((event) => compareStreamIds(event.id, cursor) > 0);
        if (fresh.length > 0) await this.#dispatch(owned, fresh);
      }
    } while ((owned.dirty || (owned.caughtUp && owned.live.length > 0)) && !owned.lost);
  }

  /** Reads and dispatches one batch from the log; resolves true when the batch was full. */
  async #readBatch(owned: OwnedUser): Promise<boolean> {
    const { redis, keys, eventLog, store } = this.#options;
    const { userId } = owned;
    let cursor = owned.cursor ?? (await redis.get(keys.user(userId).webhookCursor)) ?? undefined;
    if (cursor === undefined) {
      // First pass for this user: start where the oldest webhook starts, not at the log's head.
      const { targets } = await store.dispatchTargets(userId);
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
    if (read.events.length === 0) {
      owned.cursor = cursor;
      return false;
    }
    await this.#dispatch(owned, read.events);
    return read.events.length === this.#batchSize;
  }

  /** Adds the jobs (and dead letters) the events owe, then moves the cursor past them. */
  async #dispatch(owned: OwnedUser, events: readonly DispatchableEvent[]): Promise<void> {
    const { redis, keys } = this.#options;
    const { userId } = owned;
    const userKeys = keys.user(userId);
    const targets = await this.#targets(owned, events[events.length - 1]!);
    const jobs: PlannedJob[] = [];
    const dead = new Map<string, DeadLetter[]>();
    const nowMs = this.#clock.now();
    for (const event of events) {
      const eventTimeMs = parseStreamId(event.id)?.ms ?? nowMs;
      for (const { target, matcher } of targets) {
        if (compareStreamIds(event.id, target.fromId) <= 0 || !matcher(event)) continue;
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
    if (jobs.length > 0) await this.#enqueue(userId, jobs, nowMs);
    for (const [webhookId, letters] of dead)
      await this.#options.ledger.addDeadLetters(userId, webhookId, letters);
    const lastId = events[events.length - 1]!.id;
    const advanced = await ADVANCE_SCRIPT.run<number>(
      redis,
      [userKeys.webhookDispatchLease, userKeys.webhookCursor],
      [this.#token, lastId],
    );
    if (advanced === -1) {
      // Someone else owns the user now; what we added is deduplicated against their adds.
      this.#options.logger?.warn({ userId }, 'webhook dispatch lease lost mid-pass');
      owned.cursor = undefined;
      void this.#drop(userId, false);
      return;
    }
    // 0: the stored cursor was already further (a previous owner's): read it again next pass.
    owned.cursor = advanced === 1 ? lastId : undefined;
  }

  /**
   * Puts the jobs into BullMQ, each marked pending first (a job that finishes at once must find
   * its entry to remove): as many as there are free direct attempts straight into active, attempted
   * here at once (each marked by its attempt's `begin`, see direct-attempts.ts), the rest into the
   * queue for the workers. Resolves once every job is in BullMQ.
   */
  async #enqueue(userId: string, jobs: readonly PlannedJob[], nowMs: number): Promise<void> {
    const { direct } = this.#options;
    let next = 0;
    if (direct) {
      while (next < jobs.length) {
        const reserved = await direct.reserve(jobs.length - next);
        if (reserved === 0) break;
        const group = jobs.slice(next, next + reserved);
        next += group.length;
        await direct.start(group, reserved, nowMs);
      }
    }
    if (next < jobs.length) await this.#addToQueue(userId, next === 0 ? jobs : jobs.slice(next), nowMs);
  }

  /** Marks the jobs pending and adds them to the queue's wait list for the workers. */
  async #addToQueue(userId: string, jobs: readonly PlannedJob[], nowMs: number): Promise<void> {
    const { queue, ledger } = this.#options;
    const byWebhook = new Map<string, string[]>();
    for (const job of jobs) {
      const ids = byWebhook.get(job.data.webhookId) ?? [];
      ids.push(job.opts.jobId);
      byWebhook.set(job.data.webhookId, ids);
    }
    const markAll = (on?: RedisClient): Promise<unknown> =>
      Promise.all(
        [...byWebhook].map(([webhookId, ids]) => ledger.markPending(userId, webhookId, ids, nowMs, on)),
      );
    // On one Redis, the marks go out on the queue's own connection just ahead of the jobs: Redis
    // runs a connection's commands in order, so they land first without a round trip of their own.
    // A Cluster keeps no order between its nodes: there they are awaited first.
    const queueClient = await queue.getBackend().client;
    if (queueClient instanceof Redis) await Promise.all([markAll(queueClient), queue.addBulk([...jobs])]);
    else {
      await markAll();
      await queue.addBulk([...jobs]);
    }
  }

  /**
   * The user's targets for events already in hand. The version is taken as of the newest event or
   * later, as the module header requires: a webhook created or changed before one of them was
   * logged has moved it by then, so an unchanged version means the targets kept from an earlier
   * pass are still the ones. Costs nothing for live events (`#versionAfter`) and one GET for
   * events read from the log, instead of reading every webhook; '' (no change since before
   * versions existed) is never trusted.
   */
  async #targets(owned: OwnedUser, last: DispatchableEvent): Promise<CompiledTarget[]> {
    const { store } = this.#options;
    const kept = owned.targets;
    if (kept && kept.version !== '' && (await this.#versionAfter(owned.userId, last)) === kept.version) {
      return kept.compiled;
    }
    const { version, targets } = await store.dispatchTargets(owned.userId);
    const compiled = this.#compile(owned.userId, targets);
    owned.targets = { version, compiled };
    return compiled;
  }

  /**
   * The webhook version as of `last` (the newest event in hand) or later. A live event carries the
   * version its append read (in the same script, so a change before the event was logged is in
   * it): no round trip. An event read back from the log, or heard from an earlier version's
   * publisher, does not: then it is read now, after the events, as before.
   */
  #versionAfter(userId: string, last: DispatchableEvent): Promise<string> | string {
    const carried = 'webhookVersion' in last ? last.webhookVersion : undefined;
    return carried ?? this.#options.store.webhookVersion(userId);
  }

  /**
   * Matchers (topics, types, content filter), compiled once per webhook version. A record that
   * does not parse (written by a newer version with a topic or filter field this one does not
   * know) matches nothing rather than stalling the user's whole dispatch.
   */
  #compile(userId: string, targets: readonly DispatchTarget[]): CompiledTarget[] {
    return targets.map((target) => {
      const cached = this.#matchers.get(target.id);
      if (cached && cached.updatedAtMs === target.updatedAtMs) return { target, matcher: cached.matcher };
      let matcher: EventMatcher;
      try {
        const content: ContentPredicate | undefined = target.filter
          ? compileContentFilter(contentFilterSchema.parse(JSON.parse(target.filter)), userId)
          : undefined;
        matcher = withContentFilter<DispatchableEvent>(
          createTopicMatcher(parseTopics(target.topics), parseEventTypes(target.eventTypes)),
          content,
        );
      } catch (err) {
        this.#options.logger?.error(
          { err, webhookId: target.id },
          'webhook topics or filter unreadable: it receives nothing',
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
