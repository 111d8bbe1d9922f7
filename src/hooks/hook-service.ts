/**
 * What incoming hooks do, apart from HTTP: the owner's registry (create, list, read, change,
 * delete, rotate the URL token, recent posts) and, for the public endpoint, checking a hook URL
 * and handing its post to the outbound queue as the owner.
 */
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { createError, type GatewayError } from '../errors.js';
import { type CursorPosition, encodeCursor, pageOf } from '../http/page-cursor.js';
import type { AcceptResult, OutboundQueue } from '../outbound/outbound-queue.js';
import type { OutboundJobView, OutboundRequest } from '../outbound/types.js';
import { mapUpstreamError } from '../rocketchat/errors.js';
import type { CallRouter } from '../sessions/call-router.js';
import { ChannelResolver } from './channel-resolver.js';
import type { HookPatch, HookRecord, HookRequestEntry, HookStore, NewHook } from './hook-store.js';
import {
  HOOK_ID_PATTERN,
  HOOK_TOKEN_PATTERN,
  hashHookToken,
  isTokenValid,
  newHookId,
  newHookToken,
} from './hook-token.js';
import type { IncomingMessage } from './incoming-payload.js';

/** A hook as the API shows it: never its token or signing secret. */
export interface HookView {
  readonly id: string;
  readonly roomId: string;
  readonly alias?: string;
  readonly emoji?: string;
  readonly avatar?: string;
  readonly description: string;
  readonly enabled: boolean;
  /** Posts must carry a Standard Webhooks signature. */
  readonly signed: boolean;
  /** Posts may name another room in `channel` (chosen at creation). */
  readonly allowChannelOverride: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly tokenRotatedAt?: string;
}

/** One recent post, with the outcome of its message when it was accepted. */
export interface HookRequestView {
  readonly at: string;
  readonly status: number;
  readonly jobId?: string;
  readonly messageId?: string;
  readonly roomId?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** The message's outcome (`queued`, `sent`, `failed`), while the outbound job is kept. */
  readonly outcome?: Pick<OutboundJobView, 'status' | 'error'>;
}

export interface HookServiceOptions {
  readonly store: HookStore;
  readonly outbound: Pick<OutboundQueue, 'accept' | 'get'>;
  /** Asks Rocket.Chat, as the owner, about rooms (hook creation, `channel` overrides). */
  readonly calls: Pick<CallRouter, 'call'>;
  /** `config.http.publicUrl`: hook URLs are `<publicUrl>/hooks/<id>/<token>`. */
  readonly publicUrl: string;
  /** @defaultValue 100 */
  readonly maxHooksPerUser?: number;
  /** One Rocket.Chat call (room checks). @defaultValue 10000 */
  readonly callTimeoutMs?: number;
  readonly clock?: Clock;
}

