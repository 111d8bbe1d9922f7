/**
 * The BullMQ processor of webhook deliveries: one call is one attempt. What each outcome means
 * is decided here and nowhere else:
 *
 * | outcome                                   | now                                     | BullMQ        |
 * | ----------------------------------------- | --------------------------------------- | ------------- |
 * | owner's credential not valid              | parked, no attempt counted              | DelayedError  |
 * | endpoint at its concurrency limit         | put back shortly, no attempt counted    | DelayedError  |
 * | webhook deleted                           | dropped                                 | completed     |
 * | endpoint disabled (failures, 410)         | dead letter (replayable)                | completed     |
 * | 2xx                                       | success, failure count reset            | completed     |
 * | 410 Gone                                  | dead letter, endpoint disabled          | Unrecoverable |
 * | refused by the SSRF guard                 | dead letter, counts as a failure        | Unrecoverable |
 * | other status, timeout, network error      | retry per schedule (+ Retry-After)      | error         |
 * | ... on the last attempt                   | dead letter, failure count +1, maybe disabled | Unrecoverable |
 *
 * A `rocketchat` webhook (rocketchat-format.ts) is sent Rocket.Chat's outgoing-integration body
 * instead of the envelope, signed the same way; events that format has no body for are dropped
 * without an attempt. On success, a reply the receiver asked for (JSON `text`) is handed to the
 * outbound queue as the webhook's owner, with the delivery job as idempotency key, so a retried
 * job posts it once; the attempt records the outbound job (or why nothing was posted).
 *
 * A 3xx is a failure (redirects are not followed, as in Svix). When the failure count reaches
 * `disableAfterFailures`, the endpoint is disabled and a `webhook.disabled` event is appended to
 * the owner's log, so the owner's SSE stream (and other webhooks on `user`) hear of it.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { type Clock, systemClock } from '../clock.js';
import type { WebhooksConfig } from '../config/index.js';
import type { EventLog } from '../events/event-log.js';
import type { Logger } from '../log/index.js';
import type { Metrics, WebhookDeliveryOutcome } from '../metrics/index.js';
import type { OutboundQueue } from '../outbound/outbound-queue.js';
import type { CredentialGate } from './credential-gate.js';
import type { CustomHeaders } from './custom-headers.js';
import type { DeliveryClient, DeliveryResult } from './delivery-client.js';
import type { AttemptRecord, DeliveryBeginResult, DeliveryLedger, FinishKind } from './delivery-ledger.js';
import { honoursRetryAfter, retryDelayMs } from './retry-policy.js';
import { RocketChatDelivery } from './rocketchat-delivery.js';
import { type MessageFacts, messageFactsOf } from './rocketchat-format.js';
import type { WebhookSigner } from './signer.js';
import type { WebhookJobData } from './webhook-queue.js';
import type { DisabledReason, WebhookStore } from './webhook-store.js';

/** A failed attempt that will be retried, carrying the delay chosen for it. */
export class DeliveryAttemptError extends Error {
  readonly retryDelayMs: number;

  constructor(message: string, retryDelayMs: number) {
    super(message);
    this.name = 'DeliveryAttemptError';
    this.retryDelayMs = retryDelayMs;
  }
}

export type DeliveryJobResult = 'delivered' | 'dropped' | 'dead-lettered';

/** An attempt's result, and its entry in the ledger, which may still be on its way. */
export interface AttemptOutcome {
  readonly result: DeliveryJobResult;
  /**
   * Settles once the ledger has the attempt (`DeliveryLedger.finish`). Already sent when the
   * outcome is handed back: a caller on the same connection can send the job's move behind it
   * in the same write instead of waiting for its reply (direct-attempts.ts).
   */
  readonly recorded: Promise<unknown>;
}

const RECORDED: Promise<unknown> = Promise.resolve();

/** An endpoint slot asked for ahead of the attempt (`DeliveryProcessor.begin`). */
export interface EarlyBegin {
  readonly startedMs: number;
  readonly result: Promise<DeliveryBeginResult>;
}

export interface DeliveryProcessorOptions {
  readonly store: WebhookStore;
  readonly ledger: DeliveryLedger;
  readonly gate: CredentialGate;
  readonly client: DeliveryClient;
  readonly signer: WebhookSigner;
  readonly eventLog: EventLog;
  readonly config: Pick<
    WebhooksConfig,
    'timeoutMs' | 'retryScheduleMs' | 'disableAfterFailures' | 'concurrencyPerEndpoint'
  >;
  readonly metrics: Metrics;
  /** Rocket.Chat's `Site_Url` for `rocketchat` bodies: `config.rocketchat.url`. */
  readonly siteUrl: string;
  /** Posts `rocketchat` replies into the room; without it replies are recorded as not posted. */
  readonly replies?: Pick<OutboundQueue, 'accept'>;
  /** A room's name for `channel_name`, best effort (undefined when unknown). */
  readonly roomName?: (userId: string, roomId: string) => Promise<string | undefined>;
  /** Cap on a receiver's `Retry-After`. @defaultValue 21600000 (6 h) */
  readonly maxRetryAfterMs?: number;
  /** First delay for a job refused by a busy endpoint; doubles while it keeps being refused. @defaultValue 50 */
  readonly busyDelayMs?: number;
  /** @defaultValue 5000 */
  readonly maxBusyDelayMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
}

