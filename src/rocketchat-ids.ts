/**
 * Rocket.Chat's ids (rooms, users, messages) as the gateway accepts them, in one place: 17-char
 * Random ids, `GENERAL`, direct-message ids (two user ids concatenated) and the ids of imported
 * rooms and messages. The pattern also keeps `,` `:` `/`, spaces and control characters out of
 * topics, Redis keys and URLs. A leaf module (like errors.ts) so that every layer can share it,
 * and the OpenAPI document names it once (`RoomId`, `MessageId`, `UserId`).
 */
import { z } from 'zod';

export const ROCKETCHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const roomIdSchema = z
  .string()
  .regex(ROCKETCHAT_ID, 'must be a room id')
  .describe('A Rocket.Chat room id (`GENERAL`, a 17-character id, a direct-message id)');

export const messageIdSchema = z
  .string()
  .regex(ROCKETCHAT_ID, 'must be a message id')
  .describe('A Rocket.Chat message id');

export const userIdSchema = z
  .string()
  .regex(ROCKETCHAT_ID, 'must be a user id')
  .describe('A Rocket.Chat user id');