export class HookService {
  readonly #store: HookStore;
  readonly #outbound: Pick<OutboundQueue, 'accept' | 'get'>;
  readonly #calls: Pick<CallRouter, 'call'>;
  readonly #channels: ChannelResolver;
  readonly #baseUrl: string;
  readonly #maxHooks: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(options: HookServiceOptions) {
    this.#store = options.store;
    this.#outbound = options.outbound;
    this.#calls = options.calls;
    this.#timeoutMs = options.callTimeoutMs ?? 10_000;
    this.#channels = new ChannelResolver({ calls: options.calls, callTimeoutMs: this.#timeoutMs });
    this.#baseUrl = options.publicUrl.replace(/\/+$/, '');
    this.#maxHooks = options.maxHooksPerUser ?? 100;
    this.#clock = options.clock ?? systemClock;
  }

  // --- the owner's registry ------------------------------------------------------------------

  /** A new hook; its URL (with the token) is returned only here and by `rotateToken`. */
  async create(userId: string, input: NewHook): Promise<{ hook: HookView; url: string }> {
    const id = newHookId();
    // The place is taken before Rocket.Chat is asked (which takes a while), so concurrent
    // creations each count the others.
    if (!(await this.#store.reserve(userId, id, this.#maxHooks))) {
      throw createError('GW_ERR_CONFLICT', `A user may have at most ${this.#maxHooks} hooks`);
    }
    const token = newHookToken();
    try {
      await this.#checkRoom(userId, input.roomId);
      await this.#store.create(id, userId, input, hashHookToken(token), this.#clock.now());
    } catch (err) {
      await this.#store.release(userId, id);
      throw err;
    }
    return { hook: await this.get(userId, id), url: this.#urlOf(id, token) };
  }

  /** The user's hooks, oldest first; a page after the cursor position `(createdAtMs, id)`. */
  async list(
    userId: string,
    page: { readonly limit: number; readonly after: CursorPosition | undefined } = {
      limit: 100,
      after: undefined,
    },
  ): Promise<{ items: HookView[]; nextCursor: string | null }> {
    const records = await this.#store.list(userId);
    const { items, nextCursor } = pageOf(
      records,
      'hooks',
      (r) => [r.createdAtMs, r.id],
      page.after,
      page.limit,
    );
    return { items: items.map(viewOf), nextCursor };
  }

  async get(userId: string, id: string): Promise<HookView> {
    return viewOf(await this.#owned(userId, id));
  }

  async update(userId: string, id: string, patch: HookPatch): Promise<HookView> {
    await this.#owned(userId, id);
    if (patch.roomId !== undefined) await this.#checkRoom(userId, patch.roomId);
    if (!(await this.#store.update(userId, id, patch, this.#clock.now()))) throw noSuchHook();
    return this.get(userId, id);
  }

  async remove(userId: string, id: string): Promise<void> {
    if (!HOOK_ID_PATTERN.test(id) || !(await this.#store.remove(userId, id))) throw noSuchHook();
  }

  /** A new URL token; the old URL stops working at once. */
  async rotateToken(userId: string, id: string): Promise<{ url: string }> {
    await this.#owned(userId, id);
    const token = newHookToken();
    if (!(await this.#store.update(userId, id, {}, this.#clock.now(), hashHookToken(token))))
      throw noSuchHook();
    return { url: this.#urlOf(id, token) };
  }

  /** Recent posts, newest first; a page older than request number `beforeSeq` when given. */
  async requests(
    userId: string,
    id: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<{ items: HookRequestView[]; nextCursor: string | null }> {
    const hook = await this.#owned(userId, id);
    const { entries, nextSeq } = await this.#store.requests(id, limit, beforeSeq);
    return {
      items: await Promise.all(entries.map((entry) => this.#requestView(hook.userId, entry))),
      nextCursor: nextSeq === undefined ? null : encodeCursor('hook-requests', [nextSeq]),
    };
  }

  // --- the public endpoint -------------------------------------------------------------------

  /**
   * The hook that `id` and `token` name. Unknown ids, malformed ones and wrong tokens all fail
   * with the same `GW_ERR_NOT_FOUND`, after the same work (one Redis read, one hash compared in
   * constant time), so the answer tells nothing about which ids exist.
   */
  async authorize(id: string, token: string): Promise<HookRecord> {
    const isWellFormed = HOOK_ID_PATTERN.test(id) && HOOK_TOKEN_PATTERN.test(token);
    const hook = isWellFormed ? await this.#store.get(id) : undefined;
    if (!isTokenValid(token, hook?.tokenHash) || !hook) throw noSuchHook();
    return hook;
  }

  /** Queues `message` as the hook's owner; a repeat with the same `idempotencyKey` returns the first job. */
  async deliver(hook: HookRecord, message: IncomingMessage, idempotencyKey?: string): Promise<AcceptResult> {
    const roomId = await this.#roomOf(hook, message.channel);
    const alias = message.alias ?? hook.alias;
    const emoji = message.emoji ?? hook.emoji;
    const request: OutboundRequest = {
      kind: 'send',
      roomId,
      send: {
        text: message.text,
        ...(message.threadId === undefined ? {} : { threadId: message.threadId }),
        ...(alias === undefined ? {} : { alias }),
        ...(emoji === undefined ? {} : { emoji }),
        ...(message.attachments === undefined ? {} : { attachments: message.attachments }),
      },
    };
    // Keys are per hook: two hooks of one owner never share a key space.
    const key = idempotencyKey === undefined ? undefined : `hook:${hook.id}:${idempotencyKey}`;
    return this.#outbound.accept(hook.userId, request, key);
  }

  /** Adds a post to the hook's recent requests. */
  record(hookId: string, entry: HookRequestEntry): Promise<void> {
    return this.#store.recordRequest(hookId, entry);
  }

  now(): number {
    return this.#clock.now();
  }

  // --- helpers -------------------------------------------------------------------------------

  /**
   * Where a post goes. Whoever holds a hook URL speaks as its owner, so by default the URL reaches
   * the hook's room only: a `channel` naming another room (or any `@user`, which would open a
   * direct message) is refused unless the owner allowed overrides when creating the hook.
   */
  async #roomOf(hook: HookRecord, channel: string | undefined): Promise<string> {
    if (channel === undefined || channel === hook.roomId) return hook.roomId;
    if (!hook.isChannelOverrideAllowed) {
      // `#name` of the hook's own room is fine (Slack-style senders always send a channel).
      const isSameRoom =
        !channel.startsWith('@') &&
        (await this.#channels.resolve(hook.userId, channel).catch(() => undefined)) === hook.roomId;
      if (!isSameRoom) throw channelRefused();
      return hook.roomId;
    }
    return this.#channels.resolve(hook.userId, channel);
  }

  async #owned(userId: string, id: string): Promise<HookRecord> {
    const hook = HOOK_ID_PATTERN.test(id) ? await this.#store.getOwned(userId, id) : undefined;
    if (!hook) throw noSuchHook();
    return hook;
  }

  /** Rocket.Chat says whether the owner can see the room (403/404 otherwise). */
  async #checkRoom(userId: string, roomId: string): Promise<void> {
    try {
      await this.#calls.call(userId, 'getRoomById', [roomId], this.#timeoutMs);
    } catch (err) {
      const error = mapUpstreamError(err);
      throw error.code === 'GW_ERR_NOT_FOUND' || error.code === 'GW_ERR_FORBIDDEN'
        ? withField(error, 'roomId')
        : error;
    }
  }

  async #requestView(userId: string, entry: HookRequestEntry): Promise<HookRequestView> {
    const job = entry.jobId === undefined ? undefined : await this.#outbound.get(userId, entry.jobId);
    return {
      at: new Date(entry.atMs).toISOString(),
      status: entry.status,
      ...(entry.jobId === undefined ? {} : { jobId: entry.jobId }),
      ...(entry.messageId === undefined ? {} : { messageId: entry.messageId }),
      ...(entry.roomId === undefined ? {} : { roomId: entry.roomId }),
      ...(entry.error === undefined ? {} : { error: entry.error }),
      ...(job === undefined
        ? {}
        : { outcome: { status: job.status, ...(job.error === undefined ? {} : { error: job.error }) } }),
    };
  }

  #urlOf(id: string, token: string): string {
    return `${this.#baseUrl}/hooks/${id}/${token}`;
  }
}

function viewOf(hook: HookRecord): HookView {
  return {
    id: hook.id,
    roomId: hook.roomId,
    ...(hook.alias === undefined ? {} : { alias: hook.alias }),
    ...(hook.emoji === undefined ? {} : { emoji: hook.emoji }),
    ...(hook.avatar === undefined ? {} : { avatar: hook.avatar }),
    description: hook.description,
    enabled: hook.isEnabled,
    signed: hook.signingSecret !== undefined,
    allowChannelOverride: hook.isChannelOverrideAllowed,
    createdAt: new Date(hook.createdAtMs).toISOString(),
    updatedAt: new Date(hook.updatedAtMs).toISOString(),
    ...(hook.tokenRotatedAtMs === undefined
      ? {}
      : { tokenRotatedAt: new Date(hook.tokenRotatedAtMs).toISOString() }),
  };
}

function channelRefused(): GatewayError {
  return createError(
    'GW_ERR_FORBIDDEN',
    'This hook posts only to its own room: drop `channel`, or create a hook with allowChannelOverride: true',
  );
}

function noSuchHook(): GatewayError {
  return createError('GW_ERR_NOT_FOUND', 'No such hook');
}

function withField(error: GatewayError, field: string): GatewayError {
  return createError(error.code, `${field}: ${error.message}`, {
    cause: error,
    details: { ...error.details, fields: [{ field, message: error.message }] },
  });
}
