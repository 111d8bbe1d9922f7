/**
 * Input of the `/v1/hooks` registry, as zod schemas: failures name the field (validation.ts).
 * They are also the OpenAPI document's `HookCreate` and `HookUpdate` (src/openapi/hooks.ts).
 */
import { z } from 'zod';
import { roomIdSchema } from '../rocketchat-ids.js';

// Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 bytes (the spec's range).
const SIGNING_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

const roomId = roomIdSchema;
const alias = z.string().min(1).max(255);
const emoji = z.string().regex(/^:?[\w+-]{1,100}:?$/, 'must be an emoji name such as ":robot:"');
const avatar = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
const description = z.string().max(500);
const signingSecret = z
  .string()
  .regex(SIGNING_SECRET, 'must be a Standard Webhooks secret: "whsec_" + base64 of 24 to 64 bytes');

export const createHookSchema = z
  .object({
    roomId: roomId.describe('Where posts go unless they name a `channel`; the owner must be able to see it.'),
    alias: alias.optional().describe('Default display name.'),
    emoji: emoji.optional().describe('Default avatar emoji.'),
    avatar: avatar.optional().describe('Default avatar URL.'),
    description: description.optional(),
    signingSecret: signingSecret
      .optional()
      .describe(
        'When set, posts must be signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with this secret; never shown again.',
      ),
    allowChannelOverride: z.boolean().optional().meta({
      default: false,
      description:
        "`true`: a post's `channel` may name any room the owner can use (`#name`, `@username`, a room id). Otherwise posts naming another room than `roomId` are refused with 403. Set at creation only.",
    }),
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
    enabled: z.boolean().optional().describe('`false`: posts are refused with 403 until re-enabled.'),
  })
  .strict()
  .describe('`null` removes an optional field (`signingSecret: null`: posts need no signature).');

export const requestsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
