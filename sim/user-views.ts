/**
 * Projections of a user for the wire. Passwords and tokens never leave the simulator.
 */
import type { SimUser } from './types.js';

/** Fields of the `users` document Meteor publishes to the logged-in connection (RC adds its base fields, minus status). */
export function publishedUserFields(user: SimUser): Record<string, unknown> {
  return {
    username: user.username,
    emails: user.emails,
    name: user.name,
    type: user.type,
    active: user.active,
    roles: user.roles,
    utcOffset: user.utcOffset,
    settings: { preferences: {} },
  };
}

/** RC `getUserInfo` (REST `me` and the `me` of `/api/v1/login`). */
export function userInfo(user: SimUser, baseUrl: string): Record<string, unknown> {
  return {
    _id: user._id,
    type: user.type,
    active: user.active,
    name: user.name,
    username: user.username,
    emails: user.emails,
    status: user.status,
    statusConnection: user.status === 'offline' ? 'offline' : 'online',
    statusDefault: user.statusDefault,
    ...(user.statusText !== undefined && { statusText: user.statusText }),
    utcOffset: user.utcOffset,
    roles: user.roles,
    createdAt: user.createdAt,
    _updatedAt: user._updatedAt,
    settings: { preferences: {} },
    ...(user.emails[0] && { email: user.emails[0].address }),
    avatarUrl: `${baseUrl}/avatar/${user.username}`,
  };
}
