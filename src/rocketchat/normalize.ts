/**
 * Rocket.Chat stream events -> gateway events (docs/simulator-protocol.md §2.2, §5). Pure and total: it
 * runs for every upstream frame, so it makes one EJSON walk per event and never throws — a bad
 * frame is skipped and reported through `onSkip`, because it must not kill the session.
 *
 * The envelope's `data` is Rocket.Chat's own object with dates as ISO-8601 strings. It may share
 * structure with the frame it came from (`ejsonToJson` copies only what it decodes), and a frame
 * that several sessions received alike is one frozen object for all of them: nothing here
 * changes what it is given.
 */
import { ejsonToJson } from '../ddp/ejson.js';
import type { GatewayEventType, NewGatewayEvent } from '../events/types.js';
import { frozenMemo } from '../frozen-memo.js';
import { MY_MESSAGES_EVENT } from './streams.js';

/**
 * `ejsonToJson`, done once for a frame that the worker's sessions share (its args are frozen):
 * the members of a room each get an event with the same `data`.
 */
const jsonForm = frozenMemo(ejsonToJson);

export interface StreamEventInput {
  /** The DDP collection, i.e. the stream's subscription name (`stream-room-messages`, ...). */
  readonly collection: string;
  /** `fields.eventName` (for `stream-user-presence`: the uid). */
  readonly eventName: string;
  /** `fields.args` exactly as received: EJSON, not decoded. */
  readonly args: readonly unknown[];
  /** The session's user: whose log the event goes to. */
  readonly userId: string;
  readonly receivedAtMs: number;
}

/**
 * Why a frame produced no event: `ignored` = well-formed but not something the gateway forwards
 * (edit-history copies, streams and events it does not map); `malformed` = not the shape
 * Rocket.Chat documents (worth a metric and a debug log).
 */
export type SkipReason = 'ignored' | 'malformed';
export const SKIP_REASONS: readonly SkipReason[] = ['ignored', 'malformed'];

/**
 * Told why a frame was skipped. `detail` names the stream and the problem, never payload
 * content, so it is safe to log.
 */
export type SkipListener = (reason: SkipReason, detail: string) => void;

export type UserStatus = 'offline' | 'online' | 'away' | 'busy';

/** Rocket.Chat's STATUS_MAP order on the wire: 0 offline, 1 online, 2 away, 3 busy. */
const USER_STATUSES: readonly UserStatus[] = ['offline', 'online', 'away', 'busy'];

class Skip {
  constructor(
    readonly reason: SkipReason,
    readonly detail: string,
  ) {}
}

type Outcome = NewGatewayEvent | Skip;

const ignored = (detail: string): Skip => new Skip('ignored', detail);
const malformed = (detail: string): Skip => new Skip('malformed', detail);

const SKIP_HIDDEN = ignored('message: _hidden edit-history copy');
const SKIP_MESSAGE_NOT_OBJECT = malformed('message: not an object');
const SKIP_MESSAGE_NO_ID = malformed('message: missing _id');
const SKIP_MESSAGE_NO_RID = malformed('message: missing rid');
const SKIP_MESSAGE_NO_DATE = malformed('message: missing _updatedAt and ts');
const SKIP_ARGS_NOT_ARRAY = malformed('frame: args is not an array');

/** Normalizes one live stream frame. Usually one event; none for what is ignored or malformed. */
export function normalizeStreamEvent(input: StreamEventInput, onSkip?: SkipListener): NewGatewayEvent[] {
  let outcome: Outcome;
  try {
    outcome = route(input);
  } catch (error) {
    // Only pathological input gets here (nesting deep enough to exhaust the stack in the EJSON
    // walk, an invalid receivedAtMs): skip the frame rather than lose the session.
    outcome = malformed(
      `${input.collection}: ${error instanceof Error ? error.name : 'error'} while normalizing`,
    );
  }
  return settle(outcome, onSkip);
}

function route(input: StreamEventInput): Outcome {
  if (!Array.isArray(input.args)) return SKIP_ARGS_NOT_ARRAY;
  switch (input.collection) {
    case 'stream-room-messages':
      return roomMessage(input);
    case 'stream-notify-room':
      return notifyRoom(input);
    case 'stream-notify-user':
      return notifyUser(input);
    case 'stream-notify-logged':
      return notifyLogged(input);
    case 'stream-user-presence':
      // `id` and `eventName` are the uid; args = [username, status, statusText].
      return userStatus(input, input.eventName, input.args[0], input.args[1], input.args[2]);
    default:
      return ignored(`${input.collection}: stream not mapped`);
  }
}

// --- stream-room-messages -------------------------------------------------------------------

