/**
 * The Rocket.Chat DDP methods a caller may run through `POST /v1/methods/<name>`, each with the
 * schema its parameters must match before anything is sent upstream (docs/simulator-protocol.md §4).
 *
 * An allow-list, not a deny-list: a method missing here is not callable, whatever Rocket.Chat
 * would do with it. Left out on purpose:
 * - `login`, `logout`: the session belongs to the gateway; a caller logging it out (or into
 *   another account) would break every other consumer of the user's session (invariant 1).
 * - `sendMessage`, `updateMessage`, `deleteMessage`, `setReaction`: they go through the
 *   outbound queue (`/v1/messages`), which makes them idempotent, ordered and rate-limit aware.
 * - deprecated methods with a REST replacement (`muteUserInRoom`...), anything for admins, and
 *   every `stream-*` emit other than typing in a room.
 *
 * Names keep Rocket.Chat's spelling, slashes and colons included (`rooms/get`,
 * `UserPresence:setDefaultStatus`).
 */
import { z } from 'zod';
import { messageIdSchema, ROCKETCHAT_ID, roomIdSchema, userIdSchema } from '../rocketchat-ids.js';

export type MethodGroup =
  | 'rooms'
  | 'history'
  | 'subscriptions'
  | 'room-roles'
  | 'membership'
  | 'archive'
  | 'favourite'
  | 'visibility'
  | 'room-settings'
  | 'typing'
  | 'presence';

/** Who calls, for checks a schema cannot make alone. */
export interface MethodCaller {
  readonly userId: string;
  readonly username: string | undefined;
}

export interface MethodDefinition {
  readonly name: string;
  readonly group: MethodGroup;
  /** The `params` array as the caller sends it; the output is what goes upstream (dates as `Date`). */
  readonly params: z.ZodType<readonly unknown[]>;
  /** A refusal reason when this caller may not send these params, checked after the schema. */
  readonly authorize?: (params: readonly unknown[], caller: MethodCaller) => string | undefined;
  /**
   * What the caller gets for a falsy result (`false`, `0`, `""`, `null`, none): Rocket.Chat's
   * ddp-streamer omits every falsy `result` (`...(result && {result})`), so which falsy value the
   * method returned cannot be known; one answer per method keeps the two servers alike.
   * @defaultValue null
   */
  readonly falsyResult?: false;
}

/** The answer for a method's result, the same whichever of Rocket.Chat's DDP servers sent it. */
export function reportedResult(method: MethodDefinition, result: unknown): unknown {
  return result ? result : (method.falsyResult ?? null);
}

/**
 * Never callable, whatever the catalogue says: the session's own login and logout, and the
 * gateway's internal pseudo-methods (anything `gw:`/`gateway:`-prefixed, and DDP's own frames).
 */
const NEVER_CALLABLE = new Set(['login', 'logout', 'sub', 'unsub', 'connect', 'ping', 'pong', 'method']);
const INTERNAL_PREFIXES = ['gw:', 'gateway:', '__'];

export function isNeverCallable(name: string): boolean {
  return NEVER_CALLABLE.has(name) || INTERNAL_PREFIXES.some((prefix) => name.startsWith(prefix));
}

// --- parameter types ------------------------------------------------------------------------

const rid = roomIdSchema;
const uid = userIdSchema;
const mid = messageIdSchema;
const username = z.string().min(1).max(255);
const roomName = z.string().min(1).max(255);
const usernames = z.array(username).max(500);
const record = z.record(z.string(), z.unknown());

/** A date as EJSON (`{"$date": ms}`, what DDP sends) or ISO-8601; `Date` upstream. */
export const methodDateSchema = z
  .union([
    z
      .object({ $date: z.number().int().nonnegative() })
      .strict()
      .transform((value) => new Date(value.$date)),
    z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
  ])
  .describe('A date: EJSON `{"$date": <ms since the epoch>}` (what DDP sends) or ISO-8601 with a zone.');
const date = methodDateSchema;

const syncOptions = z.union([
  z.object({ lastUpdate: date }).strict(),
  z
    .object({
      type: z.enum(['UPDATED', 'DELETED']),
      next: z
        .string()
        .regex(/^\d{1,15}$/, 'must be a time in ms as a string')
        .optional(),
      previous: z
        .string()
        .regex(/^\d{1,15}$/, 'must be a time in ms as a string')
        .optional(),
      count: z.number().int().min(1).max(100).optional(),
    })
    .strict(),
]);

const TYPING_EVENT = new RegExp(`${ROCKETCHAT_ID.source.slice(0, -1)}\\/typing$`);
const ACTIVITY_EVENT = new RegExp(`${ROCKETCHAT_ID.source.slice(0, -1)}\\/user-activity$`);

const none = z.tuple([]);
const roomOnly = z.tuple([rid]);
const roomAndUser = z.tuple([rid, uid]);
const sinceOptional = z.union([z.tuple([]), z.tuple([date])]);
const create = z.union([
  z.tuple([roomName]),
  z.tuple([roomName, usernames]),
  z.tuple([roomName, usernames, z.boolean()]),
  z.tuple([roomName, usernames, z.boolean(), record]),
  z.tuple([roomName, usernames, z.boolean(), record, record]),
]);

