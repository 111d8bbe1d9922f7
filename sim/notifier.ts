/**
 * Domain events → stream frames, with the payload shapes of RC listeners.module.ts /
 * notifications.module.ts (docs/simulator-protocol.md §2.2).
 */
import { stringifyEJSON } from './ejson.js';
import { canAccessRoom } from './permissions.js';
import type { Store } from './store.js';
import { type StreamHub, type StreamSink, streamFrame } from './stream-hub.js';
import type { SimMessage, SimRoom, SimSubscription, SimUser, UserStatus } from './types.js';

export const STATUS_MAP: Record<UserStatus, number> = { offline: 0, online: 1, away: 2, busy: 3 };

export type ChangeAction = 'inserted' | 'updated' | 'removed';

export class Notifier {
  constructor(
    private readonly store: Store,
    private readonly hub: StreamHub,
  ) {}

  /** Insert or update of a message: `__my_messages__` first, then `<rid>` (listeners.module `watch.messages`). */
  roomMessage(message: SimMessage): void {
    const room = this.store.room(message.rid);
    if (this.hub.hasSubscribers('stream-room-messages', '__my_messages__') && room) {
      const cache = new Map<string, string>();
      this.hub.emitEach('stream-room-messages', '__my_messages__', (sub) => {
        const userId = sub.sink.userId;
        if (!userId || !canAccessRoom(this.store, room, userId)) {
          return undefined;
        }
        const allowed = {
          roomParticipant: this.store.subscription(room._id, userId) !== undefined,
          roomType: room.t,
          roomName: room.name,
        };
        const cacheKey = `${allowed.roomParticipant}`;
        let frame = cache.get(cacheKey);
        if (!frame) {
          frame = streamFrame('stream-room-messages', '__my_messages__', [message, allowed]);
          cache.set(cacheKey, frame);
        }
        return frame;
      });
    }
    this.hub.emit('stream-room-messages', message.rid, [message]);
  }

  deleteMessage(rid: string, mid: string): void {
    this.notifyRoom(rid, 'deleteMessage', [{ _id: mid }]);
  }

  notifyRoom(rid: string, event: string, args: readonly unknown[], origin?: StreamSink): void {
    this.hub.emit('stream-notify-room', `${rid}/${event}`, args, origin ? { origin } : {});
  }

  notifyUser(uid: string, event: string, args: readonly unknown[], origin?: StreamSink): void {
    this.hub.emit('stream-notify-user', `${uid}/${event}`, args, origin ? { origin } : {});
  }

  notifyLogged(event: string, args: readonly unknown[]): void {
    this.hub.emit('stream-notify-logged', event, args);
  }

  notifyAll(event: string, args: readonly unknown[]): void {
    this.hub.emit('stream-notify-all', event, args);
  }

  /** `<uid>/rooms-changed` to every member (or the given users), plus `stream-room-data`. */
  roomChanged(room: SimRoom, action: ChangeAction, uids?: readonly string[]): void {
    const targets = uids ?? this.store.subscriptionsOfRoom(room._id).map((sub) => sub.u._id);
    // The eventName embeds the uid, so each member gets its own frame.
    for (const uid of targets) {
      this.notifyUser(uid, 'rooms-changed', [action, room]);
    }
    this.hub.emit('stream-room-data', room._id, [room]);
  }

  /** `<uid>/subscriptions-changed` (listeners.module `watch.subscriptions`). */
  subscriptionChanged(sub: SimSubscription, action: 'inserted' | 'updated'): void {
    this.notifyUser(sub.u._id, 'subscriptions-changed', [action, sub]);
  }

  subscriptionRemoved(sub: SimSubscription): void {
    this.notifyUser(sub.u._id, 'subscriptions-changed', [
      'removed',
      { _id: sub._id, u: { _id: sub.u._id, username: sub.u.username }, rid: sub.rid, t: sub.t },
    ]);
  }

  /** listeners.module `presence.status`: userData to the user, `user-status` to everyone logged in, presence stream. */
  userStatus(user: SimUser): void {
    this.notifyUser(user._id, 'userData', [
      {
        type: 'updated',
        id: user._id,
        diff: { status: user.status, ...(user.statusText && { statusText: user.statusText }) },
        unset: {},
      },
    ]);
    this.notifyLogged('user-status', [
      [user._id, user.username, STATUS_MAP[user.status], user.statusText, user.name, user.roles],
    ]);
    const frame = stringifyEJSON({
      msg: 'changed',
      collection: 'stream-user-presence',
      id: user._id,
      fields: {
        uid: user._id,
        args: [user.username, STATUS_MAP[user.status], user.statusText],
        eventName: user._id,
      },
    });
    this.hub.emitEach('stream-user-presence', user._id, () => frame);
  }

  forceLogout(uid: string): void {
    this.notifyUser(uid, 'force_logout', []);
  }

  /** `notify.ephemeralMessage`: a private bot message from rocket.cat to one user. */
  ephemeral(uid: string, rid: string, msg: string, md: unknown[], now: Date): void {
    this.notifyUser(uid, 'message', [
      {
        groupable: false,
        u: { _id: 'rocket.cat', username: 'rocket.cat' },
        private: true,
        _id: String(now.getTime()),
        rid,
        ts: now,
        _updatedAt: now,
        msg,
        md,
      },
    ]);
  }

  rolesChange(type: 'added' | 'removed', role: string, user: SimUser, scope: string): void {
    this.notifyLogged('roles-change', [
      { type, _id: role, u: { _id: user._id, username: user.username, name: user.name }, scope },
    ]);
  }
}