function roomMessage(input: StreamEventInput): Outcome {
  // `<rid>` or `__my_messages__`; the latter's 2nd arg (emit-permission meta) is dropped.
  const fallbackRid = input.eventName === MY_MESSAGES_EVENT ? undefined : input.eventName;
  const raw = input.args[0];
  if (!isRecord(raw)) return SKIP_MESSAGE_NOT_OBJECT;
  const id = raw._id;
  if (!isNonEmptyString(id)) return SKIP_MESSAGE_NO_ID;
  if (raw._hidden === true) return SKIP_HIDDEN;
  const rid = isNonEmptyString(raw.rid) ? raw.rid : fallbackRid;
  if (rid === undefined || rid === '') return SKIP_MESSAGE_NO_RID;
  // Every message has `_updatedAt`; `ts` only guards against a server that omits it.
  const updatedAtMs = dateMs(raw._updatedAt) ?? dateMs(raw.ts);
  if (updatedAtMs === undefined) return SKIP_MESSAGE_NO_DATE;

  const data = jsonForm(raw);
  const ts = isoOf(input.receivedAtMs);
  if (raw.t === 'rm') {
    return event('message.deleted', input.userId, rid, ts, data, {
      messageId: id,
      updatedAtMs,
      deleted: true,
    });
  }
  // A first sighting is "created" unless the message shows it was changed since; the event log
  // upgrades "created" to "updated" for an id it has already logged.
  const type = showsLaterChange(raw) ? 'message.updated' : 'message.created';
  return event(type, input.userId, rid, ts, data, { messageId: id, updatedAtMs });
}

/**
 * Fields Rocket.Chat only sets on an existing message: edit, reactions, pin (also left behind by
 * unpin), star, thread activity, discussion activity. `drid` is set at insert on the
 * `discussion-created` system message (createDiscussion.ts), so it counts only elsewhere
 * (a discussion started from an existing message).
 */
function showsLaterChange(m: Record<string, unknown>): boolean {
  return (
    isSet(m.editedAt) ||
    isSet(m.reactions) ||
    isSet(m.pinned) ||
    isSet(m.pinnedAt) ||
    isSet(m.tcount) ||
    isSet(m.tlm) ||
    isSet(m.dcount) ||
    isSet(m.dlm) ||
    (isSet(m.drid) && m.t !== 'discussion-created') ||
    (Array.isArray(m.starred) && m.starred.length > 0)
  );
}

// --- stream-notify-room ---------------------------------------------------------------------

function notifyRoom(input: StreamEventInput): Outcome {
  const { eventName, args } = input;
  const slash = eventName.indexOf('/');
  if (slash <= 0) return malformed('stream-notify-room: event name is not <rid>/<event>');
  const rid = eventName.slice(0, slash);
  const kind = eventName.slice(slash + 1);
  switch (kind) {
    case 'deleteMessage': {
      const arg = args[0];
      if (!isRecord(arg) || !isNonEmptyString(arg._id))
        return malformed('stream-notify-room/deleteMessage: missing _id');
      return event(
        'message.deleted',
        input.userId,
        rid,
        isoOf(input.receivedAtMs),
        { _id: arg._id, rid },
        { messageId: arg._id, updatedAtMs: 0, deleted: true },
      );
    }
    case 'deleteMessageBulk': {
      // One event for the whole query (ids, or a time range and users): the gateway does not know
      // which messages matched, so there is nothing to dedupe by.
      const query = args[0];
      if (!isRecord(query)) return malformed('stream-notify-room/deleteMessageBulk: query is not an object');
      // `rid` and `bulk` first and ours: the query's own `rid` is the same room anyway.
      const data: Record<string, unknown> = {
        rid,
        bulk: true,
        ...(jsonForm(query) as Record<string, unknown>),
      };
      data.rid = rid;
      data.bulk = true;
      return event('message.deleted', input.userId, rid, isoOf(input.receivedAtMs), data);
    }
    case 'typing': {
      const [username, typing] = args;
      if (!isNonEmptyString(username) || typeof typing !== 'boolean') {
        return malformed('stream-notify-room/typing: args are not [username, boolean]');
      }
      return event('typing', input.userId, rid, isoOf(input.receivedAtMs), { username, typing });
    }
    case 'user-activity': {
      const [username, activities] = args;
      if (!isNonEmptyString(username) || !isStringArray(activities)) {
        return malformed('stream-notify-room/user-activity: args are not [username, string[]]');
      }
      return event('typing', input.userId, rid, isoOf(input.receivedAtMs), {
        username,
        typing: activities.includes('user-typing'),
        activities,
      });
    }
    default:
      return ignored('stream-notify-room: event not mapped');
  }
}

// --- stream-notify-user ---------------------------------------------------------------------

