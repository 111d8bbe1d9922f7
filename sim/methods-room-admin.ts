/**
 * Room administration: archive/unarchive, owner/moderator/leader roles, saveRoomSettings.
 */

import { MeteorError, matchFailed } from './meteor-error.js';
import { checkString, isRecord, requireRoom, requireUser } from './method-helpers.js';
import type { MethodHandler, MethodInvocation, MethodTable } from './method-types.js';
import { hasPermission } from './permissions.js';
import type { RoomRole, SimRoom, SimUser } from './types.js';

const ROLE_TEXT: Record<RoomRole, { permission: string; label: string; article: string }> = {
  owner: { permission: 'set-owner', label: 'owner', article: 'an' },
  moderator: { permission: 'set-moderator', label: 'moderator', article: 'a' },
  leader: { permission: 'set-leader', label: 'leader', article: 'a' },
};

function roleMethod(role: RoomRole, add: boolean): MethodHandler {
  const method = `${add ? 'add' : 'remove'}Room${role[0]?.toUpperCase()}${role.slice(1)}`;
  const { permission, label, article } = ROLE_TEXT[role];
  return (invocation, [rid, userId]) => {
    const roomId = checkString(rid);
    const targetId = checkString(userId);
    const { ctx } = invocation;
    if (!invocation.userId || !hasPermission(ctx.store, invocation.userId, permission, roomId)) {
      throw new MeteorError('error-not-allowed', 'Not allowed', { method });
    }
    const actor = requireUser(invocation, method);
    const room = requireRoom(invocation, roomId, method);
    const target = ctx.store.userById(targetId);
    if (!target) {
      throw new MeteorError('error-invalid-user', 'Invalid user', { method });
    }
    const sub = ctx.store.subscription(roomId, target._id);
    if (!sub) {
      throw new MeteorError('error-user-not-in-room', 'User is not in this room', { method });
    }
    const has = sub.roles?.includes(role) ?? false;
    if (add && has) {
      throw new MeteorError(`error-user-already-${label}`, `User is already ${article} ${label}`, { method });
    }
    if (!add && !has) {
      throw new MeteorError(`error-user-not-${label}`, `User is not ${article} ${label}`, { method });
    }
    if (!add && role === 'owner') {
      const owners = ctx.store.subscriptionsOfRoom(roomId).filter((s) => s.roles?.includes('owner'));
      if (owners.length === 1) {
        throw new MeteorError(
          'error-remove-last-owner',
          'This is the last owner. Please set a new owner before removing this one.',
          {
            method,
          },
        );
      }
    }
    ctx.rooms.setRole(room, target, role, add, actor);
    return true;
  };
}

function archiveMethod(archive: boolean): MethodHandler {
  const method = archive ? 'archiveRoom' : 'unarchiveRoom';
  return (invocation, [rid]) => {
    const roomId = checkString(rid);
    const user = requireUser(invocation, method);
    const room = requireRoom(invocation, roomId, method);
    if (!hasPermission(invocation.ctx.store, user._id, archive ? 'archive-room' : 'unarchive-room', roomId)) {
      throw new MeteorError('error-not-authorized', 'Not authorized', { method });
    }
    if (room.t === 'd') {
      throw new MeteorError('error-direct-message-room', 'Direct Messages can not be archived', { method });
    }
    invocation.ctx.rooms.setArchived(room, archive, user);
    return undefined;
  };
}

type SettingApplier = (invocation: MethodInvocation, room: SimRoom, value: unknown, actor: SimUser) => void;

function systemText(
  invocation: MethodInvocation,
  room: SimRoom,
  t: string,
  actor: SimUser,
  text: string,
): void {
  invocation.ctx.messages.insertSystem(room, t, actor, text);
}

