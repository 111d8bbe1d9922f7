/**
 * The upstream DDP stream subscriptions each topic needs (docs/simulator-protocol.md §2.2). The session
 * reference-counts them by `key`: a stream is subscribed while some topic needs it.
 */
import type { Topic } from '../events/topics.js';

export type UpstreamStreamName =
  | 'stream-room-messages'
  | 'stream-notify-room'
  | 'stream-notify-user'
  | 'stream-notify-logged';

export interface UpstreamStream {
  /** The DDP subscription (publication) name. */
  readonly name: UpstreamStreamName;
  /** The first subscription parameter: which events of the stream, e.g. `GENERAL/typing`. */
  readonly eventName: string;
  /** `name|eventName`: stable identity for reference counting and maps. */
  readonly key: string;
}

/** The `stream-room-messages` event name that carries every room the user can access. */
export const MY_MESSAGES_EVENT = '__my_messages__';

export function streamKey(name: UpstreamStreamName, eventName: string): string {
  return `${name}|${eventName}`;
}

function stream(name: UpstreamStreamName, eventName: string): UpstreamStream {
  return Object.freeze({ name, eventName, key: streamKey(name, eventName) });
}

const ALL_ROOMS_STREAMS: readonly UpstreamStream[] = Object.freeze([
  stream('stream-room-messages', MY_MESSAGES_EVENT),
]);
const PRESENCE_STREAMS: readonly UpstreamStream[] = Object.freeze([
  stream('stream-notify-logged', 'user-status'),
]);

/**
 * What `topic` needs upstream, for the session of `userId`.
 *
 * - `room:R`: messages of R (inserts and every update) plus its deletions, which come on
 *   stream-notify-room instead (`R/deleteMessage`, `R/deleteMessageBulk`).
 * - `rooms`: `__my_messages__` only. It carries no hard deletions: the session adds
 *   `roomDeletionStreams(rid)` for each room it learns of (rooms-changed, subscriptions).
 * - `typing:R`: `R/typing` only. The server re-emits typing and user-activity as each other, so
 *   subscribing to both would double every event; `typing` works on every server version.
 * - `user`: the user's notification, rooms-changed, subscriptions-changed and ephemeral
 *   message events.
 * - `presence`: `user-status` on stream-notify-logged.
 */
export function upstreamSubscriptionsFor(topic: Topic, userId: string): readonly UpstreamStream[] {
  switch (topic.kind) {
    case 'room':
      return [stream('stream-room-messages', topic.roomId), ...roomDeletionStreams(topic.roomId)];
    case 'rooms':
      return ALL_ROOMS_STREAMS;
    case 'typing':
      return [stream('stream-notify-room', `${topic.roomId}/typing`)];
    case 'user':
      return [
        stream('stream-notify-user', `${userId}/notification`),
        stream('stream-notify-user', `${userId}/rooms-changed`),
        stream('stream-notify-user', `${userId}/subscriptions-changed`),
        stream('stream-notify-user', `${userId}/message`),
      ];
    case 'presence':
      return PRESENCE_STREAMS;
  }
}

/** A room's hard deletions (single and bulk), which `__my_messages__` does not carry. */
export function roomDeletionStreams(roomId: string): readonly UpstreamStream[] {
  return [
    stream('stream-notify-room', `${roomId}/deleteMessage`),
    stream('stream-notify-room', `${roomId}/deleteMessageBulk`),
  ];
}

/**
 * Subscribed by every session whatever its topics, so that revocation of the user's tokens
 * (`force_logout`) is seen even by a session that only serves, say, `presence`.
 */
export function controlStreams(userId: string): readonly UpstreamStream[] {
  return [stream('stream-notify-user', `${userId}/force_logout`)];
}

export interface StreamSubscriptionOptions {
  readonly useCollection: false;
  readonly args: readonly [];
}

/**
 * The DDP `sub` params for a stream, in the object form `@rocket.chat/ddp-client` sends
 * (docs/simulator-protocol.md §2.1, §8.6). A fresh value each call: it goes onto the wire.
 */
export function ddpSubscriptionParams(
  s: UpstreamStream,
): [eventName: string, options: StreamSubscriptionOptions] {
  return [s.eventName, { useCollection: false, args: [] }];
}