function notifyUser(input: StreamEventInput): Outcome {
  const { eventName, args, userId } = input;
  const slash = eventName.indexOf('/');
  if (slash <= 0) return malformed('stream-notify-user: event name is not <uid>/<event>');
  // The server only lets a user subscribe to their own uid; anything else in this session's
  // frames is a bug upstream or in the session, and must not reach this user's log.
  if (eventName.slice(0, slash) !== userId) return malformed('stream-notify-user: event for another user');
  const kind = eventName.slice(slash + 1);
  switch (kind) {
    case 'notification': {
      const notification = args[0];
      if (!isRecord(notification)) return malformed('stream-notify-user/notification: not an object');
      const payload = notification.payload;
      const rid = isRecord(payload) && isNonEmptyString(payload.rid) ? payload.rid : undefined;
      return event('notification', userId, rid, isoOf(input.receivedAtMs), jsonForm(notification));
    }
    case 'rooms-changed': {
      const [action, room] = args;
      if (!isNonEmptyString(action) || !isRecord(room) || !isNonEmptyString(room._id)) {
        return malformed('stream-notify-user/rooms-changed: args are not [action, room with _id]');
      }
      return event('room.changed', userId, room._id, isoOf(input.receivedAtMs), {
        action,
        room: jsonForm(room),
      });
    }
    case 'subscriptions-changed': {
      const [action, subscription] = args;
      if (!isNonEmptyString(action) || !isRecord(subscription) || !isNonEmptyString(subscription._id)) {
        return malformed(
          'stream-notify-user/subscriptions-changed: args are not [action, subscription with _id]',
        );
      }
      const rid = isNonEmptyString(subscription.rid) ? subscription.rid : undefined;
      return event('subscription.changed', userId, rid, isoOf(input.receivedAtMs), {
        action,
        subscription: jsonForm(subscription),
      });
    }
    case 'message': {
      // Ephemeral messages (rocket.cat telling this user something): never stored upstream, so
      // there is nothing to dedupe or catch up.
      const message = args[0];
      if (!isRecord(message)) return SKIP_MESSAGE_NOT_OBJECT;
      if (!isNonEmptyString(message._id)) return SKIP_MESSAGE_NO_ID;
      const rid = isNonEmptyString(message.rid) ? message.rid : undefined;
      return event('message.ephemeral', userId, rid, isoOf(input.receivedAtMs), jsonForm(message));
    }
    case 'force_logout':
      return event('session.unauthorized', userId, undefined, isoOf(input.receivedAtMs), {
        reason: 'force_logout',
      });
    default:
      return ignored('stream-notify-user: event not mapped');
  }
}

// --- presence -------------------------------------------------------------------------------

function notifyLogged(input: StreamEventInput): Outcome {
  if (input.eventName !== 'user-status') return ignored('stream-notify-logged: event not mapped');
  // One arg that is itself an array: [uid, username, status, statusText, name, roles].
  const entry = input.args[0];
  if (!Array.isArray(entry)) return malformed('stream-notify-logged/user-status: arg is not an array');
  return userStatus(input, entry[0], entry[1], entry[2], entry[3]);
}

function userStatus(
  input: StreamEventInput,
  uid: unknown,
  username: unknown,
  statusNumber: unknown,
  statusText: unknown,
): Outcome {
  if (!isNonEmptyString(uid) || !isNonEmptyString(username)) {
    return malformed(`${input.collection}: user status without uid or username`);
  }
  const status = typeof statusNumber === 'number' ? USER_STATUSES[statusNumber] : undefined;
  if (status === undefined) return malformed(`${input.collection}: unknown status number`);
  return event('user.status', input.userId, undefined, isoOf(input.receivedAtMs), {
    userId: uid,
    username,
    status,
    statusText: typeof statusText === 'string' ? statusText : '',
  });
}

// --- catch-up (REST chat.syncMessages) ------------------------------------------------------

/**
 * One message from catch-up (`chat.syncMessages`'s `updated`; REST form with ISO-string dates,
 * though the EJSON form of DDP `messages/get` works too). Same envelope as the live path, but
 * created-or-updated is decided by birth time: a message whose `ts` is later than
 * `roomWatermarkMs` (the newest `_updatedAt` logged for the room) was born while nobody
 * listened, so it is `message.created` whatever happened to it since; otherwise
 * `message.updated`. `t:'rm'` is `message.deleted`. `undefined` when skipped (see `onSkip`).
 */
export function normalizeSyncedMessage(
  message: unknown,
  userId: string,
  receivedAtMs: number,
  roomWatermarkMs: number,
  onSkip?: SkipListener,
): NewGatewayEvent | undefined {
  let outcome: Outcome;
  try {
    outcome = syncedMessage(message, userId, receivedAtMs, roomWatermarkMs);
  } catch (error) {
    outcome = malformed(`syncMessages: ${error instanceof Error ? error.name : 'error'} while normalizing`);
  }
  return settleOne(outcome, onSkip);
}

