/**
 * What one outbound job sends to Rocket.Chat and what its answer means.
 *
 * The outbox (outbox.ts) puts most jobs on the user's DDP connection itself, several in flight,
 * in order: `callFor` says what to call, `settle` reads the answer. A few jobs cannot be
 * pipelined and run whole through `run`: a send with alias, emoji or attachments (REST, another
 * connection, so no order with the DDP ones), and a job that an earlier owner may already have
 * sent (it is looked up first).
 *
 * The hard part is `sendMessage` (docs/simulator-protocol.md §4): with an `_id` that already
 * exists it inserts nothing and returns no result, and it swallows most errors the same way,
 * telling the user only through an ephemeral `<uid>/message`. So a send whose outcome is unknown
 * (no result, the line dropped mid-call, a timeout, a worker killed mid-attempt) is settled by
 * looking the `_id` up upstream and by looking for an ephemeral refusal in the user's event log,
 * never by sending blindly again. Sending again is still safe (the `_id` is fixed), but only
 * the lookup can tell "sent" from "refused".
 */
import { type Clock, delay, systemClock } from '../clock.js';
import { createError, type GatewayError } from '../errors.js';
import type { EventLog } from '../events/event-log.js';
import {
  isPermanentError,
  isUnknownOutcome,
  mapEphemeralRefusal,
  mapUpstreamError,
} from '../rocketchat/errors.js';
import type { RocketChatRestClient } from '../rocketchat/rest-client.js';
import type { CredentialStore } from '../sessions/credential-store.js';
import type { OutboundJobData } from './types.js';
import { explainUnavailable } from './unavailable.js';

/** What one attempt came to. */
export type AttemptResult =
  | { readonly kind: 'sent'; readonly message?: Readonly<Record<string, unknown>> }
  | { readonly kind: 'failed'; readonly error: GatewayError }
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number; readonly error: GatewayError }
  /** Worth another attempt; `isSilent` when Rocket.Chat left no trace at all (no result, message, or ephemeral). */
  | { readonly kind: 'retry'; readonly error: GatewayError; readonly isSilent?: boolean };

/** A DDP method call on the user's session. */
export type SessionCall = (method: string, params: readonly unknown[]) => Promise<unknown>;

export type CallOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

export interface DdpCallSpec {
  readonly method: string;
  readonly params: readonly unknown[];
}

export interface JobRunnerOptions {
  readonly credentials: CredentialStore;
  readonly rest: RocketChatRestClient;
  readonly eventLog: EventLog;
  /**
   * After a send answered without a result: how long to look for the message or an ephemeral
   * refusal before calling the attempt silent. @defaultValue 3000
   */
  readonly unknownOutcomeWaitMs?: number;
  readonly clock?: Clock;
}