/** Typing may only be announced as the caller (Rocket.Chat silently drops anything else). */
function typingAsCaller(params: readonly unknown[], caller: MethodCaller): string | undefined {
  if (caller.username !== undefined && params[1] !== caller.username) {
    return 'typing can only be announced under your own username';
  }
  return undefined;
}

const DEFINITIONS: readonly MethodDefinition[] = [
  // rooms
  { name: 'rooms/get', group: 'rooms', params: sinceOptional },
  { name: 'getRoomById', group: 'rooms', params: roomOnly },
  { name: 'getRoomNameById', group: 'rooms', params: roomOnly },
  {
    name: 'getRoomByTypeAndName',
    group: 'rooms',
    params: z.tuple([z.enum(['c', 'p', 'd']), roomName]),
  },
  { name: 'readMessages', group: 'rooms', params: roomOnly },
  // history
  {
    name: 'loadHistory',
    group: 'history',
    // `false` (not an error) for a room that is missing or not readable.
    falsyResult: false,
    params: z.union([
      z.tuple([rid]),
      z.tuple([rid, date.nullable()]),
      z.tuple([rid, date.nullable(), z.number().int().min(1).max(100)]),
      z.tuple([rid, date.nullable(), z.number().int().min(1).max(100), date.nullable()]),
      z.tuple([rid, date.nullable(), z.number().int().min(1).max(100), date.nullable(), z.boolean()]),
    ]),
  },
  { name: 'loadMissedMessages', group: 'history', params: z.tuple([rid, date]), falsyResult: false },
  { name: 'messages/get', group: 'history', params: z.tuple([rid, syncOptions]) },
  { name: 'getSingleMessage', group: 'history', params: z.tuple([mid]) },
  // subscriptions
  { name: 'subscriptions/get', group: 'subscriptions', params: sinceOptional },
  // room roles
  { name: 'getRoomRoles', group: 'room-roles', params: roomOnly },
  { name: 'addRoomOwner', group: 'room-roles', params: roomAndUser },
  { name: 'removeRoomOwner', group: 'room-roles', params: roomAndUser },
  { name: 'addRoomModerator', group: 'room-roles', params: roomAndUser },
  { name: 'removeRoomModerator', group: 'room-roles', params: roomAndUser },
  { name: 'addRoomLeader', group: 'room-roles', params: roomAndUser },
  { name: 'removeRoomLeader', group: 'room-roles', params: roomAndUser },
  // create, join, leave
  { name: 'createChannel', group: 'membership', params: create },
  { name: 'createPrivateGroup', group: 'membership', params: create },
  { name: 'createDirectMessage', group: 'membership', params: z.array(username).min(1).max(50) },
  {
    name: 'joinRoom',
    group: 'membership',
    params: z.union([z.tuple([rid]), z.tuple([rid, z.string().max(255)])]),
  },
  { name: 'leaveRoom', group: 'membership', params: roomOnly },
  // archive
  { name: 'archiveRoom', group: 'archive', params: roomOnly },
  { name: 'unarchiveRoom', group: 'archive', params: roomOnly },
  // favourite
  { name: 'toggleFavorite', group: 'favourite', params: z.tuple([rid, z.boolean()]) },
  // hide and open
  { name: 'hideRoom', group: 'visibility', params: roomOnly },
  { name: 'openRoom', group: 'visibility', params: roomOnly },
  // room settings
  {
    name: 'saveRoomSettings',
    group: 'room-settings',
    params: z.union([z.tuple([rid, z.string().min(1).max(100), z.unknown()]), z.tuple([rid, record])]),
  },
  // typing (the only stream emit allowed)
  {
    name: 'stream-notify-room',
    group: 'typing',
    params: z.union([
      z.tuple([z.string().regex(TYPING_EVENT, 'must be "<rid>/typing"'), username, z.boolean()]),
      z.tuple([
        z.string().regex(ACTIVITY_EVENT, 'must be "<rid>/user-activity"'),
        username,
        z.array(z.enum(['user-typing', 'user-recording', 'user-uploading'])).max(3),
      ]),
      z.tuple([
        z.string().regex(ACTIVITY_EVENT, 'must be "<rid>/user-activity"'),
        username,
        z.array(z.enum(['user-typing', 'user-recording', 'user-uploading'])).max(3),
        record,
      ]),
    ]),
    authorize: typingAsCaller,
  },
  // presence
  {
    name: 'UserPresence:setDefaultStatus',
    group: 'presence',
    params: z.tuple([z.enum(['online', 'away', 'busy', 'offline'])]),
  },
  { name: 'UserPresence:away', group: 'presence', params: none },
  { name: 'UserPresence:online', group: 'presence', params: none },
];

export const METHOD_CATALOGUE: ReadonlyMap<string, MethodDefinition> = new Map(
  DEFINITIONS.filter((definition) => !isNeverCallable(definition.name)).map((definition) => [
    definition.name,
    Object.freeze(definition),
  ]),
);

/** The method's definition, or undefined when it is not callable through the gateway. */
export function findMethod(name: string): MethodDefinition | undefined {
  if (isNeverCallable(name)) return undefined;
  return METHOD_CATALOGUE.get(name);
}
