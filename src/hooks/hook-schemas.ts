/**
 * Input of the `/v1/hooks` registry, as zod schemas: failures name the field (validation.ts).
 */
import { z } from 'zod';

const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
// Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 bytes (the spec's range).
const SIGNING_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

const roomId = z.string().regex(ROOM_ID, 'must be a room id');
const alias = z.string().min(1).max(255);
const emoji = z.string().regex(/^:?[\w+-]{1,100}:?$/, 'must be an emoji name such as ":robot:"');
const avatar = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const description = z.string().max(500);
const signingSecret = z
  .string()
  .regex(SIGNING_SECRET, 'must be a Standard Webhooks secret: "whsec_" + base64 of 24 to 64 bytes');

export const createHookSchema = z
  .object({
    roomId,
    alias: alias.optional(),
    emoji: emoji.optional(),
    avatar: avatar.optional(),
    description: description.optional(),
    signingSecret: signingSecret.optional(),
    allowChannelOverride: z.boolean().optional(),
  })
  .strict();

export const updateHookSchema = z
  .object({
    roomId: roomId.optional(),
    alias: alias.nullable().optional(),
    emoji: emoji.nullable().optional(),
    avatar: avatar.nullable().optional(),
    description: description.optional(),
    signingSecret: signingSecret.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const requestsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
