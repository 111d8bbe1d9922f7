/**
 * Read methods: loadHistory, loadMissedMessages, messages/get, rooms/get, subscriptions/get.
 */
import { getMessageHistory, type HistoryQuery, loadHistory } from './message-history.js';
import { MeteorError, matchFailed } from './meteor-error.js';
import { checkString, isRecord, requireUser } from './method-helpers.js';
import type { MethodTable } from './method-types.js';
import { canAccessRoom, hasPermission } from './permissions.js';

function optionalDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!(value instanceof Date)) {
    throw matchFailed();
  }
  return value;
}

function toHistoryQuery(value: unknown): HistoryQuery {
  if (!isRecord(value)) {
    return {};
  }
  const query: HistoryQuery = {};
  const lastUpdate = optionalDate(value['lastUpdate']);
  const latestDate = optionalDate(value['latestDate']);
  const oldestDate = optionalDate(value['oldestDate']);
  if (lastUpdate) {
    query.lastUpdate = lastUpdate;
  }
  if (latestDate) {
    query.latestDate = latestDate;
  }
  if (oldestDate) {
    query.oldestDate = oldestDate;
  }
  if (typeof value['inclusive'] === 'boolean') {
    query.inclusive = value['inclusive'];
  }
  if (typeof value['count'] === 'number') {
    query.count = value['count'];
  }
  for (const key of ['next', 'previous', 'type'] as const) {
    const field = value[key];
    if (typeof field === 'string') {
      query[key] = field;
    }
  }
  return query;
}

export const HISTORY_METHODS: MethodTable = {
  /** `false` (not an error) when the room is missing or not readable. */
  loadHistory(invocation, [rid, end, limit, ls, showThreadMessages]) {
    const roomId = checkString(rid);
    const { ctx, userId } = invocation;
    if (!userId) {
      throw new MeteorError('error-invalid-user', 'Invalid user', { method: 'loadHistory' });
    }
    const room = ctx.store.room(roomId);
    if (!room || !canAccessRoom(ctx.store, room, userId)) {
      return false;
    }
    if (
      room.t === 'c' &&
      !hasPermission(ctx.store, userId, 'preview-c-room') &&
      !ctx.store.subscription(roomId, userId)
    ) {
      return false;
    }
    return loadHistory(ctx, roomId, {
      ...(optionalDate(end) ? { end: end as Date } : {}),
      limit: typeof limit === 'number' ? limit : 20,
      ...(optionalDate(ls) ? { ls: ls as Date } : {}),
      showThreadMessages: showThreadMessages !== false,
    });
  },

  /** Deprecated (removal 9.0.0): messages with `ts > start`, newest first, or `false`. */
  loadMissedMessages(invocation, [rid, start]) {
    const roomId = checkString(rid);
    const since = optionalDate(start);
    if (!since) {
      throw matchFailed();
    }
    const { ctx, userId } = invocation;
    if (!userId || !canAccessRoom(ctx.store, ctx.store.room(roomId), userId)) {
      return false;
    }
    return ctx.store
      .roomMessages(roomId)
      .filter((m) => m.ts > since)
      .reverse();
  },

  'messages/get'(invocation, [rid, options]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'messages/get');
    if (!roomId) {
      throw new MeteorError('error-invalid-room', 'Invalid room', { method: 'messages/get' });
    }
    return getMessageHistory(invocation.ctx, roomId, user._id, toHistoryQuery(options));
  },

  'rooms/get'(invocation, [since]) {
    const { ctx, userId } = invocation;
    if (!userId) {
      return [];
    }
    const rooms = ctx.store
      .subscriptionsOfUser(userId)
      .map((sub) => ctx.store.room(sub.rid))
      .filter((room) => room !== undefined);
    if (since instanceof Date) {
      return { update: rooms.filter((room) => room._updatedAt > since), remove: [] };
    }
    return rooms;
  },

  'subscriptions/get'(invocation, [since]) {
    const { ctx, userId } = invocation;
    if (!userId) {
      return [];
    }
    const subs = ctx.store.subscriptionsOfUser(userId);
    if (since instanceof Date) {
      return {
        update: subs.filter((sub) => sub._updatedAt > since),
        remove: ctx.store
          .removedSubscriptionsOfUser(userId, since)
          .map((sub) => ({ _id: sub._id, _deletedAt: sub._deletedAt })),
      };
    }
    return subs;
  },
};
