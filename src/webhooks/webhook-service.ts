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
import { envelopeJson } from '../events/event-log.js';
import { formatTopic, type Topic } from '../events/topics.js';
import type { GatewayEventType } from '../events/types.js';
import type { Logger } from '../log/index.js';
import type { RedisClient } from '../redis/connection.js';
import type { GatewayKeys } from '../redis/keys.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { ConsumerRegistry } from '../sessions/consumer-registry.js';
import type { TokenCipher } from '../sessions/token-cipher.js';
import { type AttemptRecord, DeliveryLedger } from './delivery-ledger.js';
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
import {
  type DisabledReason,
  type WebhookChange,
  type WebhookInput,
  type WebhookRecord,
  WebhookStore,
} from './webhook-store.js';

export type { WebhookChange, WebhookInput };

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
  /** DNS for the registration-time target check. @defaultValue dns.lookup */
  readonly resolve?: HostResolver;
  readonly options?: WebhookServiceOptions;
}

export interface WebhookService {
  create(userId: string, input: WebhookInput): Promise<{ webhook: WebhookView; secret: string }>;
  list(userId: string): Promise<WebhookView[]>;
  get(userId: string, id: string): Promise<WebhookView>;
  update(userId: string, id: string, change: WebhookChange): Promise<WebhookView>;
  remove(userId: string, id: string): Promise<void>;
  rotateSecret(userId: string, id: string): Promise<{ secret: string; previousSecretExpiresAt: string }>;
  sendTest(userId: string, id: string): Promise<{ eventId: string }>;
  deliveries(userId: string, id: string, limit: number): Promise<AttemptView[]>;
  replay(userId: string, id: string, sinceMs: number, untilMs?: number): Promise<{ enqueued: number }>;
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

  return {
    async create(userId, input) {
      const url = await checkTargetUrl(input.url, policy, resolve);
      const id = `wh_${randomBytes(12).toString('base64url')}`;
      const secret = generateWebhookSecret();
      const record = await store.create(
        userId,
        id,
        { ...input, url: url.href },
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
      return { webhook: toView(record), secret };
    },

    async list(userId) {
      return (await store.list(userId)).map(toView);
    },

    async get(userId, id) {
      return toView(await mustGet(userId, id));
    },

    async update(userId, id, change) {
      await mustGet(userId, id);
      const url =
        change.url === undefined ? undefined : (await checkTargetUrl(change.url, policy, resolve)).href;
      const record = await store.update(
        userId,
        id,
        {
          ...change,
          ...(url === undefined ? {} : { url }),
        },
        clock.now(),
      );
      if (!record) throw notFound();
      if (change.topics !== undefined)
        await consumers.register(userId, consumerId(id), record.topics, 'durable');
      await announce(userId);
      if (change.topics !== undefined) await subscribeUpstream(userId, record.topics);
      return toView(record);
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
      await queue.add(
        'webhook.test',
        data,
        deliveryJobOptions(`${id}.${eventId}`, config.webhooks.retryScheduleMs, retention),
      );
      return { eventId };
    },

    async deliveries(userId, id, limit) {
      await mustGet(userId, id);
      return (await ledger.attempts(userId, id, limit)).map(toAttemptView);
    },

    async replay(userId, id, sinceMs, untilMs = Number.MAX_SAFE_INTEGER) {
      const record = await mustGet(userId, id);
      if (record.status !== 'enabled') throw disabledConflict();
      const letters = await ledger.deadLetters(userId, id, sinceMs, untilMs, maxReplay);
      const CHUNK = 500;
      for (let i = 0; i < letters.length; i += CHUNK) {
        const chunk = letters.slice(i, i + CHUNK);
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
  };
}