/** How long past the attempt timeout an in-flight slot is held by a worker that vanished. */
const HOLD_MARGIN_MS = 5000;

export class DeliveryProcessor {
  readonly #o: DeliveryProcessorOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #maxRetryAfterMs: number;
  /** Sealed secret(s) -> opened secrets. */
  readonly #secretCache = new Map<string, string[]>();
  /** Sealed custom headers -> opened (same reasoning as the secrets). */
  readonly #openedCache = new Map<string, unknown>();
  readonly #rocketchat: RocketChatDelivery;

  constructor(options: DeliveryProcessorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 6 * 3_600_000;
    this.#rocketchat = new RocketChatDelivery({
      store: options.store,
      ledger: options.ledger,
      siteUrl: options.siteUrl,
      clock: this.#clock,
      ...(options.replies ? { replies: options.replies } : {}),
      ...(options.roomName ? { roomName: options.roomName } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** The retry delay BullMQ asks for after a failed attempt (its `backoffStrategy`). */
  readonly backoff = (failedAttempts: number, _type?: string, err?: Error): number => {
    if (err instanceof DeliveryAttemptError) return err.retryDelayMs;
    // Anything else (Redis unreachable mid-attempt...): the plain schedule.
    const delay = retryDelayMs({
      failedAttempts,
      scheduleMs: this.#o.config.retryScheduleMs,
      maxRetryAfterMs: this.#maxRetryAfterMs,
      random: this.#random,
    });
    return Math.max(0, delay);
  };

  /** BullMQ's processor: one call, one attempt. */
  readonly process = async (job: Job<WebhookJobData>, token?: string): Promise<DeliveryJobResult> => {
    const { result, recorded } = await this.#process(job, token, undefined);
    await recorded;
    return result;
  };

  /**
   * Takes the endpoint's slot and reads its record now, for a job about to be stored: the
   * dispatcher sends this in the same write as the job itself (direct-attempts.ts), then passes it
   * to `processBegun`. Give it back with `abandon` if the job is not attempted after all.
   * `pendingSinceMs`: mark the job pending too (see `DeliveryLedger.begin`).
   */
  begin(data: WebhookJobData, jobId: string, pendingSinceMs?: number): EarlyBegin {
    const { config } = this.#o;
    const startedMs = this.#clock.now();
    const holdUntil = startedMs + config.timeoutMs + HOLD_MARGIN_MS;
    const result = this.#o.ledger.begin(
      data.userId,
      data.webhookId,
      jobId,
      startedMs,
      holdUntil,
      config.concurrencyPerEndpoint,
      pendingSinceMs,
    );
    // Awaited by `processBegun` or `abandon`; never left to reject unheard.
    result.catch(() => undefined);
    return { startedMs, result };
  }

  /**
   * `process` for a job whose `begin` was sent ahead. A success resolves before the ledger has
   * answered (`AttemptOutcome.recorded`); the job must not be moved on before that settles, or
   * is sent behind it on the same connection.
   */
  processBegun(job: Job<WebhookJobData>, token: string, early: EarlyBegin): Promise<AttemptOutcome> {
    return this.#process(job, token, early);
  }

  /** Gives back the slot an early `begin` took, for a job that will not be attempted. */
  async abandon(data: WebhookJobData, jobId: string, early: EarlyBegin): Promise<void> {
    const begin = await early.result.catch(() => undefined);
    if (begin?.kind === 'go') await this.#o.ledger.release(data.userId, data.webhookId, jobId);
  }

  async #process(
    job: Job<WebhookJobData>,
    token: string | undefined,
    early: EarlyBegin | undefined,
  ): Promise<AttemptOutcome> {
    const { ledger, gate, client, signer, config } = this.#o;
    const { userId, webhookId, eventId, payload } = job.data;
    const jobId = job.id!;
    if (token === undefined) throw new Error('delivery job without a lock token');

    let isValid: boolean;
    try {
      isValid = await gate.isValid(userId);
    } catch (err) {
      if (early) await this.abandon(job.data, jobId, early).catch(() => undefined);
      throw err;
    }
    if (!isValid) {
      if (early) await this.abandon(job.data, jobId, early);
      await gate.park(job, token);
      throw new DelayedError();
    }
    const { startedMs, result: beginning } = early ?? this.begin(job.data, jobId);
    const begin = await beginning;
    switch (begin.kind) {
      case 'missing':
        return { result: 'dropped', recorded: RECORDED };
      case 'disabled':
        return { result: await this.#refuseDisabled(job, begin.reason), recorded: RECORDED };
      case 'busy':
        await job.moveToDelayed(startedMs + this.#busyDelay(job), token);
        throw new DelayedError();
      case 'go':
        break;
    }

    let result: DeliveryResult;
    let facts: MessageFacts | undefined;
    try {
      const secrets = this.#openSecrets(job.data, begin, startedMs);
      let body = payload;
      if (begin.format === 'rocketchat') {
        facts = messageFactsOf(payload);
        const rendered = await this.#rocketchat.render(job.data, begin.sealedToken, facts);
        if (rendered === undefined) {
          // Rocket.Chat's outgoing integrations have no such event: nothing to send.
          await ledger.release(userId, webhookId, jobId);
          await ledger.settlePending(userId, webhookId, jobId);
          return { result: 'dropped', recorded: RECORDED };
        }
        body = rendered;
      }
      const custom = this.#openHeaders(job.data, begin.sealedHeaders);
      // Signature headers last: a custom header can never replace them (custom-headers.ts refuses them anyway).
      const headers = { ...custom, ...signer.headers(eventId, new Date(this.#clock.now()), body, secrets) };
      result = await client.post(begin.url, body, headers, config.timeoutMs, {
        readBody: begin.format === 'rocketchat',
      });
    } catch (err) {
      await ledger.release(userId, webhookId, jobId).catch(() => undefined);
      throw err;
    }
    return this.#settle(job, result, startedMs, begin.format === 'rocketchat' ? { facts } : undefined);
  }

  #openHeaders(data: WebhookJobData, sealed: string): CustomHeaders {
    if (sealed === '') return {};
    return this.#opened(sealed, () => this.#o.store.openHeaders(data.userId, data.webhookId, sealed));
  }

  #opened<T>(sealed: string, open: () => T): T {
    if (this.#openedCache.has(sealed)) return this.#openedCache.get(sealed) as T;
    const value = open();
    if (this.#openedCache.size >= 1000) this.#openedCache.clear();
    this.#openedCache.set(sealed, value);
    return value;
  }

  async #settle(
    job: Job<WebhookJobData>,
    result: DeliveryResult,
    startedMs: number,
    rocketchat?: { readonly facts: MessageFacts | undefined },
  ): Promise<AttemptOutcome> {
    const { ledger, config, metrics } = this.#o;
    const { userId, webhookId, eventId, eventType, eventTimeMs, payload } = job.data;
    const attemptNo = job.attemptsMade + 1;
    const isLast = attemptNo >= (job.opts.attempts ?? 1);
    const nowMs = this.#clock.now();

    let kind: FinishKind;
    let outcome: WebhookDeliveryOutcome;
    let error: string | null = null;
    let statusCode: number | null = null;
    let retryAfterMs: number | undefined;
    if (result.kind === 'response') {
      statusCode = result.statusCode;
      if (statusCode >= 200 && statusCode < 300) {
        kind = 'ok';
        outcome = 'success';
      } else {
        outcome = 'http_error';
        error = `HTTP ${statusCode}`;
        kind = statusCode === 410 ? 'gone' : isLast ? 'final' : 'retry';
        if (honoursRetryAfter(statusCode)) retryAfterMs = result.retryAfterMs;
      }
    } else {
      outcome = result.kind;
      error = result.error;
      // The guard's refusal is policy, not weather: retrying cannot change it.
      kind = result.kind === 'blocked' || isLast ? 'final' : 'retry';
    }
    const delay =
      kind === 'retry'
        ? Math.max(
            0,
            retryDelayMs({
              failedAttempts: attemptNo,
              scheduleMs: config.retryScheduleMs,
              retryAfterMs,
              maxRetryAfterMs: this.#maxRetryAfterMs,
              random: this.#random,
            }),
          )
        : undefined;

    const replyOutcome =
      kind === 'ok' && rocketchat && result.kind === 'response'
        ? await this.#rocketchat.postReply(job, result, rocketchat.facts)
        : {};
    const attempt: AttemptRecord = {
      ...replyOutcome,
      eventId,
      eventType,
      attempt: attemptNo,
      atMs: startedMs,
      statusCode,
      durationMs: result.durationMs,
      outcome,
      error,
      nextAttemptAtMs: delay === undefined ? null : nowMs + delay,
    };
    const finishing = ledger.finish(userId, webhookId, {
      jobId: job.id!,
      attempt,
      kind,
      ...(kind === 'final' || kind === 'gone'
        ? {
            deadLetter: {
              eventId,
              eventType,
              eventTimeMs,
              payload,
              failedAtMs: nowMs,
              error: error ?? 'failed',
            },
          }
        : {}),
      disableAfterFailures: config.disableAfterFailures,
      nowMs,
    });
    metrics.webhookDeliveryDuration.observe(result.durationMs / 1000);
    if (kind === 'ok') {
      // A success disables nothing: nothing below needs the ledger's answer. Counted once it is
      // recorded, as before: a failed entry fails the attempt (BullMQ's path) and its retry counts.
      const recorded = finishing.then(() => {
        metrics.webhookDeliveries[outcome].inc();
        metrics.eventLag.webhook.observe(Math.max(0, nowMs - eventTimeMs) / 1000);
      });
      return { result: 'delivered', recorded };
    }
    const finished = await finishing;
    metrics.webhookDeliveries[outcome].inc();
    if (finished.disabledNow)
      await this.#announceDisabled(job, finished.disabledNow, finished.consecutiveFailures, error);

    const log = this.#o.logger?.child({ userId, webhookId, jobId: job.id });
    if (kind === 'retry') {
      log?.debug({ attempt: attemptNo, error, delayMs: delay }, 'webhook delivery failed, will retry');
      throw new DeliveryAttemptError(error ?? 'delivery failed', delay!);
    }
    log?.warn({ attempt: attemptNo, error }, 'webhook delivery failed for good: kept as a dead letter');
    throw new UnrecoverableError(error ?? 'delivery failed');
  }

  /** A job reached a disabled endpoint: auto-disabled ones keep it as a dead letter, manual ones drop it. */
  async #refuseDisabled(job: Job<WebhookJobData>, reason: DisabledReason): Promise<DeliveryJobResult> {
    const { userId, webhookId, eventId, eventType, eventTimeMs, payload } = job.data;
    await this.#o.ledger.settlePending(userId, webhookId, job.id!);
    if (reason === 'manual') return 'dropped';
    await this.#o.ledger.addDeadLetters(userId, webhookId, [
      { eventId, eventType, eventTimeMs, payload, failedAtMs: this.#clock.now(), error: 'endpoint disabled' },
    ]);
    this.#o.metrics.webhookDeliveries.blocked.inc();
    return 'dead-lettered';
  }

  async #announceDisabled(
    job: Job<WebhookJobData>,
    reason: DisabledReason,
    consecutiveFailures: number,
    lastError: string | null,
  ): Promise<void> {
    const { userId, webhookId } = job.data;
    const nowMs = this.#clock.now();
    this.#o.logger?.warn({ userId, webhookId, reason, consecutiveFailures }, 'webhook endpoint disabled');
    try {
      await this.#o.eventLog.append({
        type: 'webhook.disabled',
        userId,
        ts: new Date(nowMs).toISOString(),
        data: {
          webhookId,
          reason,
          consecutiveFailures,
          lastError,
          disabledAt: new Date(nowMs).toISOString(),
        },
      });
    } catch (err) {
      this.#o.logger?.error({ err, userId, webhookId }, 'could not log webhook.disabled');
    }
  }

  /**
   * The signing secrets, opened once per sealed value (AES-GCM per attempt is wasted work: the
   * sealed values change only on rotation, and a new value is a new cache key).
   */
  #openSecrets(
    data: WebhookJobData,
    begin: Extract<DeliveryBeginResult, { kind: 'go' }>,
    nowMs: number,
  ): string[] {
    const previousActive =
      begin.sealedPreviousSecret !== undefined &&
      begin.previousSecretUntilMs !== undefined &&
      nowMs < begin.previousSecretUntilMs;
    const key = previousActive ? `${begin.sealedSecret} ${begin.sealedPreviousSecret}` : begin.sealedSecret;
    let secrets = this.#secretCache.get(key);
    if (!secrets) {
      secrets = this.#o.store.openSecrets(
        data.userId,
        data.webhookId,
        begin.sealedSecret,
        begin.sealedPreviousSecret,
        begin.previousSecretUntilMs,
        nowMs,
      );
      if (this.#secretCache.size >= 1000) this.#secretCache.clear();
      this.#secretCache.set(key, secrets);
    }
    return secrets;
  }

  /** 50 ms, doubling while the job keeps finding the endpoint busy (up to 5 s), +-50 % jitter. */
  #busyDelay(job: Job<WebhookJobData>): number {
    const base = this.#o.busyDelayMs ?? 50;
    const max = this.#o.maxBusyDelayMs ?? 5000;
    const refusals = Math.max(0, (job.attemptsStarted ?? 1) - job.attemptsMade - 1);
    const delay = Math.min(max, base * 2 ** Math.min(refusals, 10));
    return Math.round(delay * (0.5 + this.#random()));
  }
}
