/**
 * Topics: what an SSE client or a webhook subscribes to. SSE and webhooks use this same parser
 * and matcher, so a filtering fix made here is made for both.
 *
 * Grammar (comma-separated, or one per repeated query parameter):
 * - `room:<rid>`   a room's messages: created, updated, deleted
 * - `rooms`        the messages of every room the user is in
 * - `typing:<rid>` who is typing in a room
 * - `user`         notifications, room and subscription changes, ephemeral messages,
 *                  `session.unauthorized`, `outbound.*`, `webhook.*`
 * - `presence`     `user.status`
 */
import { GatewayError } from '../errors.js';
import { ROCKETCHAT_ID } from '../rocketchat-ids.js';
import { EVENT_TYPES, type GatewayEventType } from './types.js';

export type Topic =
  | { readonly kind: 'room'; readonly roomId: string }
  | { readonly kind: 'rooms' }
  | { readonly kind: 'typing'; readonly roomId: string }
  | { readonly kind: 'user' }
  | { readonly kind: 'presence' };

export type TopicKind = Topic['kind'];

/** How many distinct topics one subscriber may ask for. */
export const MAX_TOPICS = 100;

/** Room ids (src/rocketchat-ids.ts) also keep `,` `:` and anything odd out of the topic grammar. */
const ROOM_ID = ROCKETCHAT_ID;

const EXPECTED_TOPICS = 'expected room:<rid>, rooms, typing:<rid>, user or presence';

/** Thrown by `parseTopics` for an unknown or malformed topic; renders as 400 `GW_ERR_TOPIC_INVALID`. */
export class TopicError extends GatewayError {
  /** The offending topic as given (trimmed), for callers that report it in their own words. */
  readonly topic: string;

  constructor(message: string, topic: string) {
    super('GW_ERR_TOPIC_INVALID', message, { details: { topic: clip(topic) } });
    this.topic = topic;
  }
}

/**
 * Thrown by `parseEventTypes` for a name outside `EVENT_TYPES`; renders as 400
 * `GW_ERR_VALIDATION`.
 */
export class EventTypeError extends GatewayError {
  readonly eventType: string;

  constructor(message: string, eventType: string) {
    super('GW_ERR_VALIDATION', message, { details: { eventType: clip(eventType) } });
    this.eventType = eventType;
  }
}

/** Whether `value` is a well-formed Rocket.Chat room id. */
export function isRoomId(value: string): boolean {
  return ROOM_ID.test(value);
}

/**
 * Parses a topic list: `"room:GENERAL,user"`, or `["room:GENERAL", "user"]` (repeated query
 * parameters), or both mixed. Entries are trimmed, empty entries (a trailing comma) skipped and
 * duplicates dropped, keeping first-seen order. An empty input gives `[]`: whether that is
 * allowed is the caller's decision.
 *
 * @throws TopicError for an unknown or malformed topic, or more than `MAX_TOPICS` distinct ones.
 */
export function parseTopics(input: string | readonly string[]): readonly Topic[] {
  const seen = new Set<string>();
  const topics: Topic[] = [];
  for (const raw of splitList(input, badTopicList)) {
    const topic = parseTopic(raw);
    const canonical = formatTopic(topic);
    if (seen.has(canonical)) continue;
    if (seen.size === MAX_TOPICS) {
      throw new TopicError(`too many topics: at most ${MAX_TOPICS} are allowed`, raw);
    }
    seen.add(canonical);
    topics.push(topic);
  }
  return topics;
}

/** Parses one topic (already trimmed). */
export function parseTopic(raw: string): Topic {
  const colon = raw.indexOf(':');
  if (colon === -1) {
    switch (raw) {
      case 'rooms':
        return { kind: 'rooms' };
      case 'user':
        return { kind: 'user' };
      case 'presence':
        return { kind: 'presence' };
      case 'room':
      case 'typing':
        throw new TopicError(`malformed topic ${quote(raw)}: expected ${raw}:<rid>`, raw);
      default:
        throw new TopicError(`unknown topic ${quote(raw)}: ${EXPECTED_TOPICS}`, raw);
    }
  }
  const kind = raw.slice(0, colon);
  if (kind !== 'room' && kind !== 'typing') {
    throw new TopicError(`unknown topic ${quote(raw)}: ${EXPECTED_TOPICS}`, raw);
  }
  const roomId = raw.slice(colon + 1);
  if (!ROOM_ID.test(roomId)) {
    throw new TopicError(
      `malformed topic ${quote(raw)}: expected ${kind}:<rid> where <rid> is 1 to 64 of A-Z a-z 0-9 _ -`,
      raw,
    );
  }
  return { kind, roomId };
}

/** The canonical text of a topic; `parseTopic(formatTopic(t))` equals `t`. */
export function formatTopic(topic: Topic): string {
  switch (topic.kind) {
    case 'room':
      return `room:${topic.roomId}`;
    case 'typing':
      return `typing:${topic.roomId}`;
    default:
      return topic.kind;
  }
}

/**
 * Parses an optional event-type filter, same list syntax as `parseTopics`. `[]` means no filter.
 *
 * @throws EventTypeError for a name that is not in `EVENT_TYPES`.
 */
