/**
 * Room methods for members: lookups, creation, join/leave, favourite/hide/open, read marks.
 */

import { MeteorError, matchFailed } from './meteor-error.js';
import {
  checkOptionalBoolean,
  checkString,
  checkStringArray,
  requireRoom,
  requireUser,
} from './method-helpers.js';
import type { MethodInvocation, MethodTable } from './method-types.js';
import { canAccessRoom, hasPermission } from './permissions.js';
import type { SimRoom, SimUser } from './types.js';

function readableRoom(invocation: MethodInvocation, rid: string, method: string): SimRoom {
  const { ctx, userId } = invocation;
  const room = ctx.store.room(rid);
  if (!userId || !room || !canAccessRoom(ctx.store, room, userId)) {
    throw new MeteorError('error-not-allowed', 'Not allowed', { method });
  }
  return room;
}

function create(invocation: MethodInvocation, t: 'c' | 'p', params: unknown[]): Record<string, unknown> {
  const method = t === 'c' ? 'createChannel' : 'createPrivateGroup';
  const [name, members, readOnly, customFields] = params;
  const roomName = checkString(name);
  const usernames = checkStringArray(members);
  const user = requireUser(invocation, method);
  const { ctx } = invocation;
  if (!hasPermission(ctx.store, user._id, t === 'c' ? 'create-c' : 'create-p')) {
    throw new MeteorError('error-not-allowed', 'Not allowed', { method });
  }
  const memberUsers = usernames
    .map((username) => ctx.store.userByUsername(username))
    .filter((member): member is SimUser => member !== undefined);
  const room = ctx.rooms.createRoom({
    t,
    name: roomName,
    owner: user,
    members: memberUsers,
    readOnly: readOnly === true,
    ...(customFields && typeof customFields === 'object'
      ? { customFields: customFields as Record<string, unknown> }
      : {}),
  });
  return { rid: room._id, inserted: true, ...room };
}

export const ROOM_METHODS: MethodTable = {
  getRoomById(invocation, [rid]) {
    return readableRoom(invocation, checkString(rid), 'getRoomById');
  },

  getRoomNameById(invocation, [rid]) {
    const roomId = checkString(rid);
    if (!invocation.userId) {
      throw new MeteorError('error-invalid-user', 'Invalid user', { method: 'getRoomNameById' });
    }
    return readableRoom(invocation, roomId, 'getRoomNameById').name;
  },

  getRoomByTypeAndName(invocation, [type, name]) {
    const t = checkString(type);
    const roomName = checkString(name);
    const { ctx, userId } = invocation;
    const room = ctx.store.roomByName(roomName);
    if (!room || room.t !== t) {
      throw new MeteorError('error-invalid-room', 'Invalid room', { method: 'getRoomByTypeAndName' });
    }
    if (!canAccessRoom(ctx.store, room, userId)) {
      throw new MeteorError('error-no-permission', 'No permission', { method: 'getRoomByTypeAndName' });
    }
    return room;
  },

  getRoomRoles(invocation, [rid]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'getRoomRoles');
    const room = requireRoom(invocation, roomId, 'getRoomRoles');
    if (!canAccessRoom(invocation.ctx.store, room, user._id)) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'getRoomRoles' });
    }
    return invocation.ctx.store
      .subscriptionsOfRoom(roomId)
      .filter((sub) => (sub.roles ?? []).length > 0)
      .map((sub) => ({ _id: sub._id, rid: sub.rid, u: sub.u, roles: sub.roles }));
  },

  createChannel(invocation, params) {
    return create(invocation, 'c', params);
  },

  createPrivateGroup(invocation, params) {
    return create(invocation, 'p', params);
  },

  createDirectMessage(invocation, usernames) {
    const names = checkStringArray(usernames);
    const user = requireUser(invocation, 'createDirectMessage');
    const { ctx } = invocation;
    if (!hasPermission(ctx.store, user._id, 'create-d')) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'createDirectMessage' });
    }
    const others = names.map((name) => {
      const other = ctx.store.userByUsername(name);
      if (!other) {
        throw new MeteorError('error-invalid-user', 'Invalid user', { method: 'createDirectMessage' });
      }
      return other;
    });
    const room = ctx.rooms.createDirect([user, ...others]);
    return { rid: room._id, ...room };
  },

  joinRoom(invocation, [rid]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'joinRoom');
    const room = requireRoom(invocation, roomId, 'joinRoom');
    if (room.t !== 'c' || !hasPermission(invocation.ctx.store, user._id, 'view-c-room')) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'joinRoom' });
    }
    const sub = invocation.ctx.rooms.addMember(room, user, { system: 'uj' });
    return sub ? true : undefined;
  },

  leaveRoom(invocation, [rid]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'leaveRoom');
    const room = requireRoom(invocation, roomId, 'leaveRoom');
    const { ctx } = invocation;
    if (room.t === 'd') {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method: 'leaveRoom' });
    }
    const sub = ctx.store.subscription(roomId, user._id);
    if (!sub) {
      throw new MeteorError('error-user-not-in-room', 'You are not in this room', { method: 'leaveRoom' });
    }
    if (sub.roles?.includes('owner')) {
      const owners = ctx.store.subscriptionsOfRoom(roomId).filter((s) => s.roles?.includes('owner'));
      if (owners.length === 1) {
        throw new MeteorError(
          'error-you-are-last-owner',
          'You are the last owner. Please set new owner before leaving the room.',
          { method: 'leaveRoom' },
        );
      }
    }
    ctx.rooms.removeMember(room, user, 'ul');
    return undefined;
  },

  toggleFavorite(invocation, [rid, favorite]) {
    const roomId = checkString(rid);
    const value = checkOptionalBoolean(favorite);
    const user = requireUser(invocation, 'toggleFavorite');
    if (!invocation.ctx.store.subscription(roomId, user._id)) {
      throw new MeteorError('error-invalid-subscription', 'You must be part of a room to favorite it', {
        method: 'toggleFavorite',
      });
    }
    return invocation.ctx.rooms.setFavorite(user._id, roomId, value ?? false);
  },

  hideRoom(invocation, [rid]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'hideRoom');
    return invocation.ctx.rooms.setOpen(user._id, roomId, false);
  },

  openRoom(invocation, [rid]) {
    const roomId = checkString(rid);
    const user = requireUser(invocation, 'openRoom');
    return invocation.ctx.rooms.setOpen(user._id, roomId, true);
  },

  readMessages(invocation, [rid]) {
    if (typeof rid !== 'string') {
      throw matchFailed();
    }
    const user = requireUser(invocation, 'readMessages');
    if (!invocation.ctx.store.room(rid)) {
      throw new MeteorError('error-room-does-not-exist', 'This room does not exist', {
        method: 'readMessages',
      });
    }
    invocation.ctx.rooms.markRead(user._id, rid);
    return undefined;
  },
};
