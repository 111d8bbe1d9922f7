/**
 * Presence methods and the `stream-*` emit methods (streamer `initMethod`: write-allowed events
 * are forwarded to other subscribers, never echoed to the caller; refused writes do nothing).
 */

import { MeteorError, matchFailed } from './meteor-error.js';
import { checkString, requireUser } from './method-helpers.js';
import type { MethodHandler, MethodInvocation, MethodTable } from './method-types.js';
import { STREAM_READ_RULES } from './stream-access.js';
import type { UserStatus } from './types.js';

const STATUSES: readonly UserStatus[] = ['online', 'away', 'busy', 'offline'];

/** RC notifications.module `streamRoom.allowWrite` (+ typing ⇄ user-activity compatibility re-emit). */
function notifyRoomWrite(invocation: MethodInvocation, eventName: string, args: unknown[]): void {
  const { ctx, connection, userId } = invocation;
  const [rid = '', event] = eventName.split('/');
  if (event !== 'webrtc') {
    if (event !== 'typing' && event !== 'user-activity') {
      return;
    }
    const user = userId ? ctx.store.userById(userId) : undefined;
    const [username, activity, extraData] = args;
    if (!user || user.username !== username) {
      return;
    }
    if (
      event === 'user-activity' &&
      Array.isArray(activity) &&
      (activity.length === 0 || activity.includes('user-typing'))
    ) {
      ctx.notifier.notifyRoom(rid, 'typing', [username, activity.includes('user-typing')], connection);
    } else if (event === 'typing') {
      ctx.notifier.notifyRoom(
        rid,
        'user-activity',
        [username, activity ? ['user-typing'] : [], extraData],
        connection,
      );
    }
  }
  ctx.hub.emit('stream-notify-room', eventName, args, { origin: connection });
}

function streamMethod(stream: string): MethodHandler {
  return (invocation, params) => {
    const [eventName, ...args] = params;
    if (typeof eventName !== 'string') {
      throw matchFailed();
    }
    if (stream === 'stream-notify-room') {
      notifyRoomWrite(invocation, eventName, args);
    } else if (stream === 'stream-notify-user' && (invocation.userId || eventName.endsWith('/webrtc'))) {
      invocation.ctx.hub.emit(stream, eventName, args, { origin: invocation.connection });
    }
    return undefined;
  };
}

export const MISC_METHODS: MethodTable = {
  'UserPresence:setDefaultStatus'(invocation, [status]) {
    const value = checkString(status);
    const user = requireUser(invocation, 'UserPresence:setDefaultStatus');
    if (!STATUSES.includes(value as UserStatus)) {
      throw new MeteorError('error-invalid-status', 'Invalid status', {
        method: 'UserPresence:setDefaultStatus',
      });
    }
    invocation.ctx.presence.setDefaultStatus(user._id, value as UserStatus);
    return true;
  },

  'UserPresence:away'(invocation) {
    if (invocation.userId) {
      invocation.ctx.presence.setConnectionStatus(
        invocation.userId,
        invocation.connection.connectionId,
        'away',
      );
    }
    return undefined;
  },

  'UserPresence:online'(invocation) {
    if (invocation.userId) {
      invocation.ctx.presence.setConnectionStatus(
        invocation.userId,
        invocation.connection.connectionId,
        'online',
      );
    }
    return undefined;
  },

  ...Object.fromEntries(
    [...Object.keys(STREAM_READ_RULES), 'stream-user-presence'].map((name) => [name, streamMethod(name)]),
  ),
};
