/**
 * Rooms and memberships (RC createRoom, addUserToRoom, removeUserFromRoom, roles, archive,
 * favourites, read marks). Every change emits `<uid>/rooms-changed` and/or
 * `<uid>/subscriptions-changed` to the members concerned.
 */
import type { Clock } from './clock.js';
import { randomId } from './ids.js';
import type { MessageService } from './message-service.js';
import { MeteorError } from './meteor-error.js';
import type { Notifier } from './notifier.js';
import type { Store } from './store.js';
import type { StreamHub } from './stream-hub.js';
import type { RoomRole, RoomType, SimRoom, SimSubscription, SimUser } from './types.js';

/** Setting `UTF8_Channel_Names_Validation`. */
const CHANNEL_NAME = /^[0-9a-zA-Z\-_.]+$/;

export interface CreateRoomInput {
  t: 'c' | 'p';
  name: string;
  owner?: SimUser;
  members: SimUser[];
  readOnly?: boolean;
  customFields?: Record<string, unknown>;
  /** Fixed id (seed `GENERAL`); random otherwise. */
  _id?: string;
  default?: boolean;
}

export class RoomService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    private readonly hub: StreamHub,
    private readonly messages: MessageService,
  ) {}

  /** RC `createRoom` for channels and groups; the creator becomes owner. */
  createRoom(input: CreateRoomInput): SimRoom {
    if (!CHANNEL_NAME.test(input.name)) {
      throw new MeteorError('error-invalid-name', 'Invalid name', {
        function: 'RocketChat.createRoom',
        channel_name: input.name,
      });
    }
    if (this.store.roomByName(input.name)) {
      throw new MeteorError('error-duplicate-channel-name', `A channel with name '${input.name}' exists`, {
        function: 'RocketChat.createRoom',
        channel_name: input.name,
      });
    }
    const now = this.clock.date();
    const room: SimRoom = {
      _id: input._id ?? randomId(),
      fname: input.name,
      t: input.t,
      name: input.name,
      ...(input.owner ? { u: { _id: input.owner._id, username: input.owner.username } } : {}),
      usersCount: 0,
      msgs: 0,
      ts: now,
      _updatedAt: now,
      default: input.default ?? false,
      ro: input.readOnly ?? false,
      sysMes: true,
      ...(input.customFields ? { customFields: input.customFields } : {}),
    };
    this.store.addRoom(room);
    const members = new Map<string, SimUser>();
    if (input.owner) {
      members.set(input.owner._id, input.owner);
    }
    for (const member of input.members) {
      members.set(member._id, member);
    }
    for (const member of members.values()) {
      this.addMember(room, member, { roles: member._id === input.owner?._id ? ['owner'] : [] });
    }
    return room;
  }

  /**
   * RC `createDirectRoom`: `uids` sorted, `usernames` sorted by display name, and the rid is the two
   * sorted ids concatenated for a two-person DM (random otherwise). Returns the existing DM if any.
   */
  createDirect(users: SimUser[]): SimRoom {
    const unique = [...new Map(users.map((user) => [user._id, user])).values()];
    const uids = unique.map((user) => user._id).sort();
    const existing = [...this.store.rooms.values()].find(
      (room) =>
        room.t === 'd' && room.uids?.length === uids.length && room.uids.every((uid, i) => uid === uids[i]),
    );
    if (existing) {
      for (const user of unique) {
        this.setOpen(user._id, existing._id, true);
      }
      return existing;
    }
    const byName = [...unique].sort((a, b) => (a.name || a.username).localeCompare(b.name || b.username));
    const now = this.clock.date();
    const room: SimRoom = {
      _id: uids.length === 2 ? uids.join('') : randomId(),
      t: 'd',
      usernames: byName.map((user) => user.username),
      uids,
      usersCount: unique.length,
      msgs: 0,
      ts: now,
      _updatedAt: now,
      default: false,
      ro: false,
      sysMes: true,
    };
    this.store.addRoom(room);
    for (const user of unique) {
      const other = unique.find((candidate) => candidate._id !== user._id) ?? user;
      this.insertSubscription(room, user, { name: other.username, fname: other.name });
    }
    return room;
  }

  /** Adds a subscription; `system` posts `uj`/`au` like a join or an add. Returns undefined if already a member. */
  addMember(
    room: SimRoom,
    user: SimUser,
    options: { roles?: RoomRole[]; system?: 'uj' | 'au'; actor?: SimUser } = {},
  ): SimSubscription | undefined {
    if (this.store.subscription(room._id, user._id)) {
      return undefined;
    }
    const sub = this.insertSubscription(room, user, {
      name: room.name ?? '',
      fname: room.fname ?? room.name ?? '',
      roles: options.roles ?? [],
    });
    room.usersCount += 1;
    room._updatedAt = this.clock.date();
    this.notifier.roomChanged(room, 'updated', this.memberIds(room, user._id));
    if (options.system && room.sysMes) {
      this.messages.insertSystem(room, options.system, options.actor ?? user, user.username);
    }
    return sub;
  }

  /** Removes a subscription, posts `ul`, and silently drops the user's stream on that room. */
  removeMember(room: SimRoom, user: SimUser, system: 'ul' | 'ru' | undefined = 'ul'): void {
    const sub = this.store.removeSubscription(room._id, user._id, this.clock.date());
    if (!sub) {
      return;
    }
    room.usersCount = Math.max(0, room.usersCount - 1);
    this.notifier.subscriptionRemoved(sub);
    // notifications.module `_afterPublish`: the `<rid>` stream of that user stops without a nosub.
    this.hub.detach(
      (s) => s.stream === 'stream-room-messages' && s.eventName === room._id && s.sink.userId === user._id,
    );
    if (system && room.sysMes) {
      this.messages.insertSystem(room, system, user, user.username);
    } else {
      room._updatedAt = this.clock.date();
      this.notifier.roomChanged(room, 'updated');
    }
  }

  setRole(room: SimRoom, target: SimUser, role: RoomRole, add: boolean, actor: SimUser): void {
    const sub = this.store.subscription(room._id, target._id);
    if (!sub) {
      return;
    }
    const roles = new Set(sub.roles ?? []);
    if (add) {
      roles.add(role);
    } else {
      roles.delete(role);
    }
    sub.roles = [...roles];
    this.touchSubscription(sub);
    this.messages.insertSystem(
      room,
      add ? 'subscription-role-added' : 'subscription-role-removed',
      actor,
      target.username,
      {
        role,
      },
    );
    this.notifier.rolesChange(add ? 'added' : 'removed', role, target, room._id);
  }

  setArchived(room: SimRoom, archived: boolean, actor: SimUser): void {
    if (archived) {
      room.archived = true;
    } else {
      delete room.archived;
    }
    for (const sub of this.store.subscriptionsOfRoom(room._id)) {
      if (archived) {
        sub.archived = true;
        sub.open = false;
      } else {
        delete sub.archived;
        sub.open = true;
      }
      this.touchSubscription(sub);
    }
    this.messages.insertSystem(room, archived ? 'room-archived' : 'room-unarchived', actor, actor.username);
  }

  /** Returns the Mongo `modifiedCount` (toggleFavorite's result). */
  setFavorite(uid: string, rid: string, favorite: boolean): number {
    const sub = this.store.subscription(rid, uid);
    if (!sub || (sub.f ?? false) === favorite) {
      return 0;
    }
    sub.f = favorite;
    this.touchSubscription(sub);
    return 1;
  }

  setOpen(uid: string, rid: string, open: boolean): number {
    const sub = this.store.subscription(rid, uid);
    if (!sub || sub.open === open) {
      return 0;
    }
    sub.open = open;
    this.touchSubscription(sub);
    return 1;
  }

  /** RC `readMessages`: `ls`/`lr` now, counters and alert cleared. */
  markRead(uid: string, rid: string): void {
    const sub = this.store.subscription(rid, uid);
    if (!sub) {
      return;
    }
    const now = this.clock.date();
    Object.assign(sub, { ls: now, lr: now, unread: 0, alert: false, userMentions: 0, groupMentions: 0 });
    this.touchSubscription(sub);
  }

  /** Bumps `_updatedAt` and announces a room whose fields were changed by the caller. */
  touchRoom(room: SimRoom): void {
    room._updatedAt = this.clock.date();
    this.notifier.roomChanged(room, 'updated');
  }

  touchSubscription(sub: SimSubscription): void {
    sub._updatedAt = this.clock.date();
    this.notifier.subscriptionChanged(sub, 'updated');
  }

  /** Renames every subscription of a room (saveRoomSettings roomName). */
  renameSubscriptions(room: SimRoom): void {
    for (const sub of this.store.subscriptionsOfRoom(room._id)) {
      sub.name = room.name ?? sub.name;
      sub.fname = room.fname ?? sub.fname ?? sub.name;
      sub.t = room.t;
      this.touchSubscription(sub);
    }
  }

  private insertSubscription(
    room: SimRoom,
    user: SimUser,
    fields: { name: string; fname: string; roles?: RoomRole[] },
  ): SimSubscription {
    const now = this.clock.date();
    const sub: SimSubscription = {
      _id: randomId(),
      open: true,
      alert: false,
      unread: 0,
      userMentions: 0,
      groupMentions: 0,
      ts: now,
      rid: room._id,
      name: fields.name,
      fname: fields.fname,
      t: room.t as RoomType,
      u: { _id: user._id, username: user.username, name: user.name },
      ls: now,
      _updatedAt: now,
      ...(fields.roles && fields.roles.length > 0 ? { roles: fields.roles } : {}),
    };
    this.store.addSubscription(sub);
    this.notifier.subscriptionChanged(sub, 'inserted');
    // On a new subscription the room is sent to that user as `inserted` (notifications.module).
    this.notifier.roomChanged(room, 'inserted', [user._id]);
    return sub;
  }

  private memberIds(room: SimRoom, except: string): string[] {
    return this.store
      .subscriptionsOfRoom(room._id)
      .map((sub) => sub.u._id)
      .filter((uid) => uid !== except);
  }
}
