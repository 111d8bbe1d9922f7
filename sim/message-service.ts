/**
 * Message creation: `sendMessage` semantics (RC app/lib/server/methods/sendMessage.ts and
 * functions/sendMessage.ts), system messages, and the cheap bulk path used by `flood`.
 */
import type { Clock } from './clock.js';
import { randomId } from './ids.js';
import { parseMessageText } from './markdown.js';
import { buildMessage, type MessageInput } from './message-factory.js';
import { MeteorError } from './meteor-error.js';
import type { Notifier } from './notifier.js';
import { canAccessRoom, hasPermission } from './permissions.js';
import type { Store } from './store.js';
import type { SimMessage, SimRoom, SimUser } from './types.js';

/** English texts of the i18n keys Rocket.Chat uses for its ephemeral error messages. */
const EPHEMERAL_TEXTS: Record<string, string> = {
  'error-invalid-room': 'Invalid room',
  'error-not-allowed': 'Not allowed',
  room_is_archived: 'This room is archived',
  room_is_blocked: 'This room is blocked',
  You_have_been_muted: 'You have been muted and cannot speak in this room',
};

export interface MessageServiceOptions {
  /** Setting `Message_MaxAllowedSize`. @defaultValue 5000 */
  maxMessageSize: number;
}

export interface FloodResult {
  count: number;
  firstId?: string;
  lastId?: string;
  elapsedMs: number;
}

