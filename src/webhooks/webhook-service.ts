/**
 * What the `/v1/webhooks` routes do, apart from HTTP: every method takes the owner's user id
 * (from the verified principal, never from the request), so a user only ever sees and changes
 * its own webhooks; another user's webhook is simply not found (architecture invariant 5).
 *
 * A webhook is a durable consumer of its owner's upstream session: registering one keeps the
 * owner's Rocket.Chat session and its subscriptions alive across restarts of every process
 * (`ConsumerRegistry.register(..., 'durable')`), and deleting it lets them go.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import type { GatewayConfig } from '../config/index.js';
import { createError } from '../errors.js';
import type { ContentFilter } from '../events/content-filter.js';
import { type EventLog, envelopeJson } from '../events/event-log.js';
import { parseStreamId } from '../events/stream-id.js';
import { createTopicMatcher, formatTopic, type Topic } from '../events/topics.js';
import type { GatewayEventType } from '../events/types.js';
import { type CursorPosition, encodeCursor, pageOf } from '../http/page-cursor.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { TokenCipher } from '../sessions/token-cipher.js';
import { type AttemptFilter, type AttemptRecord, DeliveryLedger } from './delivery-ledger.js';
import { rocketChatEventTypes } from './rocketchat-format.js';
import { generateRocketChatToken } from './rocketchat-token.js';
import { generateWebhookSecret } from './signer.js';
import { checkTargetUrl, type HostResolver, systemResolver } from './target-policy.js';
import {
  createWebhookQueue,
  DEFAULT_RETENTION,
  type DeliveryJobRetention,
  deliveryJobOptions,
  replayJobId,
  type WebhookJobData,
} from './webhook-queue.js';
import { toStatsView, type WebhookStatsView } from './webhook-stats.js';
import {
  type DisabledReason,
  type WebhookChange,
  type WebhookFormat,
  type WebhookInput,
  type WebhookRecord,
  WebhookStore,
} from './webhook-store.js';

export type { WebhookChange, WebhookInput, WebhookStatsView };

/** A webhook as the API shows it. The secret is never part of it. */
export interface WebhookView {
  readonly id: string;
  readonly url: string;
  readonly topics: readonly string[];
  readonly events: readonly GatewayEventType[];
  /** The content filter, null for none. */
  readonly filter: ContentFilter | null;
  readonly description: string;
  readonly enabled: boolean;
  readonly disabledReason: DisabledReason | null;
  readonly disabledAt: string | null;
  readonly consecutiveFailures: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly secretRotatedAt: string | null;
  readonly previousSecretExpiresAt: string | null;
  /** `gateway` (the envelope) or `rocketchat` (Rocket.Chat's outgoing-integration body). */
  readonly format: WebhookFormat;
  /** Names of the custom request headers; their values are never shown. */
  readonly headers: readonly string[];
}

/** A page of a list and the cursor of the next one (null on the last page). */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface DeliveriesQuery {
  readonly limit: number;
  /** From the cursor: list attempts older than this one. */
  readonly beforeSeq: number | undefined;
  readonly filter: AttemptFilter;
}

export interface AttemptView {
  readonly eventId: string;
  readonly eventType: string;
  readonly attempt: number;
  readonly at: string;
  readonly statusCode: number | null;
  readonly durationMs: number;
  readonly outcome: string;
  readonly error: string | null;
  readonly nextAttemptAt: string | null;
  /** `rocketchat` webhooks: the outbound job posting the receiver's reply (GET /v1/messages/:id). */
  readonly replyJobId?: string;
  /** `rocketchat` webhooks: why the reply the receiver asked for was not posted. */
  readonly replyError?: string;
}

/** How long creating a webhook waits for the upstream subscription of its topics. */
const SUBSCRIBE_WAIT_MS = 5000;

export interface WebhookServiceOptions {
  /** @defaultValue 50 */
  readonly maxWebhooksPerUser?: number;
  /** @defaultValue DEFAULT_RETENTION */
  readonly retention?: DeliveryJobRetention;
  /** Dead letters one replay sends at most (the ledger keeps at most this many anyway). @defaultValue 10000 */
  readonly maxReplay?: number;
}