export class JobRunner {
  readonly #options: JobRunnerOptions;
  readonly #clock: Clock;
  readonly #waitMs: number;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#waitMs = options.unknownOutcomeWaitMs ?? 3000;
  }

  /** The DDP call that carries `job`, or undefined when it goes through REST (see `run`). */
  callFor(job: OutboundJobData): DdpCallSpec | undefined {
    switch (job.kind) {
      case 'send': {
        const { send } = job;
        // DDP sendMessage's check() refuses alias/emoji/attachments ("Match failed").
        if (send.alias !== undefined || send.emoji !== undefined || send.attachments !== undefined)
          return undefined;
        const message: Record<string, unknown> = { _id: job.messageId, rid: job.roomId, msg: send.text };
        if (send.threadId !== undefined) message.tmid = send.threadId;
        return { method: 'sendMessage', params: [message] };
      }
      case 'edit':
        return { method: 'updateMessage', params: [{ _id: job.messageId, rid: job.roomId, msg: job.text }] };
      case 'delete':
        return { method: 'deleteMessage', params: [{ _id: job.messageId }] };
      case 'reaction':
        // shouldReact is always explicit: a toggle repeated by a retry would undo itself.
        return { method: 'setReaction', params: [job.emoji, job.messageId, job.shouldReact] };
    }
  }

  /**
   * What the answer to `callFor(job)` means. `logMarkMs` is Redis time from before the call:
   * an ephemeral refusal of this send is logged after it. `mayHaveRunBefore`: an earlier
   * attempt may have reached Rocket.Chat (a deletion that finds nothing then succeeded).
   */
  async settle(
    job: OutboundJobData,
    outcome: CallOutcome,
    logMarkMs: number,
    mayHaveRunBefore = false,
  ): Promise<AttemptResult> {
    const mark = `${logMarkMs}-0`;
    if (job.kind === 'send') {
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
    if (outcome.ok) {
      if (job.kind !== 'edit') return { kind: 'sent' };
      // updateMessage is void even for a message that does not exist: check it does.
      const found = await this.#lookup(job).catch(() => null);
      if (found === null) return { kind: 'retry', error: createError('GW_ERR_UPSTREAM') };
      return found === undefined ? { kind: 'failed', error: missing() } : { kind: 'sent' };
    }
    return this.#onError(job, outcome.error, async () => {
      // A deletion repeated after an unrecorded success finds nothing to delete: that is done.
      if (job.kind !== 'delete' || !mayHaveRunBefore) return undefined;
      const found = await this.#lookup(job).catch(() => null);
      return found === undefined ? { kind: 'sent' } : undefined;
    });
  }

  /**
   * Runs `job` whole: a send that an earlier attempt may have made is looked up before anything
   * is sent, and a rich send goes through REST. `logMarkMs` as for `settle`.
   */
  async run(
    job: OutboundJobData,
    call: SessionCall,
    mayHaveRunBefore: boolean,
    logMarkMs: number,
  ): Promise<AttemptResult> {
    if (job.kind === 'send' && mayHaveRunBefore) {
      const found = await this.#lookup(job).catch(() => undefined);
      if (found) return { kind: 'sent', message: found };
    }
    const spec = this.callFor(job);
    const outcome = spec
      ? await outcomeOf(() => call(spec.method, spec.params))
      : await outcomeOf(() => this.#restSend(job));
    return this.settle(job, outcome, logMarkMs, mayHaveRunBefore);
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
    if (isUnknownOutcome(raw) || isPermanentError(error)) {
      const settled = await settle();
      if (settled) return settled;
    }
    const explained = await explainUnavailable(error, this.#options.credentials, job.userId);
    return isPermanentError(explained)
      ? { kind: 'failed', error: explained }
      : { kind: 'retry', error: explained };
  }

  /** After a void sendMessage: the message exists (sent), an ephemeral refused it (failed), or neither yet. */
  async #settleUnknown(job: OutboundJobData, mark: string): Promise<AttemptResult> {
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
  async #ephemeralAfter(job: OutboundJobData, mark: string): Promise<string | undefined> {
    let after = mark;
    for (let page = 0; page < 10; page++) {
      const { events } = await this.#options.eventLog.readAfter(job.userId, after, 200);
      for (const event of events) {
        if (event.type !== 'message.ephemeral') continue;
        const parsed = JSON.parse(event.json) as { roomId?: string; data?: { msg?: unknown } };
        if (parsed.roomId === job.roomId) return typeof parsed.data?.msg === 'string' ? parsed.data.msg : '';
      }
      if (events.length < 200) return undefined;
      after = events.at(-1)?.id ?? after;
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

  // REST chat.sendMessage takes alias/emoji/attachments and keeps the client `_id` (a duplicate
  // is a 400, settled by lookup).
  async #restSend(job: OutboundJobData): Promise<unknown> {
    if (job.kind !== 'send') throw new TypeError('only sends go through REST');
    const message: Record<string, unknown> = { _id: job.messageId, rid: job.roomId, msg: job.send.text };
    if (job.send.threadId !== undefined) message.tmid = job.send.threadId;
    // Passed through as asked: a Rocket.Chat whose `check()` does not know them refuses the
    // send with 400 "Match failed", which fails the job at once (nothing is dropped silently).
    if (job.send.alias !== undefined) message.alias = job.send.alias;
    if (job.send.emoji !== undefined) message.emoji = job.send.emoji;
    if (job.send.attachments !== undefined) message.attachments = job.send.attachments;
    const credential = await this.#options.credentials.load(job.userId);
    if (credential?.status !== 'valid') throw createError('GW_ERR_NO_CREDENTIALS');
    return this.#options.rest.sendMessage({ userId: job.userId, token: credential.token.reveal() }, message);
  }
}

/** Runs `fn`, turning its result or failure into a value. */
export async function outcomeOf(fn: () => Promise<unknown>): Promise<CallOutcome> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function missing(): GatewayError {
  return createError('GW_ERR_NOT_FOUND', 'the message does not exist (or is not visible to this user)');
}
