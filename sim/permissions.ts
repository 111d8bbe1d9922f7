/**
 * The slice of Rocket.Chat's authorization the simulator needs: default role → permission grants
 * (apps/meteor/app/authorization/server/constant/permissions.ts) and `canAccessRoom`.
 * Global roles are `user` (everyone) and `admin`; room roles live on the subscription.
 */
import type { Store } from './store.js';
import type { SimRoom } from './types.js';

/** Default roles per permission, as shipped by Rocket.Chat 6.x/7.x. */
const PERMISSION_ROLES: Record<string, readonly string[]> = {
  'view-c-room': ['admin', 'user', 'bot', 'app', 'anonymous'],
  'preview-c-room': ['admin', 'user', 'anonymous'],
  'create-c': ['admin', 'user', 'bot', 'app'],
  'create-p': ['admin', 'user', 'bot', 'app'],
  'create-d': ['admin', 'user', 'bot', 'app'],
  'mention-all': ['admin', 'owner', 'moderator', 'user'],
  'mention-here': ['admin', 'owner', 'moderator', 'user'],
  'delete-own-message': ['admin', 'user'],
  'delete-message': ['admin', 'owner', 'moderator'],
  'edit-message': ['admin', 'owner', 'moderator'],
  'edit-room': ['admin', 'owner', 'moderator'],
  'archive-room': ['admin', 'owner'],
  'unarchive-room': ['admin', 'owner'],
  'set-owner': ['admin', 'owner'],
  'set-moderator': ['admin', 'owner'],
  'set-leader': ['admin', 'owner'],
  'post-readonly': ['admin', 'owner', 'moderator'],
  'send-many-messages': ['admin', 'bot', 'app'],
  'view-other-user-channels': ['admin'],
};

export function hasPermission(
  store: Store,
  userId: string | null,
  permission: string,
  rid?: string,
): boolean {
  if (!userId) {
    return false;
  }
  const user = store.userById(userId);
  if (!user) {
    return false;
  }
  const allowed = PERMISSION_ROLES[permission] ?? [];
  if (user.roles.some((role) => allowed.includes(role))) {
    return true;
  }
  if (rid) {
    const roomRoles = store.subscription(rid, userId)?.roles ?? [];
    return roomRoles.some((role) => allowed.includes(role));
  }
  return false;
}

/** Rocket.Chat `canAccessRoom`: public rooms for anyone with `view-c-room`, others by subscription. */
export function canAccessRoom(store: Store, room: SimRoom | undefined, userId: string | null): boolean {
  if (!room || !userId) {
    return false;
  }
  if (room.t === 'c' && hasPermission(store, userId, 'view-c-room')) {
    return true;
  }
  if (store.subscription(room._id, userId)) {
    return true;
  }
  return hasPermission(store, userId, 'view-other-user-channels');
}
