/**
 * History and sync queries: `messages/get` / `chat.syncMessages` (RC server/publications/messages.ts),
 * `loadHistory` (RC server/lib/loadMessageHistory) and `loadMissedMessages`.
 */
import type { SimContext } from './context.js';
import { MeteorError } from './meteor-error.js';
import { canAccessRoom } from './permissions.js';
import type { SimMessage } from './types.js';

export type CursorType = 'UPDATED' | 'DELETED';

export interface HistoryQuery {
  lastUpdate?: Date;
  latestDate?: Date;
  oldestDate?: Date;
  inclusive?: boolean;
  count?: number;
  next?: string;
  previous?: string;
  type?: string;
}

export interface DeletedEntry {
  _id: string;
  _deletedAt: Date;
}

export type HistoryResult =
  | {
      updated: SimMessage[];
      deleted: DeletedEntry[];
      cursor?: { next: string | null; previous: string | null };
    }
  | { messages: SimMessage[] };

function cursorTime(cursor: string): number {
  const value = Number.parseInt(cursor, 10);
  if (Number.isNaN(value)) {
    throw new Error('Invalid Date');
  }
  return value;
}

interface Timed {
  time: number;
}

/** RC `mountNextCursor` / `mountPreviousCursor` over a page fetched with `limit: count + 1`. */
function cursors(page: Timed[], count: number, next?: string, previous?: string) {
  const at = (index: number): string | null => {
    const item = page[index];
    return item ? String(item.time) : null;
  };
  if (page.length === 0) {
    return { next: null, previous: null };
  }
  let nextCursor: string | null;
  if (previous) {
    nextCursor = at(0);
  } else if (next && page.length <= count) {
    nextCursor = null;
  } else if (next && page.length > count) {
    nextCursor = at(page.length - 2);
  } else {
    nextCursor = at(page.length - 1);
  }
  let previousCursor: string | null;
  if (next) {
    previousCursor = at(0);
  } else if (previous && page.length <= count) {
    previousCursor = null;
  } else if (previous && page.length > count) {
    previousCursor = at(page.length - 2);
  } else {
    previousCursor = at(0);
  }
  return { next: nextCursor, previous: previousCursor };
}

function cursorPage(
  ctx: SimContext,
  rid: string,
  type: CursorType,
  count: number,
  next?: string,
  previous?: string,
) {
  const bound = next ? cursorTime(next) : previous ? cursorTime(previous) : 0;
  const items: (Timed & { doc: SimMessage | DeletedEntry })[] =
    type === 'UPDATED'
      ? ctx.store.roomMessages(rid).map((doc) => ({ time: doc._updatedAt.getTime(), doc }))
      : ctx.store
          .deletedMessages(rid)
          .map((d) => ({ time: d._deletedAt.getTime(), doc: { _id: d._id, _deletedAt: d._deletedAt } }));
  const selected = previous
    ? items.filter((item) => item.time < bound).sort((a, b) => b.time - a.time)
    : items.filter((item) => item.time > bound).sort((a, b) => a.time - b.time);
  const page = next || previous ? selected.slice(0, count + 1) : selected;
  const cursor = cursors(page, count, next, previous);
  if (page.length > count) {
    page.pop();
  }
  const docs = page.map((item) => item.doc);
  return {
    updated: type === 'UPDATED' ? (docs as SimMessage[]) : [],
    deleted: type === 'DELETED' ? (docs as DeletedEntry[]) : [],
    cursor,
  };
}

/** RC `getMessageHistory`: legacy `lastUpdate`, cursor pagination, or plain channel history. */
export function getMessageHistory(
  ctx: SimContext,
  rid: string,
  userId: string,
  query: HistoryQuery,
): HistoryResult {
  const method = { method: 'messages/get' };
  if (!canAccessRoom(ctx.store, ctx.store.room(rid), userId)) {
    throw new MeteorError('error-not-allowed', 'Not allowed', method);
  }
  const { type, next, previous, lastUpdate } = query;
  if (type && type !== 'UPDATED' && type !== 'DELETED') {
    throw new MeteorError(
      'error-type-param-not-supported',
      'The "type" parameter must be either "UPDATED" or "DELETED"',
    );
  }
  if ((next || previous) && !type) {
    throw new MeteorError(
      'error-type-param-required',
      'The "type" parameter is required when using the "next" or "previous" parameters',
    );
  }
  if (next && previous) {
    throw new MeteorError(
      'error-cursor-conflict',
      'You cannot provide both "next" and "previous" parameters',
    );
  }
  if ((next || previous) && lastUpdate) {
    throw new MeteorError(
      'error-cursor-and-lastUpdate-conflict',
      'The attributes "next", "previous" and "lastUpdate" cannot be used together',
    );
  }
  const count = query.count ?? 20;
  if (!(next || previous) && !lastUpdate) {
    return { messages: channelHistory(ctx, rid, query, count) };
  }
  if (lastUpdate) {
    const since = lastUpdate.getTime();
    const byTsDesc = (a: { ts: Date }, b: { ts: Date }): number => b.ts.getTime() - a.ts.getTime();
    return {
      updated: ctx.store
        .roomMessages(rid)
        .filter((m) => m._updatedAt.getTime() > since)
        .sort(byTsDesc),
      deleted: ctx.store
        .deletedMessages(rid)
        .filter((d) => d._deletedAt.getTime() > since)
        .sort((a, b) => byTsDesc(a.message, b.message))
        .map((d) => ({ _id: d._id, _deletedAt: d._deletedAt })),
    };
  }
  return cursorPage(ctx, rid, type as CursorType, count, next, previous);
}

/** RC `getChannelHistory` (no cursor, no lastUpdate): newest first, `ts` between oldest and latest. */
function channelHistory(ctx: SimContext, rid: string, query: HistoryQuery, count: number): SimMessage[] {
  const latest = (query.latestDate ?? new Date()).getTime();
  const oldest = query.oldestDate?.getTime();
  const inclusive = query.inclusive ?? false;
  return [...ctx.store.roomMessages(rid)]
    .filter((m) => {
      const ts = m.ts.getTime();
      const beforeLatest = inclusive ? ts <= latest : ts < latest;
      const afterOldest = oldest === undefined || (inclusive ? ts >= oldest : ts > oldest);
      return beforeLatest && afterOldest;
    })
    .reverse()
    .slice(0, count);
}

/** RC `loadMessageHistory`: newest first, `ts < end`; `firstUnread` / `unreadNotLoaded` from `ls`. */
export function loadHistory(
  ctx: SimContext,
  rid: string,
  options: { end?: Date; limit: number; ls?: Date; showThreadMessages: boolean },
): { messages: SimMessage[]; firstUnread?: SimMessage; unreadNotLoaded: number } {
  const visible = ctx.store
    .roomMessages(rid)
    .filter((m) => options.showThreadMessages || !m.tmid || m.tshow === true);
  const end = options.end?.getTime();
  const messages = visible
    .filter((m) => end === undefined || m.ts.getTime() < end)
    .reverse()
    .slice(0, options.limit);
  let firstUnread: SimMessage | undefined;
  let unreadNotLoaded = 0;
  const oldestLoaded = messages[messages.length - 1];
  if (options.ls && oldestLoaded && oldestLoaded.ts > options.ls) {
    const lastSeen = options.ls.getTime();
    const unread = visible.filter((m) => m.ts.getTime() > lastSeen && m.ts < oldestLoaded.ts);
    firstUnread = unread[0];
    unreadNotLoaded = unread.length;
  }
  return { messages, ...(firstUnread ? { firstUnread } : {}), unreadNotLoaded };
}