export function parseEventTypes(input: string | readonly string[]): readonly GatewayEventType[] {
  const seen = new Set<GatewayEventType>();
  for (const raw of splitList(input, badEventTypeList)) {
    if (!isEventType(raw)) {
      throw new EventTypeError(
        `unknown event type ${quote(raw)}: expected one of ${EVENT_TYPES.join(', ')}`,
        raw,
      );
    }
    seen.add(raw);
  }
  return [...seen];
}

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(value: string): value is GatewayEventType {
  return EVENT_TYPE_SET.has(value);
}

/** The fields of an event the matcher looks at (a `GatewayEvent` or `NewGatewayEvent` fits). */
export interface MatchableEvent {
  readonly type: string;
  readonly roomId?: string | undefined;
}

export type TopicMatcher = (event: MatchableEvent) => boolean;

/**
 * Which topic family an event type belongs to. A `Record` over `GatewayEventType`, so adding a
 * type to `EVENT_TYPES` without deciding who receives it fails to compile.
 * `control` events reach every subscriber (see `createTopicMatcher`).
 */
type EventRoute = 'message' | 'typing' | 'user' | 'presence' | 'control';

const EVENT_ROUTES: Readonly<Record<GatewayEventType, EventRoute>> = {
  'message.created': 'message',
  'message.updated': 'message',
  'message.deleted': 'message',
  'message.ephemeral': 'user',
  typing: 'typing',
  'user.status': 'presence',
  'room.changed': 'user',
  'subscription.changed': 'user',
  notification: 'user',
  'session.unauthorized': 'control',
  'outbound.sent': 'user',
  'outbound.failed': 'user',
  'webhook.disabled': 'user',
  'webhook.test': 'user',
};

// A Map, not the object: an event type read back from the log is just a string, and must not
// resolve `constructor` or `__proto__` through the prototype chain.
const ROUTE_BY_TYPE: ReadonlyMap<string, EventRoute> = new Map(Object.entries(EVENT_ROUTES));

const NOTHING: TopicMatcher = () => false;

/**
 * Compiles a subscriber's topics (and optional event-type filter) once, into a predicate that
 * decides each event in O(1): a route lookup, a flag or a `Set` lookup. No loop over topics.
 *
 * `session.unauthorized` matches every non-empty topic set and passes any type filter: it ends
 * the feed, and a subscriber filtered away from it would otherwise just go silent forever.
 * Events of unknown type (e.g. from an older log) match nothing.
 */
export function createTopicMatcher(
  topics: readonly Topic[],
  eventTypes: readonly GatewayEventType[] = [],
): TopicMatcher {
  if (topics.length === 0) return NOTHING;
  let allRooms = false;
  let user = false;
  let presence = false;
  const rooms = new Set<string>();
  const typing = new Set<string>();
  for (const topic of topics) {
    switch (topic.kind) {
      case 'room':
        rooms.add(topic.roomId);
        break;
      case 'rooms':
        allRooms = true;
        break;
      case 'typing':
        typing.add(topic.roomId);
        break;
      case 'user':
        user = true;
        break;
      case 'presence':
        presence = true;
        break;
    }
  }
  const types: ReadonlySet<string> | undefined = eventTypes.length > 0 ? new Set(eventTypes) : undefined;

  return (event) => {
    const route = ROUTE_BY_TYPE.get(event.type);
    if (route === undefined) return false;
    if (route === 'control') return true;
    if (types !== undefined && !types.has(event.type)) return false;
    switch (route) {
      case 'message':
        return allRooms || (event.roomId !== undefined && rooms.has(event.roomId));
      case 'typing':
        return event.roomId !== undefined && typing.has(event.roomId);
      case 'user':
        return user;
      case 'presence':
        return presence;
    }
  };
}

function* splitList(input: string | readonly string[], notAString: () => Error): Generator<string> {
  const parts = typeof input === 'string' ? [input] : input;
  for (const part of parts) {
    // Query parsers can hand over non-strings (`?topics[a]=b`): refuse them like any bad entry.
    if (typeof part !== 'string') throw notAString();
    for (const piece of part.split(',')) {
      const trimmed = piece.trim();
      if (trimmed !== '') yield trimmed;
    }
  }
}

const badTopicList = (): Error => new TopicError(`malformed topic list: ${EXPECTED_TOPICS}`, '');
const badEventTypeList = (): Error =>
  new EventTypeError(`malformed event type list: expected one of ${EVENT_TYPES.join(', ')}`, '');

/** Bounds what user input is echoed back in an error (and escapes control characters). */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function quote(text: string): string {
  return JSON.stringify(clip(text));
}

/** Matchers kept for `sharedTopicMatcher`; past this, the cache starts over (a bound, not a policy). */
const SHARED_MATCHERS_MAX = 1000;
const sharedMatchers = new Map<string, TopicMatcher>();

/**
 * `createTopicMatcher`, one per distinct (topics, types) in the process: SSE streams of the same
 * app ask for the same topics, and a matcher (two sets and a closure) was ~0.4 KiB of every idle
 * stream's heap. Matchers are pure functions of their topics and types, so sharing is safe.
 */
export function sharedTopicMatcher(
  topics: readonly Topic[],
  eventTypes: readonly GatewayEventType[] = [],
): TopicMatcher {
  const key = `${topics.map(formatTopic).join(',')}|${eventTypes.join(',')}`;
  let matcher = sharedMatchers.get(key);
  if (!matcher) {
    matcher = createTopicMatcher(topics, eventTypes);
    if (sharedMatchers.size >= SHARED_MATCHERS_MAX) sharedMatchers.clear();
    sharedMatchers.set(key, matcher);
  }
  return matcher;
}
