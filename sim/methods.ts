/**
 * Every DDP method the simulator implements (docs/simulator-protocol.md §4).
 */
import type { MethodTable } from './method-types.js';
import { AUTH_METHODS } from './methods-auth.js';
import { HISTORY_METHODS } from './methods-history.js';
import { MESSAGE_METHODS } from './methods-messages.js';
import { MISC_METHODS } from './methods-misc.js';
import { ROOM_ADMIN_METHODS } from './methods-room-admin.js';
import { ROOM_METHODS } from './methods-rooms.js';

export const METHODS: MethodTable = {
  ...AUTH_METHODS,
  ...MESSAGE_METHODS,
  ...HISTORY_METHODS,
  ...ROOM_METHODS,
  ...ROOM_ADMIN_METHODS,
  ...MISC_METHODS,
};