export class MessageService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    private readonly options: MessageServiceOptions,
  ) {}

  /**
   * RC `executeSendMessage`: validation, `canSendMessage`, insert. Errors raised while checking the
   * room or saving are also shown to the user as an ephemeral rocket.cat message, then rethrown.
   * Returns undefined when a message with the client `_id` already exists (nothing is inserted).
   */
  executeSend(user: SimUser, input: MessageInput): SimMessage | undefined {
    if (input.tshow && !input.tmid) {
      throw new MeteorError('invalid-params', 'tshow provided but missing tmid', { method: 'sendMessage' });
    }
    const now = this.clock.now();
    let ts = new Date(now);
    if (input.ts) {
      const drift = Math.abs(input.ts.getTime() - now);
      if (drift > 60_000) {
        throw new MeteorError('error-message-ts-out-of-sync', 'Message timestamp is out of sync', {
          method: 'sendMessage',
          message_ts: input.ts,
          server_ts: now,
        });
      }
      ts = drift > 10_000 ? ts : input.ts;
    }
    if (input.msg && input.msg.length > this.options.maxMessageSize) {
      throw new MeteorError('error-message-size-exceeded', 'Message size exceeds Message_MaxAllowedSize', {
        method: 'sendMessage',
      });
    }
    let rid = input.rid;
    let tmid = input.tmid;
    if (tmid) {
      // No nested threads: a reply to a reply goes to the root.
      const parent = this.store.message(tmid);
      tmid = parent?.tmid ?? tmid;
      rid = parent?.rid ?? rid;
    }
    if (!rid) {
      throw new Error("The 'rid' property on the message object is missing.");
    }
    try {
      const room = this.canSendMessage(rid, user);
      return this.insert(user, room, { ...input, rid, ts, ...(tmid ? { tmid } : {}) });
    } catch (err) {
      const key =
        err instanceof MeteorError ? String(err.error) : err instanceof Error ? err.message : String(err);
      const text = EPHEMERAL_TEXTS[key] ?? key;
      this.notifier.ephemeral(user._id, input.rid, text, parseMessageText(text).md, this.clock.date());
      throw err;
    }
  }

  /** RC `canSendMessageAsync`; throws plain Errors whose message is an i18n key, as Rocket.Chat does. */
  canSendMessage(rid: string, user: SimUser): SimRoom {
    const room = this.store.room(rid);
    if (!room) {
      throw new Error('error-invalid-room');
    }
    if (room.archived) {
      throw new Error('room_is_archived');
    }
    if (!canAccessRoom(this.store, room, user._id)) {
      throw new Error('error-not-allowed');
    }
    if (room.ro && !hasPermission(this.store, user._id, 'post-readonly', room._id)) {
      throw new Error("You can't send messages because the room is readonly.");
    }
    if (room.muted?.includes(user.username)) {
      throw new Error('You_have_been_muted');
    }
    return room;
  }

  /** Stores a message and emits everything a real insert causes. No permission checks. */
  insert(user: SimUser, room: SimRoom, input: MessageInput): SimMessage | undefined {
    if (input._id && this.store.message(input._id)) {
      // RC functions/sendMessage.ts: an existing `_id` is a silent no-op (idempotent retries).
      return undefined;
    }
    const updatedAt = this.clock.date();
    const message = buildMessage(
      this.store,
      user,
      { ...input, rid: room._id, _id: input._id ?? randomId(), ts: input.ts ?? updatedAt },
      updatedAt,
    );
    this.store.insertMessage(message);
    this.notifier.roomMessage(message);
    if (message.tmid) {
      this.bumpThread(message);
    }
    this.afterInsert(room, message, user);
    return message;
  }

  /** A system message (`uj`, `ul`, `room-archived`, `subscription-role-added`, ...). */
  insertSystem(
    room: SimRoom,
    t: string,
    actor: SimUser,
    msg: string,
    extra: Partial<SimMessage> = {},
  ): SimMessage {
    const now = this.clock.date();
    const message: SimMessage = {
      _id: randomId(),
      t,
      rid: room._id,
      ts: now,
      msg,
      u: { _id: actor._id, username: actor.username, name: actor.name },
      groupable: false,
      ...extra,
      _updatedAt: now,
    };
    this.store.insertMessage(message);
    this.notifier.roomMessage(message);
    room.msgs += 1;
    room.lm = now;
    room.lastMessage = message;
    room._updatedAt = this.clock.date();
    this.notifier.roomChanged(room, 'updated');
    return message;
  }

  /**
   * Emits `count` plain messages as fast as possible (benchmarks). Each message is stored and sent
   * on stream-room-messages (one serialization per event); room and subscription counters are
   * updated silently and announced once at the end instead of once per message.
   */
  flood(room: SimRoom, user: SimUser, count: number, text = 'flood'): FloodResult {
    const started = performance.now();
    let first: SimMessage | undefined;
    let last: SimMessage | undefined;
    for (let i = 1; i <= count; i += 1) {
      const now = this.clock.date();
      const message = buildMessage(
        this.store,
        user,
        { rid: room._id, _id: randomId(), ts: now, msg: `${text} ${i}` },
        now,
      );
      this.store.insertMessage(message);
      this.notifier.roomMessage(message);
      first ??= message;
      last = message;
    }
    if (last) {
      room.msgs += count;
      room.lm = last.ts;
      room.lastMessage = last;
      room._updatedAt = this.clock.date();
      this.notifier.roomChanged(room, 'updated');
      for (const sub of this.store.subscriptionsOfRoom(room._id)) {
        if (sub.u._id !== user._id) {
          sub.unread += count;
          sub.alert = true;
          sub._updatedAt = this.clock.date();
          this.notifier.subscriptionChanged(sub, 'updated');
        }
      }
    }
    return {
      count,
      ...(first ? { firstId: first._id } : {}),
      ...(last ? { lastId: last._id } : {}),
      elapsedMs: performance.now() - started,
    };
  }

  private bumpThread(reply: SimMessage): void {
    const parent = reply.tmid ? this.store.message(reply.tmid) : undefined;
    if (!parent) {
      return;
    }
    parent.tcount = (parent.tcount ?? 0) + 1;
    parent.tlm = reply.ts;
    parent.replies = [...new Set([...(parent.replies ?? []), reply.u._id])];
    parent._updatedAt = this.clock.date();
    this.notifier.roomMessage(parent);
  }

  /** Room counters, last message, members' unread/alert and desktop notifications. */
  private afterInsert(room: SimRoom, message: SimMessage, sender: SimUser): void {
    const visibleInRoom = !message.tmid || message.tshow === true;
    room.msgs += 1;
    if (visibleInRoom) {
      room.lm = message.ts;
      room.lastMessage = message;
    }
    room._updatedAt = this.clock.date();
    this.notifier.roomChanged(room, 'updated');

    const mentioned = new Set((message.mentions ?? []).map((mention) => mention._id));
    const groupMention = mentioned.has('all') || mentioned.has('here');
    for (const sub of this.store.subscriptionsOfRoom(room._id)) {
      const uid = sub.u._id;
      if (uid === sender._id) {
        continue;
      }
      if (visibleInRoom) {
        sub.unread += 1;
      }
      sub.alert = true;
      sub.open = true;
      if (mentioned.has(uid)) {
        sub.userMentions += 1;
      }
      if (groupMention) {
        sub.groupMentions += 1;
      }
      sub._updatedAt = this.clock.date();
      this.notifier.subscriptionChanged(sub, 'updated');
      if (room.t === 'd' || mentioned.has(uid) || groupMention) {
        this.notifier.notifyUser(uid, 'notification', [this.desktopNotification(room, message, sender)]);
      }
    }
  }

  /** INotificationDesktop (RC sendNotificationsOnMessage `notifyDesktopUser`). */
  private desktopNotification(room: SimRoom, message: SimMessage, sender: SimUser): Record<string, unknown> {
    const isDirect = room.t === 'd';
    return {
      title: isDirect ? sender.name : `#${room.name ?? ''}`,
      text: isDirect ? message.msg : `${sender.username}: ${message.msg}`,
      payload: {
        _id: message._id,
        rid: message.rid,
        ...(message.tmid ? { tmid: message.tmid } : {}),
        sender: message.u,
        type: room.t,
        name: isDirect ? sender.username : room.name,
        message: { msg: message.msg, ...(message.t ? { t: message.t } : {}) },
      },
    };
  }
}