export interface WebhookServiceDeps {
  /** The shared client; the service's BullMQ queue uses it too. */
  readonly redis: RedisClient;
  readonly keys: GatewayKeys;
  readonly config: Pick<GatewayConfig, 'webhooks' | 'redis'>;
  readonly consumers: ConsumerRegistry;
  /** Seals webhook secrets at rest (the same cipher as the credential store's). */
  readonly cipher: TokenCipher;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /**
   * Reaches the user's upstream session wherever it lives. With it, creating a webhook (or
   * changing its topics) answers once the session has subscribed them, so a message posted
   * after the answer is delivered. Without it the subscription follows within a round trip.
   */
  readonly calls?: Pick<CallRouter, 'ensureTopics'>;
  /** Reads single events for `resend`; without it only dead letters can be resent. */
  readonly eventLog?: Pick<EventLog, 'readOne'>;
  /** DNS for the registration-time target check. @defaultValue dns.lookup */
  readonly resolve?: HostResolver;
  readonly options?: WebhookServiceOptions;
}

export interface WebhookService {
  /** `token`: the `rocketchat` token, shown here once (generated unless given). */
  create(
    userId: string,
    input: WebhookInput,
  ): Promise<{ webhook: WebhookView; secret: string; token: string | undefined }>;
  /** The user's webhooks, oldest first, after the cursor position `(createdAtMs, id)`. */
  list(
    userId: string,
    page?: { limit: number; after: CursorPosition | undefined },
  ): Promise<Page<WebhookView>>;
  get(userId: string, id: string): Promise<WebhookView>;
  /** `token` when the change made one (switching to `rocketchat` without one). */
  update(
    userId: string,
    id: string,
    change: WebhookChange,
  ): Promise<{ webhook: WebhookView; token: string | undefined }>;
  remove(userId: string, id: string): Promise<void>;
  rotateSecret(userId: string, id: string): Promise<{ secret: string; previousSecretExpiresAt: string }>;
  sendTest(userId: string, id: string): Promise<{ eventId: string }>;
  /** The newest attempts (at most `limit`), unfiltered. */
  deliveries(userId: string, id: string, limit: number): Promise<AttemptView[]>;
  deliveriesPage(userId: string, id: string, query: DeliveriesQuery): Promise<Page<AttemptView>>;
  stats(userId: string, id: string): Promise<WebhookStatsView>;
  replay(userId: string, id: string, sinceMs: number, untilMs?: number): Promise<{ enqueued: number }>;
  /** Sends one event again to this endpoint (from the log, or its dead letter). */
  resend(userId: string, id: string, eventId: string): Promise<{ eventId: string; jobId: string }>;
  close(): Promise<void>;
}

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { redis, keys, config, consumers, cipher } = deps;
  const clock = deps.clock ?? systemClock;
  const resolve = deps.resolve ?? systemResolver;
  const maxPerUser = deps.options?.maxWebhooksPerUser ?? 50;
  const retention = deps.options?.retention ?? DEFAULT_RETENTION;
  const maxReplay = deps.options?.maxReplay ?? 10_000;
  const store = new WebhookStore({ redis, keys, cipher });
  const ledger = new DeliveryLedger({ redis, keys });
  const queue = createWebhookQueue(redis, config.redis.queuePrefix);
  queue.on('error', (err) => deps.logger?.error({ err }, 'webhook queue error'));
  const policy = {
    isPrivateTargetAllowed: config.webhooks.isPrivateTargetAllowed,
    isHttpAllowed: config.webhooks.isHttpAllowed,
  };

  const notFound = () => createError('GW_ERR_NOT_FOUND', 'No such webhook');
  const mustGet = async (userId: string, id: string): Promise<WebhookRecord> => {
    const record = await store.get(userId, id);
    if (!record) throw notFound();
    return record;
  };
  /** Tells dispatchers to claim the user (first webhook) or reload its webhooks. */
  const announce = (userId: string) => redis.publish(keys.webhookChangesChannel, userId);
  const consumerId = (id: string) => `webhook:${id}`;
  /**
   * Waits (briefly) for the user's session to subscribe the topics. Best effort: a webhook is
   * durable and gets its events once the session is up, so Rocket.Chat being down, or the
   * credentials invalid, must not refuse the registration.
   */
  const subscribeUpstream = async (userId: string, topics: readonly Topic[]): Promise<void> => {
    if (!deps.calls) return;
    try {
      await deps.calls.ensureTopics(userId, topics.map(formatTopic), SUBSCRIBE_WAIT_MS);
    } catch (err) {
      deps.logger?.info(
        { err, userId },
        'webhook topics not subscribed upstream yet: its events start when the session is up',
      );
    }
  };

  /**
   * The event to resend: from the log when it still holds it (and the webhook's topics and types
   * take it), else from the endpoint's dead letters. Not found otherwise.
   */
  const findEvent = async (
    userId: string,
    id: string,
    record: WebhookRecord,
    eventId: string,
  ): Promise<Pick<WebhookJobData, 'eventId' | 'eventType' | 'eventTimeMs' | 'payload'>> => {
    const logged = eventId.startsWith('test_') ? undefined : await deps.eventLog?.readOne(userId, eventId);
    if (logged && createTopicMatcher(record.topics, record.eventTypes)(logged)) {
      return {
        eventId,
        eventType: logged.type,
        eventTimeMs: parseStreamId(logged.id)?.ms ?? clock.now(),
        payload: logged.json,
      };
    }
    const letter = await ledger.deadLetter(userId, id, eventId);
    if (letter) {
      return {
        eventId,
        eventType: letter.eventType,
        eventTimeMs: letter.eventTimeMs,
        payload: letter.payload,
      };
    }
    throw createError(
      'GW_ERR_NOT_FOUND',
      'No such event for this webhook (not in the log, not a dead letter)',
    );
  };

  /**
   * The pending set is kept by the dispatcher (added before the job) and the finish script
   * (removed when the delivery ends), so it can hold jobs that ended elsewhere: re-added by a
   * dispatcher's successor after a crash when BullMQ had already finished them, or failed by
   * BullMQ itself (stalled too often). Entries older than a minute are checked against BullMQ
   * (a bounded number per call) and forgotten when their job is over or gone.
   */
  const forgetFinishedPending = async (userId: string, id: string): Promise<void> => {
    const candidates = await ledger.pendingBefore(
      userId,
      id,
      clock.now() - PENDING_CHECK_AFTER_MS,
      PENDING_CHECKS,
    );
    const states = await Promise.all(candidates.map((jobId) => queue.getJobState(jobId)));
    await ledger.settlePendingMany(
      userId,
      id,
      candidates.filter((_, i) => !UNFINISHED_STATES.has(String(states[i]))),
    );
  };

  return {
    async create(userId, input) {
      const format = input.format ?? 'gateway';
      if (input.token !== undefined && format !== 'rocketchat') throw tokenWithoutFormat();
      const eventTypes = format === 'rocketchat' ? rocketChatEventTypes(input.eventTypes) : input.eventTypes;
      const url = await checkTargetUrl(input.url, policy, resolve);
      const id = `wh_${randomBytes(12).toString('base64url')}`;
      const secret = generateWebhookSecret();
      const token = format === 'rocketchat' ? (input.token ?? generateRocketChatToken()) : undefined;
      const record = await store.create(
        userId,
        id,
        {
          ...input,
          url: url.href,
          eventTypes,
          format,
          ...(token === undefined ? {} : { token }),
        },
        secret,
        clock.now(),
        maxPerUser,
      );
      if (!record) {
        throw createError('GW_ERR_CONFLICT', `A user may have at most ${maxPerUser} webhooks`, {
          details: { limit: maxPerUser },
        });
      }
      // After the record: a crash in between leaves a webhook without its consumer, which the
      // dispatcher re-registers when it claims the user (never a consumer without a webhook).
      await consumers.register(userId, consumerId(id), record.topics, 'durable');
      await announce(userId);
      await subscribeUpstream(userId, record.topics);
      return { webhook: toView(record), secret, token };
    },

    async list(userId, page = { limit: 100, after: undefined }) {
      const records = await store.list(userId);
      const { items, nextCursor } = pageOf(
        records,
        'webhooks',
        (record) => [record.createdAtMs, record.id],
        page.after,
        page.limit,
      );
      return { items: items.map(toView), nextCursor };
    },

    async get(userId, id) {
      return toView(await mustGet(userId, id));
    },

    async update(userId, id, change) {
      const current = await mustGet(userId, id);
      const format = change.format ?? current.format;
      if (change.token !== undefined && format !== 'rocketchat') throw tokenWithoutFormat();
      let eventTypes = change.eventTypes;
      if (format === 'rocketchat' && (eventTypes !== undefined || change.format !== undefined)) {
        eventTypes = rocketChatEventTypes(eventTypes ?? current.eventTypes);
      }
      // Switching to `rocketchat` without a token: make one (shown in this answer only).
      const token =
        change.token ??
        (format === 'rocketchat' && !current.hasToken ? generateRocketChatToken() : undefined);
      const url =
        change.url === undefined ? undefined : (await checkTargetUrl(change.url, policy, resolve)).href;
      const record = await store.update(
        userId,
        id,
        {
          ...change,
          ...(url === undefined ? {} : { url }),
          ...(eventTypes === undefined ? {} : { eventTypes }),
          ...(token === undefined ? {} : { token }),
        },
        clock.now(),
      );
      if (!record) throw notFound();
      if (change.topics !== undefined)
        await consumers.register(userId, consumerId(id), record.topics, 'durable');
      await announce(userId);
      if (change.topics !== undefined) await subscribeUpstream(userId, record.topics);
      return { webhook: toView(record), token: change.token === undefined ? token : undefined };
    },

    async remove(userId, id) {
      await mustGet(userId, id);
      // Consumer first: a crash in between leaves a webhook the dispatcher re-registers.
      await consumers.unregister(userId, consumerId(id));
      if ((await store.remove(userId, id)) === undefined) throw notFound();
      await announce(userId);
    },

    async rotateSecret(userId, id) {
      const secret = generateWebhookSecret();
      const now = clock.now();
      if (!(await store.rotateSecret(userId, id, secret, now, config.webhooks.secretGraceMs)))
        throw notFound();
      return { secret, previousSecretExpiresAt: new Date(now + config.webhooks.secretGraceMs).toISOString() };
    },

    async sendTest(userId, id) {
      const record = await mustGet(userId, id);
      if (record.status !== 'enabled') throw disabledConflict();
      const now = clock.now();
      // Not logged: it is for this endpoint only, not for the owner's other consumers.
      const eventId = `test_${randomUUID()}`;
      const tail = JSON.stringify({
        userId,
        ts: new Date(now).toISOString(),
        data: { webhookId: id, message: 'This is a test event from the Rocket.Chat gateway.' },
      }).slice(1);
      const data: WebhookJobData = {
        webhookId: id,
        userId,
        eventId,
        eventType: 'webhook.test',
        eventTimeMs: now,
        payload: envelopeJson(eventId, 'webhook.test', tail),
      };
      const jobId = `${id}.${eventId}`;
      await ledger.markPending(userId, id, [jobId], now);
      await queue.add(
        'webhook.test',
        data,
        deliveryJobOptions(jobId, config.webhooks.retryScheduleMs, retention),
      );
      return { eventId };
    },

    async deliveries(userId, id, limit) {
      await mustGet(userId, id);
      return (await ledger.attempts(userId, id, limit)).map(toAttemptView);
    },

    async deliveriesPage(userId, id, query) {
      await mustGet(userId, id);
      const page = await ledger.attemptsPage(userId, id, query.beforeSeq, query.limit, query.filter);
      const last = page.attempts[page.attempts.length - 1];
      return {
        items: page.attempts.map(({ attempt }) => toAttemptView(attempt)),
        nextCursor: page.hasMore && last ? encodeCursor('deliveries', [last.seq]) : null,
      };
    },

    async stats(userId, id) {
      const record = await mustGet(userId, id);
      await forgetFinishedPending(userId, id);
      const [pending, deadLetters] = await Promise.all([
        ledger.backlog(userId, id),
        ledger.deadLetterCount(userId, id),
      ]);
      return toStatsView(record, pending, deadLetters);
    },

    async resend(userId, id, eventId) {
      const record = await mustGet(userId, id);
      if (record.status !== 'enabled') throw disabledConflict();
      const event = await findEvent(userId, id, record, eventId);
      const now = clock.now();
      // A new job each time (a resend is asked for on purpose), same `webhook-id` as the first.
      const jobId = `${id}.${eventId}.s${now}`;
      await ledger.markPending(userId, id, [jobId], now);
      await queue.add(
        event.eventType,
        { webhookId: id, userId, ...event },
        deliveryJobOptions(jobId, config.webhooks.retryScheduleMs, retention),
      );
      return { eventId, jobId };
    },

    async replay(userId, id, sinceMs, untilMs = Number.MAX_SAFE_INTEGER) {
      const markReplayed = (chunk: readonly { eventId: string; failedAtMs: number }[]) =>
        ledger.markPending(
          userId,
          id,
          chunk.map((letter) => replayJobId(id, letter.eventId, letter.failedAtMs)),
          clock.now(),
        );
      const record = await mustGet(userId, id);
      if (record.status !== 'enabled') throw disabledConflict();
      const letters = await ledger.deadLetters(userId, id, sinceMs, untilMs, maxReplay);
      const CHUNK = 500;
      for (let i = 0; i < letters.length; i += CHUNK) {
        const chunk = letters.slice(i, i + CHUNK);
        await markReplayed(chunk);
        // Added before they leave the dead-letter list: a crash in between re-sends, never loses.
        // The job id includes the failure time, so two replays of the same failure add one job.
        await queue.addBulk(
          chunk.map((letter) => ({
            name: letter.eventType,
            data: {
              webhookId: id,
              userId,
              eventId: letter.eventId,
              eventType: letter.eventType,
              eventTimeMs: letter.eventTimeMs,
              payload: letter.payload,
            },
            opts: deliveryJobOptions(
              replayJobId(id, letter.eventId, letter.failedAtMs),
              config.webhooks.retryScheduleMs,
              retention,
            ),
          })),
        );
        await ledger.removeDeadLetters(userId, id, chunk);
      }
      return { enqueued: letters.length };
    },

    async close() {
      await queue.close();
    },
  };
}

