/**
 * Changes to existing messages: edit (RC updateMessage), delete (RC deleteMessage, trash +
 * `<rid>/deleteMessage`), reactions (RC setReaction). Every change bumps `_updatedAt` and re-emits
 * the full message on stream-room-messages with the same `_id`.
 */
import type { Clock } from './clock.js';
import { deriveFromText } from './message-factory.js';
import type { MessageService } from './message-service.js';
import { MeteorError } from './meteor-error.js';
import type { Notifier } from './notifier.js';
import { canAccessRoom, hasPermission } from './permissions.js';
import type { Store } from './store.js';
import type { SimMessage, SimRoom, SimUser } from './types.js';

const UPDATE_KEYS = new Set(['_id', 'rid', 'msg', 'customFields', 'content', 'e2eMentions']);

export class MessageEdits {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    private readonly messages: MessageService,
  ) {}

  /** RC `executeUpdateMessage`. Missing message or unchanged text: silent no-op (void). */
  update(user: SimUser, input: Record<string, unknown>): void {
    if (Object.keys(input).some((key) => !UPDATE_KEYS.has(key))) {
      throw new MeteorError('error-invalid-update-key', 'Invalid update key', { method: 'updateMessage' });
    }
    const original = typeof input['_id'] === 'string' ? this.store.message(input['_id']) : undefined;
    if (!original) {
      return;
    }
    const text = typeof input['msg'] === 'string' ? input['msg'] : original.msg;
    const canEditAny = hasPermission(this.store, user._id, 'edit-message', original.rid);
    if (!canEditAny && original.u._id !== user._id) {
      throw new MeteorError('error-action-not-allowed', 'Message editing not allowed', {
        method: 'updateMessage',
        action: 'Message_editing',
      });
    }
    // Plain Error on purpose: Rocket.Chat lets canSendMessage's errors escape (masked as 500).
    this.messages.canSendMessage(original.rid, user);
    if (text === original.msg && input['customFields'] === undefined) {
      return;
    }
    this.applyEdit(original, user, text);
  }

  /** Edit without permission checks (control API). */
  applyEdit(message: SimMessage, editor: SimUser, text: string): SimMessage {
    const author = this.store.userById(message.u._id) ?? editor;
    const derived = deriveFromText(this.store, text, author);
    const now = this.clock.date();
    message.msg = text;
    message.urls = derived.urls;
    message.mentions = derived.mentions;
    message.channels = derived.channels;
    message.md = derived.md;
    message.editedAt = now;
    message.editedBy = { _id: editor._id, username: editor.username };
    message._updatedAt = now;
    this.notifier.roomMessage(message);
    this.refreshLastMessage(message);
    return message;
  }

  /** RC `deleteMessage` method: own messages with `delete-own-message`, others with `delete-message`. */
  delete(user: SimUser, mid: unknown): void {
    const original = typeof mid === 'string' ? this.store.message(mid) : undefined;
    const allowed =
      original &&
      (hasPermission(this.store, user._id, 'delete-message', original.rid) ||
        (original.u._id === user._id && hasPermission(this.store, user._id, 'delete-own-message')));
    if (!original || !allowed) {
      throw new MeteorError('error-action-not-allowed', 'Not allowed', {
        method: 'deleteMessage',
        action: 'Delete_message',
      });
    }
    this.applyDelete(original);
  }

  /** Moves the message to the trash and emits `<rid>/deleteMessage` (no permission checks). */
  applyDelete(message: SimMessage): void {
    const deleted = this.store.trashMessage(message._id, this.clock.date());
    if (!deleted) {
      return;
    }
    const room = this.store.room(message.rid);
    if (message.tmid) {
      const parent = this.store.message(message.tmid);
      if (parent?.tcount) {
        parent.tcount -= 1;
        parent._updatedAt = this.clock.date();
        this.notifier.roomMessage(parent);
      }
    }
    this.notifier.deleteMessage(message.rid, message._id);
    if (room) {
      this.afterRemoval(room, 1, room.lastMessage?._id === message._id);
    }
  }

  /**
   * RC `cleanRoomHistory` (prune): trashes the messages and emits one `<rid>/deleteMessageBulk`
   * `{rid, excludePinned, ignoreDiscussion, ts: {$gte, $lte}, users, ids}` instead of per-message events.
   */
  applyBulkDelete(rid: string, ids: readonly string[]): string[] {
    const messages = ids.map((id) => this.store.message(id)).filter((m): m is SimMessage => m?.rid === rid);
    if (messages.length === 0) {
      return [];
    }
    const at = this.clock.date();
    for (const message of messages) {
      this.store.trashMessage(message._id, at);
    }
    const times = messages.map((m) => m.ts.getTime());
    const deletedIds = messages.map((m) => m._id);
    this.notifier.notifyRoom(rid, 'deleteMessageBulk', [
      {
        rid,
        excludePinned: false,
        ignoreDiscussion: true,
        ts: { $gte: new Date(Math.min(...times)), $lte: new Date(Math.max(...times)) },
        users: [],
        ids: deletedIds,
      },
    ]);
    const room = this.store.room(rid);
    if (room) {
      this.afterRemoval(room, messages.length, true);
    }
    return deletedIds;
  }

  /** RC `executeSetReaction`: toggles unless `shouldReact` says which way. */
  react(user: SimUser, reaction: string, mid: string, shouldReact?: boolean): void {
    const message = this.store.message(mid);
    const room = message && this.store.room(message.rid);
    if (!message || !room) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'setReaction' });
    }
    if (!canAccessRoom(this.store, room, user._id)) {
      throw new MeteorError('not-authorized', 'Not Authorized', { method: 'setReaction' });
    }
    const emoji = `:${reaction.replace(/:/g, '')}:`;
    if (!/^:[\w+-]+:$/.test(emoji)) {
      throw new MeteorError('error-not-allowed', 'Invalid emoji provided.', { method: 'setReaction' });
    }
    if (room.muted?.includes(user.username)) {
      throw new MeteorError('error-not-allowed', 'You have been muted and cannot speak in this room', {
        rid: room._id,
      });
    }
    this.applyReaction(message, user, emoji, shouldReact);
  }

  applyReaction(message: SimMessage, user: SimUser, emoji: string, shouldReact?: boolean): void {
    const reactions = message.reactions ?? {};
    const current = reactions[emoji]?.usernames ?? [];
    const reacted = current.includes(user.username);
    if (shouldReact !== undefined && reacted === shouldReact) {
      return;
    }
    if (reacted) {
      const rest = current.filter((name) => name !== user.username);
      if (rest.length > 0) {
        reactions[emoji] = { usernames: rest };
      } else {
        delete reactions[emoji];
      }
    } else {
      reactions[emoji] = { usernames: [...current, user.username] };
    }
    if (Object.keys(reactions).length > 0) {
      message.reactions = reactions;
    } else {
      delete message.reactions;
    }
    message._updatedAt = this.clock.date();
    this.notifier.roomMessage(message);
    this.refreshLastMessage(message);
  }

  /**
   * A room after `count` of its messages were removed: the count goes down and, when the last
   * message may be among them, the newest remaining one shown in the room list takes its place.
   */
  private afterRemoval(room: SimRoom, count: number, mayHaveRemovedLast: boolean): void {
    room.msgs = Math.max(0, room.msgs - count);
    if (mayHaveRemovedLast) {
      const remaining = this.store.roomMessages(room._id).filter((m) => !m.tmid || m.tshow);
      const last = remaining[remaining.length - 1];
      if (last) {
        room.lastMessage = last;
        room.lm = last.ts;
      } else {
        delete room.lastMessage;
      }
    }
    room._updatedAt = this.clock.date();
    this.notifier.roomChanged(room, 'updated');
  }

  private refreshLastMessage(message: SimMessage): void {
    const room = this.store.room(message.rid);
    if (room?.lastMessage?._id === message._id) {
      room.lastMessage = message;
      room._updatedAt = this.clock.date();
      this.notifier.roomChanged(room, 'updated');
    }
  }
}
