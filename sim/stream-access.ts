/**
 * Read permissions of each stream (RC notifications.module.ts `allowRead` rules, docs/simulator-protocol.md §2.2).
 */
import type { SimContext } from './context.js';
import { canAccessRoom, hasPermission } from './permissions.js';

export type ReadRule = (
  ctx: SimContext,
  eventName: string,
  userId: string | null,
  args: unknown[],
) => boolean;

const logged: ReadRule = (_ctx, _eventName, userId) => userId !== null;

/** stream-room-messages: room access, or `preview-c-room` for public rooms; `__my_messages__` open to all. */
const roomMessages: ReadRule = (ctx, eventName, userId) => {
  if (eventName === '__my_messages__') {
    return true;
  }
  const room = ctx.store.room(eventName);
  if (!room) {
    return false;
  }
  if (canAccessRoom(ctx.store, room, userId)) {
    return true;
  }
  return room.t === 'c' && userId !== null && hasPermission(ctx.store, userId, 'preview-c-room');
};

/** stream-notify-room `<rid>/<event>`: a subscription to the room (webrtc open to all). */
const notifyRoom: ReadRule = (ctx, eventName, userId) => {
  const [rid = '', event] = eventName.split('/');
  if (event === 'webrtc') {
    return true;
  }
  return userId !== null && ctx.store.subscription(rid, userId) !== undefined;
};

/** stream-notify-user `<uid>/<event>`: only your own uid (webrtc open to all). */
const notifyUser: ReadRule = (_ctx, eventName, userId) => {
  const [uid, event] = eventName.split('/');
  if (event === 'webrtc') {
    return true;
  }
  return userId !== null && userId === uid;
};

const notifyAll: ReadRule = (ctx, eventName, userId) =>
  eventName !== 'private-settings-changed' || hasPermission(ctx.store, userId, 'view-privileged-setting');

const roomData: ReadRule = (ctx, eventName, userId) =>
  canAccessRoom(ctx.store, ctx.store.room(eventName), userId);

/** Streams the simulator publishes (as `stream-<name>`), with their read rule. */
export const STREAM_READ_RULES: Readonly<Record<string, ReadRule>> = {
  'stream-room-messages': roomMessages,
  'stream-notify-room': notifyRoom,
  'stream-notify-user': notifyUser,
  'stream-notify-logged': logged,
  'stream-notify-all': notifyAll,
  'stream-room-data': roomData,
  'stream-roles': logged,
};
