/**
 * `GET /v1/events?topics=...`: the user's events as Server-Sent Events, resumable with
 * `Last-Event-ID` (header, or `lastEventId` for a first connection), live from any replica.
 */
import { type RequestHandler, Router } from 'express';
import { createError } from '../../errors.js';
import { isValidStreamId } from '../../events/stream-id.js';
import {
  createTopicMatcher,
  formatTopic,
  parseEventTypes,
  parseTopics,
  type Topic,
} from '../../events/topics.js';
import { mapUpstreamError } from '../../rocketchat/errors.js';
import type { StreamRefusal } from '../../sessions/user-session.js';
import type { SseHub } from '../../sse/sse-hub.js';
import type { HttpContext } from '../context.js';

export interface EventsRouterOptions {
  readonly ctx: HttpContext;
  readonly hub: SseHub;
  /** The authentication middleware, allowing `?access_token=` (browsers' EventSource). */
  readonly authenticate: RequestHandler;
}

/** Subscribing the topics upstream is one forwarded call; it must not hold the request for long. */
const ENSURE_TIMEOUT_MS = 15_000;

export function createEventsRouter({ ctx, hub, authenticate }: EventsRouterOptions): Router {
  const router = Router();
  router.get('/v1/events', authenticate, createEventsHandler({ ctx, hub }));
  return router;
}

/**
 * The route itself, after authentication: also run by the fast path in front of the app
 * (src/http/fast-path.ts), which is where `GET /v1/events` normally lands.
 */
export function createEventsHandler({ ctx, hub }: Pick<EventsRouterOptions, 'ctx' | 'hub'>): RequestHandler {
  return async (req, res) => {
    const principal = req.principal!;
    const topics = parseTopics(queryList(req.query.topics));
    if (topics.length === 0) {
      throw createError('GW_ERR_TOPIC_INVALID', 'topics is required, e.g. ?topics=room:GENERAL,user');
    }
    const types = req.query.types === undefined ? undefined : parseEventTypes(queryList(req.query.types));
    const lastEventId = lastEventIdOf(req.get('last-event-id'), req.query.lastEventId);

    // The status only: one HGET, no decryption of a token this route never uses.
    const credentialStatus = await ctx.credentials.status(principal.userId);
    if (!credentialStatus)
      throw createError(
        'GW_ERR_NO_CREDENTIALS',
        'no Rocket.Chat credentials registered: POST /v1/sessions first',
      );
    if (credentialStatus !== 'valid') {
      throw createError(
        'GW_ERR_CREDENTIALS_INVALID',
        'the Rocket.Chat token stopped working: POST /v1/sessions again',
      );
    }
    const reservation = await hub.reserve(principal.userId, topics, res);
    // The client hung up already: nothing was taken, nobody to answer.
    if (!reservation) return;
    try {
      await ensureTopicsSubscribed(ctx, principal.userId, topics);
    } catch (err) {
      reservation.release();
      throw err;
    }

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      // no-transform: proxies must not compress or rewrite the stream; X-Accel-Buffering: no
      // stops nginx (ingress-nginx included) from buffering it.
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    await hub.open(reservation, { response: res, matches: createTopicMatcher(topics, types), lastEventId });
  };
}

function queryList(value: unknown): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (value === undefined) return [];
  throw createError('GW_ERR_VALIDATION', 'topics and types must be plain strings');
}

function lastEventIdOf(header: string | undefined, query: unknown): string | undefined {
  if (header === undefined && query !== undefined && typeof query !== 'string') {
    // `?lastEventId=a&lastEventId=b`: silently ignoring it would replay nothing.
    throw createError('GW_ERR_VALIDATION', 'lastEventId must be given once');
  }
  const value = header ?? (typeof query === 'string' ? query : undefined);
  if (value === undefined || value === '') return undefined;
  if (!isValidStreamId(value)) {
    throw createError(
      'GW_ERR_VALIDATION',
      'Last-Event-ID must be an event id as sent by this stream (<ms>-<seq>)',
    );
  }
  return value;
}

/**
 * Has the user's upstream session (wherever it lives) subscribe the topics' streams and wait
 * until they are live, so that nothing published after this response starts can be missed.
 * A refusal is Rocket.Chat's own `nosub`, never a guess made here.
 */
async function ensureTopicsSubscribed(
  ctx: HttpContext,
  userId: string,
  topics: readonly Topic[],
): Promise<void> {
  let refusals: StreamRefusal[];
  try {
    refusals = await ctx.calls.ensureTopics(userId, topics.map(formatTopic), ENSURE_TIMEOUT_MS);
  } catch (err) {
    // Rocket.Chat's meaning kept (a refusal is 403, a timeout 504), not one blanket 502.
    throw mapUpstreamError(err);
  }
  const refused = refusals[0];
  if (refused) {
    const room = refused.key.split('|')[1]?.split('/')[0];
    throw createError(
      'GW_ERR_FORBIDDEN',
      `Rocket.Chat does not let this user read room ${room} (${String(refused.error)})`,
      {
        details: { roomId: room, upstreamError: refused.error },
      },
    );
  }
}