function syncedMessage(raw: unknown, userId: string, receivedAtMs: number, roomWatermarkMs: number): Outcome {
  if (!isRecord(raw)) return SKIP_MESSAGE_NOT_OBJECT;
  const id = raw._id;
  if (!isNonEmptyString(id)) return SKIP_MESSAGE_NO_ID;
  if (raw._hidden === true) return SKIP_HIDDEN;
  if (!isNonEmptyString(raw.rid)) return SKIP_MESSAGE_NO_RID;
  const updatedAtMs = dateMs(raw._updatedAt) ?? dateMs(raw.ts);
  if (updatedAtMs === undefined) return SKIP_MESSAGE_NO_DATE;

  const data = jsonForm(raw);
  const ts = isoOf(receivedAtMs);
  if (raw.t === 'rm') {
    return event('message.deleted', userId, raw.rid, ts, data, { messageId: id, updatedAtMs, deleted: true });
  }
  const bornMs = dateMs(raw.ts);
  const type = bornMs !== undefined && bornMs > roomWatermarkMs ? 'message.created' : 'message.updated';
  return event(type, userId, raw.rid, ts, data, { messageId: id, updatedAtMs });
}

/**
 * One hard deletion from catch-up (`chat.syncMessages`'s `deleted`: `{_id, _deletedAt}`) in room
 * `roomId`. Data is `{_id, rid}` like a live deletion, plus `_deletedAt` (ISO) when given;
 * `dedupe.updatedAtMs` is `_deletedAt` in ms (0 when absent, as for live deletions; the log
 * de-duplicates deletions by id alone). `undefined` when skipped (see `onSkip`).
 */
export function normalizeSyncedDeletion(
  deletion: unknown,
  roomId: string,
  userId: string,
  receivedAtMs: number,
  onSkip?: SkipListener,
): NewGatewayEvent | undefined {
  let outcome: Outcome;
  try {
    outcome = syncedDeletion(deletion, roomId, userId, receivedAtMs);
  } catch (error) {
    outcome = malformed(`syncMessages: ${error instanceof Error ? error.name : 'error'} while normalizing`);
  }
  return settleOne(outcome, onSkip);
}

function syncedDeletion(raw: unknown, roomId: string, userId: string, receivedAtMs: number): Outcome {
  if (!isRecord(raw) || !isNonEmptyString(raw._id)) return malformed('syncMessages deleted: missing _id');
  const deletedAtMs = dateMs(raw._deletedAt);
  const data: Record<string, unknown> = { _id: raw._id, rid: roomId };
  if (deletedAtMs !== undefined) data._deletedAt = isoOf(deletedAtMs);
  return event('message.deleted', userId, roomId, isoOf(receivedAtMs), data, {
    messageId: raw._id,
    updatedAtMs: deletedAtMs ?? 0,
    deleted: true,
  });
}

// --- helpers --------------------------------------------------------------------------------

function settle(outcome: Outcome, onSkip: SkipListener | undefined): NewGatewayEvent[] {
  const event = settleOne(outcome, onSkip);
  return event === undefined ? [] : [event];
}

function settleOne(outcome: Outcome, onSkip: SkipListener | undefined): NewGatewayEvent | undefined {
  if (outcome instanceof Skip) {
    onSkip?.(outcome.reason, outcome.detail);
    return undefined;
  }
  return outcome;
}

function event(
  type: GatewayEventType,
  userId: string,
  roomId: string | undefined,
  ts: string,
  data: unknown,
  dedupe?: NewGatewayEvent['dedupe'],
): NewGatewayEvent {
  // Optional keys are left out rather than set to undefined: the envelope is serialized as is.
  if (roomId === undefined)
    return dedupe === undefined ? { type, userId, ts, data } : { type, userId, ts, data, dedupe };
  return dedupe === undefined
    ? { type, userId, roomId, ts, data }
    : { type, userId, roomId, ts, data, dedupe };
}

/** The last time formatted: a room's message reaches all of a worker's sessions in the same ms. */
let lastIso = { ms: Number.NaN, iso: '' };

function isoOf(ms: number): string {
  if (ms !== lastIso.ms) lastIso = { ms, iso: new Date(ms).toISOString() };
  return lastIso.iso;
}

/** A date as ms from either wire form: EJSON `{$date: ms}` (DDP) or an ISO-8601 string (REST). */
function dateMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  // Only what `Date` can hold: a `$date` of 1e300 would become the dedupe `updatedAtMs` (and the
  // room's watermark) while its ISO form in `data` is null.
  if (isRecord(value) && typeof value.$date === 'number' && Math.abs(value.$date) <= MAX_DATE_MS) {
    return value.$date;
  }
  return undefined;
}

/** `Date`'s range, ±100,000,000 days from the epoch (ECMA-262 TimeClip). */
const MAX_DATE_MS = 8.64e15;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}
