/**
 * In-memory collections (users, rooms, subscriptions, messages, trash) with the indexes the
 * simulator needs. Pure data: no events, no permission checks; services build on top of it.
 */
import type { DeletedMessage, SimMessage, SimRoom, SimSubscription, SimUser } from './types.js';

/** A removed subscription, kept for `subscriptions/get` with a date (its `remove` list). */
export interface RemovedSubscription {
  _id: string;
  rid: string;
  u: { _id: string; username: string };
  t: string;
  _deletedAt: Date;
}

export class Store {
  readonly users = new Map<string, SimUser>();
  readonly rooms = new Map<string, SimRoom>();
  readonly messages = new Map<string, SimMessage>();
  private readonly usersByName = new Map<string, SimUser>();
  private readonly subsByRoom = new Map<string, Map<string, SimSubscription>>();
  private readonly subsByUser = new Map<string, Map<string, SimSubscription>>();
  private readonly removedSubs: RemovedSubscription[] = [];
  private readonly messagesByRoom = new Map<string, SimMessage[]>();
  private readonly trash = new Map<string, DeletedMessage>();
  private readonly trashByRoom = new Map<string, DeletedMessage[]>();

  addUser(user: SimUser): void {
    this.users.set(user._id, user);
    this.usersByName.set(user.username.toLowerCase(), user);
  }

  userById(id: string): SimUser | undefined {
    return this.users.get(id);
  }

  userByUsername(username: string): SimUser | undefined {
    return this.usersByName.get(username.toLowerCase());
  }

  userByEmail(address: string): SimUser | undefined {
    const wanted = address.toLowerCase();
    for (const user of this.users.values()) {
      if (user.emails.some((email) => email.address.toLowerCase() === wanted)) {
        return user;
      }
    }
    return undefined;
  }

  addRoom(room: SimRoom): void {
    this.rooms.set(room._id, room);
  }

  room(rid: string): SimRoom | undefined {
    return this.rooms.get(rid);
  }

  /** Channels and groups by name (DMs have no name). */
  roomByName(name: string): SimRoom | undefined {
    for (const room of this.rooms.values()) {
      if (room.t !== 'd' && room.name === name) {
        return room;
      }
    }
    return undefined;
  }

  addSubscription(sub: SimSubscription): void {
    this.indexSub(this.subsByRoom, sub.rid, sub.u._id, sub);
    this.indexSub(this.subsByUser, sub.u._id, sub.rid, sub);
  }

  subscription(rid: string, uid: string): SimSubscription | undefined {
    return this.subsByRoom.get(rid)?.get(uid);
  }

  subscriptionsOfRoom(rid: string): SimSubscription[] {
    return [...(this.subsByRoom.get(rid)?.values() ?? [])];
  }

  subscriptionsOfUser(uid: string): SimSubscription[] {
    return [...(this.subsByUser.get(uid)?.values() ?? [])];
  }

  removeSubscription(rid: string, uid: string, at: Date): SimSubscription | undefined {
    const sub = this.subscription(rid, uid);
    if (!sub) {
      return undefined;
    }
    this.subsByRoom.get(rid)?.delete(uid);
    this.subsByUser.get(uid)?.delete(rid);
    this.removedSubs.push({
      _id: sub._id,
      rid,
      u: { _id: uid, username: sub.u.username },
      t: sub.t,
      _deletedAt: at,
    });
    return sub;
  }

  removedSubscriptionsOfUser(uid: string, since: Date): RemovedSubscription[] {
    return this.removedSubs.filter((sub) => sub.u._id === uid && sub._deletedAt > since);
  }

  insertMessage(message: SimMessage): void {
    this.messages.set(message._id, message);
    let list = this.messagesByRoom.get(message.rid);
    if (!list) {
      list = [];
      this.messagesByRoom.set(message.rid, list);
    }
    // Keep ascending `ts`; a client `ts` (accepted within 10 s) may land slightly out of order.
    let index = list.length;
    while (index > 0 && (list[index - 1]?.ts.getTime() ?? 0) > message.ts.getTime()) {
      index -= 1;
    }
    list.splice(index, 0, message);
  }

  message(mid: string): SimMessage | undefined {
    return this.messages.get(mid);
  }

  /** Live messages of a room, ascending `ts`. The array is the index itself: do not mutate. */
  roomMessages(rid: string): readonly SimMessage[] {
    return this.messagesByRoom.get(rid) ?? [];
  }

  /** Moves a message to the trash, as Rocket.Chat does (`_deletedAt` feeds syncMessages). */
  trashMessage(mid: string, at: Date): DeletedMessage | undefined {
    const message = this.messages.get(mid);
    if (!message) {
      return undefined;
    }
    this.messages.delete(mid);
    const list = this.messagesByRoom.get(message.rid);
    if (list) {
      const index = list.indexOf(message);
      if (index >= 0) {
        list.splice(index, 1);
      }
    }
    const deleted: DeletedMessage = { _id: mid, rid: message.rid, _deletedAt: at, message };
    this.trash.set(mid, deleted);
    let trashList = this.trashByRoom.get(message.rid);
    if (!trashList) {
      trashList = [];
      this.trashByRoom.set(message.rid, trashList);
    }
    trashList.push(deleted);
    return deleted;
  }

  /** Deleted messages of a room, ascending `_deletedAt`. */
  deletedMessages(rid: string): readonly DeletedMessage[] {
    return this.trashByRoom.get(rid) ?? [];
  }

  private indexSub(
    index: Map<string, Map<string, SimSubscription>>,
    outer: string,
    inner: string,
    sub: SimSubscription,
  ): void {
    let map = index.get(outer);
    if (!map) {
      map = new Map();
      index.set(outer, map);
    }
    map.set(inner, sub);
  }
}
