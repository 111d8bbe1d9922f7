/**
 * `GET /v1/events?topics=...`: the user's events as Server-Sent Events, resumable with
 * `Last-Event-ID` (header, or `lastEventId` for a first connection), live from any replica.
 * A first connection may ask for history (`since=<ISO time>`, or `lastEventId=earliest` as
 * Mercure spells it) and a content filter (`filter.<field>=...`, src/events/content-filter.ts).
 */
import { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { createError } from '../../errors.js';
import { compileContentFilter, parseFilterQuery, withContentFilter } from '../../events/content-filter.js';
import { isValidStreamId } from '../../events/stream-id.js';
import {
  formatTopic,
  parseEventTypes,
  parseTopics,
  sharedTopicMatcher,
  type Topic,
} from '../../events/topics.js';
import { mapUpstreamError } from '../../rocketchat/errors.js';
import type { StreamRefusal } from '../../sessions/user-session.js';
import type { HistoryStart } from '../../sse/sse-connection.js';
import type { SseHub } from '../../sse/sse-hub.js';
import type { HttpContext } from '../context.js';
import { shedRequestState } from '../shed-request-state.js';

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
    const start = startOf(req.get('last-event-id'), req.query.lastEventId, req.query.since);
    const filter = parseFilterQuery(req.query as Record<string, unknown>);

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
    shedRequestState(req, res);
    const matches = withContentFilter(
      sharedTopicMatcher(topics, types),
      filter === undefined ? undefined : compileContentFilter(filter, principal.userId),
    );
    await hub.open(reservation, { response: res, matches, ...start });
  };
}

function queryList(value: unknown): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  if (value === undefined) return [];
  throw createError('GW_ERR_VALIDATION', 'topics and types must be plain strings');
}

/** Mercure's sentinel for "everything the log holds", as `Last-Event-ID` or `lastEventId`. */
const EARLIEST = 'earliest';

/**
 * Where the stream starts. A `Last-Event-ID` header wins over everything in the URL: it is what
 * a browser's EventSource sends when it reconnects to the same URL, `since` included, and the
 * reconnect must resume rather than replay the history again.
 */
function startOf(
  header: string | undefined,
  query: unknown,
  since: unknown,
): { lastEventId: string | undefined; history?: HistoryStart } {
  if (header === undefined && query !== undefined && typeof query !== 'string') {
    // `?lastEventId=a&lastEventId=b`: silently ignoring it would replay nothing.
    throw createError('GW_ERR_VALIDATION', 'lastEventId must be given once');
  }
  const value = header ?? (typeof query === 'string' && query !== '' ? query : undefined);
  if (header === undefined && value !== undefined && since !== undefined) {
    throw createError('GW_ERR_VALIDATION', 'Give since or lastEventId, not both', {
      details: { field: 'since' },
    });
  }
  if (value === EARLIEST) return { lastEventId: undefined, history: { sinceMs: undefined } };
  if (value !== undefined && value !== '') {
    if (!isValidStreamId(value)) {
      throw createError(
        'GW_ERR_VALIDATION',
        'Last-Event-ID must be an event id as sent by this stream (<ms>-<seq>) or earliest',
      );
    }
    return { lastEventId: value };
  }
  if (since === undefined) return { lastEventId: undefined };
  return { lastEventId: undefined, history: { sinceMs: sinceMsOf(since) } };
}

const ISO_INSTANT = z.iso.datetime({ offset: true });

/** `since`: an ISO-8601 date-time with a zone (`Z` or an offset). One in the future is just live. */
function sinceMsOf(since: unknown): number {
  const parsed = ISO_INSTANT.safeParse(since);
  const ms = parsed.success ? Date.parse(parsed.data) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw createError(
      'GW_ERR_VALIDATION',
      'since must be one ISO-8601 date-time with a zone, e.g. 2026-01-15T09:30:00Z',
      { details: { field: 'since' } },
    );
  }
  return ms;
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
