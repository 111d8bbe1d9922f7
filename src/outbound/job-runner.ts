/**
 * One attempt of one outbound job against Rocket.Chat, over the user's pooled session.
 *
 * The hard part is `sendMessage` (docs/simulator-protocol.md §4): with an `_id` that already exists it
 * inserts nothing and returns no result, and it swallows most errors the same way, telling the
 * user only through an ephemeral `<uid>/message`. So a send whose outcome is unknown (no
 * result, the line dropped mid-call, a timeout, a worker killed mid-attempt) is settled by
 * looking the `_id` up upstream and by looking for an ephemeral refusal in the user's event log,
 * never by sending blindly again. Sending again is still safe (the `_id` is fixed), but only
 * the lookup can tell "sent" from "refused".
 */
import { type Clock, delay, systemClock } from '../clock.js';
import { DdpDisconnectedError, DdpTimeoutError } from '../ddp/index.js';
import { createError, type GatewayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import { isPermanentError, mapEphemeralRefusal, mapUpstreamError } from '../rocketchat/errors.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CallRouter } from '../sessions/call-router.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import { callWithDeadline } from './call-deadline.js';
import type { OutboundJobData } from './types.js';
import { explainUnavailable } from './unavailable.js';

/** What one attempt came to. */
export type AttemptResult =
  | { readonly kind: 'sent'; readonly message?: Readonly<Record<string, unknown>> }
  | { readonly kind: 'failed'; readonly error: GatewayError }
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number; readonly error: GatewayError }
  /** Worth another attempt; `isSilent` when Rocket.Chat left no trace at all (no result, message, or ephemeral). */
  | { readonly kind: 'retry'; readonly error: GatewayError; readonly isSilent?: boolean };

export interface JobRunnerOptions {
  readonly calls: Pick<CallRouter, 'call'>;
  readonly credentials: CredentialStore;
  readonly rest: RocketChatRestClient;
  readonly eventLog: EventLog;
  /** One DDP call, forwarding included. @defaultValue 15000 */
  readonly callTimeoutMs?: number;
  /**
   * After a send answered without a result: how long to look for the message or an ephemeral
   * refusal before calling the attempt silent. @defaultValue 3000
   */
  readonly unknownOutcomeWaitMs?: number;
  readonly clock?: Clock;
}

type CallOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #clock: Clock;
  readonly #callTimeoutMs: number;
  readonly #waitMs: number;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#callTimeoutMs = options.callTimeoutMs ?? 15_000;
    this.#waitMs = options.unknownOutcomeWaitMs ?? 3000;
  }

  /**
   * Runs `job` once. `mayHaveRunBefore` says an earlier attempt may have reached Rocket.Chat
   * (its outcome was never recorded): a send is then looked up before anything is sent.
   * `logMark` is an event log id from before this attempt (see OutboundLanes.begin): an
   * ephemeral refusal of this send is logged after it.
   */
  async run(job: OutboundJobData, mayHaveRunBefore: boolean, logMark?: string): Promise<AttemptResult> {
    switch (job.kind) {
      case 'send':
        return this.#send(job, mayHaveRunBefore, logMark);
      case 'edit':
        return this.#simple(
          job,
          'updateMessage',
          [{ _id: job.messageId, rid: job.roomId, msg: job.text }],
          async () => {
            // updateMessage is void even for a message that does not exist: check it does.
            const found = await this.#lookup(job);
            return found === undefined ? { kind: 'failed', error: missing() } : { kind: 'sent' };
          },
        );
      case 'delete':
        return this.#simple(job, 'deleteMessage', [{ _id: job.messageId }], undefined, mayHaveRunBefore);
      case 'reaction':
        // shouldReact is always explicit: a toggle repeated by a retry would undo itself.
        return this.#simple(job, 'setReaction', [job.emoji, job.messageId, job.shouldReact]);
    }
  }

  async #send(
    job: OutboundJobData & { kind: 'send' },
    mayHaveRunBefore: boolean,
    logMark: string | undefined,
  ): Promise<AttemptResult> {
    if (mayHaveRunBefore) {
      const found = await this.#lookup(job).catch(() => undefined);
      if (found) return { kind: 'sent', message: found };
    }
    const message: Record<string, unknown> = { _id: job.messageId, rid: job.roomId, msg: job.send.text };
    if (job.send.threadId !== undefined) message.tmid = job.send.threadId;
    // Passed through as asked: a Rocket.Chat whose `check()` does not know them refuses the
    // send with 400 "Match failed", which fails the job at once (nothing is dropped silently).
    if (job.send.alias !== undefined) message.alias = job.send.alias;
    if (job.send.emoji !== undefined) message.emoji = job.send.emoji;
    if (job.send.attachments !== undefined) message.attachments = job.send.attachments;
    // Where the log stood before the call: an ephemeral refusal for this send is logged after it.
    const mark = logMark ?? (await this.#options.eventLog.lastId(job.userId).catch(() => null)) ?? undefined;
    const isRich =
      job.send.alias !== undefined || job.send.emoji !== undefined || job.send.attachments !== undefined;
    const outcome = isRich
      ? await this.#restSend(job.userId, message)
      : await this.#call(job.userId, 'sendMessage', [message]);
    if (outcome.ok) {
      const result = outcome.value as Record<string, unknown> | undefined;
      if (result && typeof result === 'object' && result._id === job.messageId)
        return { kind: 'sent', message: result };
      // No result: a duplicate `_id` (an earlier attempt got through) or a swallowed error.
      return this.#settleUnknown(job, mark);
    }
    return this.#onError(job, outcome.error, async () => {
      const found = await this.#lookup(job).catch(() => undefined);
      return found ? { kind: 'sent', message: found } : undefined;
    });
  }

  async #simple(
    job: OutboundJobData,
    method: string,
    params: readonly unknown[],
    verify?: () => Promise<AttemptResult>,
    mayHaveRunBefore = false,
  ): Promise<AttemptResult> {
    const outcome = await this.#call(job.userId, method, params);
    if (outcome.ok) return verify ? verify() : { kind: 'sent' };
    return this.#onError(job, outcome.error, async () => {
      // A deletion repeated after an unrecorded success finds nothing to delete: that is done.
      if (job.kind !== 'delete' || !mayHaveRunBefore) return undefined;
      const found = await this.#lookup(job).catch(() => null);
      return found === undefined ? { kind: 'sent' } : undefined;
    });
  }

  async #onError(
    job: OutboundJobData,
    raw: unknown,
    settle: () => Promise<AttemptResult | undefined>,
  ): Promise<AttemptResult> {
    const error = mapUpstreamError(raw);
    if (error.code === 'GW_ERR_RATE_LIMITED') {
      return { kind: 'rate-limited', retryAfterMs: error.retryAfterMs ?? 1000, error };
    }
    const isUnknownOutcome =
      (raw instanceof DdpDisconnectedError && raw.mayHaveRun) ||
      raw instanceof DdpTimeoutError ||
      error.code === 'GW_ERR_FORWARD_TIMEOUT';
    if (isUnknownOutcome || isPermanentError(error)) {
      const settled = await settle();
      if (settled) return settled;
    }
    const explained = await explainUnavailable(error, this.#options.credentials, job.userId);
    return isPermanentError(explained)
      ? { kind: 'failed', error: explained }
      : { kind: 'retry', error: explained };
  }

  /** After a void sendMessage: the message exists (sent), an ephemeral refused it (failed), or neither yet. */
  async #settleUnknown(job: OutboundJobData, mark: string | undefined): Promise<AttemptResult> {
    const deadline = this.#clock.now() + this.#waitMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 400)) {
      const refusal = await this.#ephemeralAfter(job, mark).catch(() => undefined);
      if (refusal !== undefined) return { kind: 'failed', error: mapEphemeralRefusal(refusal) };
      const found = await this.#lookup(job).catch(() => undefined);
      if (found) return { kind: 'sent', message: found };
      if (this.#clock.now() >= deadline) break;
      await delay(this.#clock, pause);
    }
    return {
      kind: 'retry',
      isSilent: true,
      error: createError('GW_ERR_UPSTREAM', 'Rocket.Chat neither stored the message nor said why'),
    };
  }

  /** The text of the first ephemeral message for the job's room logged after `mark`. */
  async #ephemeralAfter(job: OutboundJobData, mark: string | undefined): Promise<string | undefined> {
    let after = mark;
    for (let page = 0; page < 10; page++) {
      const { events } = await this.#options.eventLog.readAfter(job.userId, after, 200);
      for (const event of events) {
        if (event.type !== 'message.ephemeral') continue;
        const parsed = JSON.parse(event.json) as { roomId?: string; data?: { msg?: unknown } };
        if (parsed.roomId === job.roomId) return typeof parsed.data?.msg === 'string' ? parsed.data.msg : '';
      }
      if (events.length < 200) return undefined;
      after = events.at(-1)?.id;
    }
    return undefined;
  }

  /** The message as Rocket.Chat has it, or undefined. Throws when Rocket.Chat cannot be asked. */
  async #lookup(job: OutboundJobData): Promise<Record<string, unknown> | undefined> {
    const credential = await this.#options.credentials.load(job.userId);
    if (credential?.status !== 'valid') throw createError('GW_ERR_NO_CREDENTIALS');
    return this.#options.rest.getMessage(
      { userId: job.userId, token: credential.token.reveal() },
      job.messageId,
    );
  }

  // DDP sendMessage's check() refuses alias/emoji/attachments ("Match failed"); REST
  // chat.sendMessage takes them and keeps the client `_id` (a duplicate is a 400, settled by lookup).
  async #restSend(userId: string, message: Record<string, unknown>): Promise<CallOutcome> {
    try {
      const credential = await this.#options.credentials.load(userId);
      if (credential?.status !== 'valid') throw createError('GW_ERR_NO_CREDENTIALS');
      const value = await this.#options.rest.sendMessage(
        { userId, token: credential.token.reveal() },
        message,
      );
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  }

  async #call(userId: string, method: string, params: readonly unknown[]): Promise<CallOutcome> {
    try {
      const value = await callWithDeadline(
        this.#options.calls,
        userId,
        method,
        params,
        this.#callTimeoutMs,
        this.#clock,
      );
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

function missing(): GatewayError {
  return createError('GW_ERR_NOT_FOUND', 'the message does not exist (or is not visible to this user)');
}