/** Pending entries this old are checked against BullMQ before they are counted. */
const PENDING_CHECK_AFTER_MS = 60_000;
/** At most this many checked per statistics request: the cost stays bounded, the set heals over requests. */
const PENDING_CHECKS = 200;
/** BullMQ states in which a job is still to be attempted (or being attempted). */
const UNFINISHED_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'delayed',
  'active',
  'prioritized',
  'waiting-children',
]);

function tokenWithoutFormat() {
  return createError('GW_ERR_VALIDATION', 'token applies to format "rocketchat" only', {
    details: { field: 'token' },
  });
}

function disabledConflict() {
  return createError('GW_ERR_CONFLICT', 'The webhook is disabled; enable it first (PATCH {"enabled": true})');
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export function toView(record: WebhookRecord): WebhookView {
  return {
    id: record.id,
    url: record.url,
    topics: record.topics.map(formatTopic),
    events: record.eventTypes,
    filter: record.filter ?? null,
    description: record.description,
    enabled: record.status === 'enabled',
    disabledReason: record.disabledReason ?? null,
    disabledAt: iso(record.disabledAtMs),
    consecutiveFailures: record.consecutiveFailures,
    createdAt: new Date(record.createdAtMs).toISOString(),
    updatedAt: new Date(record.updatedAtMs).toISOString(),
    secretRotatedAt: iso(record.secretRotatedAtMs),
    previousSecretExpiresAt: iso(record.previousSecretExpiresAtMs),
    format: record.format,
    headers: record.headerNames,
  };
}

function toAttemptView(attempt: AttemptRecord): AttemptView {
  return {
    eventId: attempt.eventId,
    eventType: attempt.eventType,
    attempt: attempt.attempt,
    at: new Date(attempt.atMs).toISOString(),
    statusCode: attempt.statusCode,
    durationMs: attempt.durationMs,
    outcome: attempt.outcome,
    error: attempt.error,
    nextAttemptAt: attempt.nextAttemptAtMs === null ? null : new Date(attempt.nextAttemptAtMs).toISOString(),
    ...(attempt.replyJobId === undefined ? {} : { replyJobId: attempt.replyJobId }),
    ...(attempt.replyError === undefined ? {} : { replyError: attempt.replyError }),
  };
}