/** The room settings the simulator understands; other RC settings are accepted and ignored. */
const SETTINGS: Record<string, SettingApplier | null> = {
  roomName: (invocation, room, value, actor) => {
    const name = checkString(value);
    if (name === room.name) {
      return;
    }
    if (!/^[0-9a-zA-Z\-_.]+$/.test(name)) {
      throw new MeteorError('error-invalid-room-name', `${name} is not a valid room name`, {
        method: 'saveRoomSettings',
      });
    }
    if (invocation.ctx.store.roomByName(name)) {
      throw new MeteorError('error-duplicate-channel-name', `A channel with name '${name}' exists`, {
        method: 'saveRoomSettings',
      });
    }
    room.name = name;
    room.fname = name;
    invocation.ctx.rooms.renameSubscriptions(room);
    systemText(invocation, room, 'r', actor, name);
  },
  roomTopic: (invocation, room, value, actor) => {
    room.topic = String(value ?? '');
    systemText(invocation, room, 'room_changed_topic', actor, room.topic);
  },
  roomDescription: (invocation, room, value, actor) => {
    room.description = String(value ?? '');
    systemText(invocation, room, 'room_changed_description', actor, room.description);
  },
  roomAnnouncement: (invocation, room, value, actor) => {
    room.announcement = String(value ?? '');
    systemText(invocation, room, 'room_changed_announcement', actor, room.announcement);
  },
  readOnly: (_invocation, room, value) => {
    room.ro = value === true || value === 'true';
  },
  systemMessages: (_invocation, room, value) => {
    room.sysMes = !(value === false || value === 'false');
  },
  default: (_invocation, room, value) => {
    room.default = value === true || value === 'true';
  },
  encrypted: (_invocation, room, value) => {
    room.encrypted = value === true || value === 'true';
  },
  roomType: (invocation, room, value, actor) => {
    if (value !== 'c' && value !== 'p') {
      throw matchFailed();
    }
    if (room.t !== value && room.t !== 'd') {
      room.t = value;
      invocation.ctx.rooms.renameSubscriptions(room);
      systemText(invocation, room, 'room_changed_privacy', actor, value === 'c' ? 'Public' : 'Private');
    }
  },
  reactWhenReadOnly: null,
  joinCode: null,
  favorite: null,
  featured: null,
  roomAvatar: null,
  retentionEnabled: null,
};

export const ROOM_ADMIN_METHODS: MethodTable = {
  archiveRoom: archiveMethod(true),
  unarchiveRoom: archiveMethod(false),
  addRoomOwner: roleMethod('owner', true),
  removeRoomOwner: roleMethod('owner', false),
  addRoomModerator: roleMethod('moderator', true),
  removeRoomModerator: roleMethod('moderator', false),
  addRoomLeader: roleMethod('leader', true),
  removeRoomLeader: roleMethod('leader', false),

  /** `[rid, setting, value]` or `[rid, {setting: value, …}]` → `{result: true, rid}`. */
  saveRoomSettings(invocation, [rid, settingOrMap, value]) {
    const roomId = checkString(rid);
    const entries: [string, unknown][] =
      typeof settingOrMap === 'string'
        ? [[settingOrMap, value]]
        : isRecord(settingOrMap)
          ? Object.entries(settingOrMap)
          : [];
    if (entries.length === 0) {
      throw matchFailed();
    }
    const user = requireUser(invocation, 'saveRoomSettings');
    const room = invocation.ctx.store.room(roomId);
    if (!room) {
      throw new MeteorError('error-invalid-room', 'Invalid room', { method: 'saveRoomSettings' });
    }
    if (!hasPermission(invocation.ctx.store, user._id, 'edit-room', roomId)) {
      throw new MeteorError('error-action-not-allowed', 'Editing room is not allowed', {
        method: 'saveRoomSettings',
        action: 'Editing_room',
      });
    }
    if (entries.some(([key]) => !(key in SETTINGS))) {
      throw new MeteorError('error-invalid-settings', 'Invalid settings provided', {
        method: 'saveRoomSettings',
      });
    }
    for (const [key, setting] of entries) {
      SETTINGS[key]?.(invocation, room, setting, user);
    }
    invocation.ctx.rooms.touchRoom(room);
    return { result: true, rid: room._id };
  },
};
