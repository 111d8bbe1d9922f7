/**
 * `/v1/messages`: queued outbound changes to Rocket.Chat, as the authenticated user.
 *
 * - `POST /v1/messages` `{roomId, text, threadId?, alias?, emoji?, attachments?}` -> 202
 *   `{id, messageId, status}`. `Idempotency-Key` (optional): a repeat from the same user returns
 *   the same job (and never a second message); reused with another body it is 409.
 * - `GET /v1/messages/:id` -> `{id, messageId, status, error?}`.
 * - `PATCH /v1/messages/:id` `{text}`, `DELETE /v1/messages/:id`, `POST /v1/messages/:id/reactions`
 *   `{emoji, shouldReact?}` -> 202 with the new job. `:id` is an outbound job id or a Rocket.Chat
 *   message id; the change joins the lane of the message's room, after the message itself.
 *
 * Mount at `/v1/messages`.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { createError } from '../errors.js';
import type { Principal } from '../http/context.js';
import { jsonObjectBody, parseInput } from '../http/validation.js';
import { messageIdSchema, roomIdSchema } from '../rocketchat-ids.js';
import type { AcceptResult, OutboundQueue } from './outbound-queue.js';
import type { OutboundRequest } from './types.js';

export interface MessagesRouterDeps {
  readonly outbound: OutboundQueue;
  /** Authenticates the request and sets `req.principal` (src/http/auth in the gateway). */
  readonly authenticate: RequestHandler;
  /**
   * Longest text accepted. Rocket.Chat drops a longer message silently (`sendMessage` swallows
   * `error-message-size-exceeded` without even an ephemeral notice), so it is refused here.
   * Match Rocket.Chat's `Message_MaxAllowedSize`. @defaultValue 5000
   */
  readonly maxTextLength?: number;
}

/** Printable ASCII without spaces, as the IETF idempotency-key draft's examples. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const EMOJI = /^:?([\w+-]{1,100}):?$/;

/** The body of `POST /v1/messages` (also the OpenAPI document's `MessageSend`). */
export function sendMessageSchema(maxText: number) {
  return z
    .object({
      roomId: roomIdSchema,
      text: z.string().max(maxText, `must be at most ${maxText} characters`),
      threadId: messageIdSchema.optional(),
      alias: z.string().min(1).max(255).optional(),
      emoji: z.string().min(1).max(255).optional(),
      attachments: z.array(z.record(z.string(), z.unknown())).max(100).optional(),
    })
    .strict()
    .refine((body) => body.text.trim().length > 0 || (body.attachments?.length ?? 0) > 0, {
      message: 'must not be empty (unless there are attachments)',
      path: ['text'],
    });
}

/** The body of `PATCH /v1/messages/:id` (`MessageEdit`). */
export function editMessageSchema(maxText: number) {
  return z
    .object({
      text: z.string().min(1, 'must not be empty').max(maxText, `must be at most ${maxText} characters`),
    })
    .strict();
}

/** The body of `POST /v1/messages/:id/reactions` (`Reaction`). */
export const reactionSchema = z
  .object({
    emoji: z.string().regex(EMOJI, 'must be an emoji name such as ":thumbsup:"'),
    shouldReact: z.boolean().default(true),
  })
  .strict();

export function createMessagesRouter(deps: MessagesRouterDeps): Router {
  const { outbound, authenticate } = deps;
  const maxText = deps.maxTextLength ?? 5000;
  const edit = editMessageSchema(maxText);
  const router = express.Router();
  router.use(authenticate);

  router.post('/', createSendHandler(deps));

  router.get('/:id', async (req: Request, res: Response) => {
    const principal = principalOf(req);
    const view = await outbound.get(principal.userId, String(req.params.id));
    if (!view) throw createError('GW_ERR_NOT_FOUND', 'no such outbound job');
    res.json(view);
  });

  router.patch('/:id', async (req: Request, res: Response) => {
    const principal = principalOf(req);
    const body = parseInput(edit, jsonObjectBody(req));
    const key = idempotencyKeyOf(req);
    const target = await outbound.resolveTarget(principal.userId, String(req.params.id));
    reply(res, await outbound.accept(principal.userId, { kind: 'edit', ...target, text: body.text }, key));
  });

  router.delete('/:id', async (req: Request, res: Response) => {
    const principal = principalOf(req);
    const key = idempotencyKeyOf(req);
    const target = await outbound.resolveTarget(principal.userId, String(req.params.id));
    reply(res, await outbound.accept(principal.userId, { kind: 'delete', ...target }, key));
  });

  router.post('/:id/reactions', async (req: Request, res: Response) => {
    const principal = principalOf(req);
    const body = parseInput(reactionSchema, jsonObjectBody(req));
    const key = idempotencyKeyOf(req);
    const target = await outbound.resolveTarget(principal.userId, String(req.params.id));
    const emoji = `:${EMOJI.exec(body.emoji)?.[1] ?? ''}:`;
    const request: OutboundRequest = { kind: 'reaction', ...target, emoji, shouldReact: body.shouldReact };
    reply(res, await outbound.accept(principal.userId, request, key));
  });

  return router;
}

/**
 * `POST /v1/messages`, as the router mounts it and as the gateway also serves it outside the
 * router (fast-path.ts): after `deps.authenticate` and the app's JSON body parser.
 */
export function createSendHandler(
  deps: Pick<MessagesRouterDeps, 'outbound' | 'maxTextLength'>,
): RequestHandler {
  const { outbound } = deps;
  const send = sendMessageSchema(deps.maxTextLength ?? 5000);
  return async (req: Request, res: Response) => {
    const principal = principalOf(req);
    const body = parseInput(send, jsonObjectBody(req));
    const request: OutboundRequest = {
      kind: 'send',
      roomId: body.roomId,
      send: {
        text: body.text,
        ...(body.threadId === undefined ? {} : { threadId: body.threadId }),
        ...(body.alias === undefined ? {} : { alias: body.alias }),
        ...(body.emoji === undefined ? {} : { emoji: body.emoji }),
        ...(body.attachments === undefined ? {} : { attachments: body.attachments }),
      },
    };
    reply(res, await outbound.accept(principal.userId, request, idempotencyKeyOf(req)));
  };
}

function reply(res: Response, result: AcceptResult): void {
  if (!result.isNew) res.setHeader('Idempotent-Replayed', 'true');
  res.setHeader('Location', `${res.req.baseUrl}/${encodeURIComponent(result.view.id)}`);
  res.status(202).json(result.view);
}

function principalOf(req: Request): Principal {
  if (!req.principal) throw createError('GW_ERR_UNAUTHENTICATED');
  return req.principal;
}

function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw createError('GW_ERR_VALIDATION', 'Idempotency-Key must be 1 to 255 printable ASCII characters', {
      details: { fields: [{ field: 'Idempotency-Key', message: 'is not a valid key' }] },
    });
  }
  return key;
}
