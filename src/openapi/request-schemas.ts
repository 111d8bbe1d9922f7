/**
 * Every request body (and query) the gateway checks with zod, named as the OpenAPI document names
 * it, and turned into JSON Schema with `z.toJSONSchema`: the schema the router parses with IS the
 * documented one, so the two cannot drift. The schemas stay where the routes use them (webhook-
 * schemas.ts, hook-schemas.ts, the routers); this file only names them.
 *
 * Shared pieces are named too (`RoomId`, `ContentFilter`, `StringList`...): wherever a named
 * schema is used inside another, the document has a `$ref` to one component instead of a copy.
 * JSON Schema is generated for the input side (`io: 'input'`): a field with a default is
 * optional, and transforms (EJSON dates) show what the caller sends.
 */
import { z } from 'zod';
import { contentFilterSchema } from '../events/content-filter.js';
import { createHookSchema, requestsQuerySchema, updateHookSchema } from '../hooks/hook-schemas.js';
import { incomingPayloadSchema } from '../hooks/incoming-payload.js';
import { passwordLoginSchema, tokenLoginSchema } from '../http/routes/sessions.js';
import { editMessageSchema, reactionSchema, sendMessageSchema } from '../outbound/messages-router.js';
import { METHOD_CATALOGUE, methodDateSchema } from '../rocketchat/method-catalogue.js';
import { messageIdSchema, roomIdSchema, userIdSchema } from '../rocketchat-ids.js';
import {
  createWebhookSchema,
  customHeadersSchema,
  replayWebhookSchema,
  resendWebhookSchema,
  stringListSchema,
  updateWebhookSchema,
} from '../webhooks/webhook-schemas.js';
import type { Schema } from './shared.js';

/**
 * The longest text the document states (`MESSAGE_MAX_TEXT_LENGTH`'s default): the schemas of
 * messages and incoming hooks take the configured length.
 */
const DOCUMENTED_MAX_TEXT = 5000;

/** `rooms/get` -> `RoomsGetParams`, `UserPresence:setDefaultStatus` -> `UserPresenceSetDefaultStatusParams`. */
export function methodParamsName(method: string): string {
  const words = method.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  return `${words.map((word) => word[0]?.toUpperCase() + word.slice(1)).join('')}Params`;
}

/** Each callable method's `params`, by method name: `<Name>Params` in the document. */
export const METHOD_PARAMS_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map(
  [...METHOD_CATALOGUE.values()].map((method) => [
    method.name,
    // A copy per method: methods share parameter schemas, and a registry names one schema once.
    method.params.describe(`\`params\` of \`${method.name}\``),
  ]),
);

/**
 * `POST /v1/methods/<name>`: `params` as one of the methods takes them; the router checks them
 * against the named method's own schema (methods-router.ts).
 */
const methodCallSchema = z
  .strictObject({
    params: z
      .union([...METHOD_PARAMS_SCHEMAS.values()] as [z.ZodType, z.ZodType, ...z.ZodType[]])
      .default([])
      .describe(
        "The method's parameters, in Rocket.Chat's order: `<Method>Params` of the method named in the path.",
      ),
  })
  .describe('A method call; `{}` or no body at all is `{"params": []}`.');

/** Named request schemas, in the document's order. */
export const REQUEST_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ['RoomId', roomIdSchema],
  ['MessageId', messageIdSchema],
  ['UserId', userIdSchema],
  ['EjsonDate', methodDateSchema],
  ['PasswordLogin', passwordLoginSchema],
  ['TokenLogin', tokenLoginSchema],
  ['ContentFilter', contentFilterSchema],
  ['StringList', stringListSchema],
  ['CustomHeaders', customHeadersSchema],
  ['WebhookCreate', createWebhookSchema],
  ['WebhookUpdate', updateWebhookSchema],
  ['ResendRequest', resendWebhookSchema],
  ['ReplayRequest', replayWebhookSchema],
  ['MessageSend', sendMessageSchema(DOCUMENTED_MAX_TEXT)],
  ['MessageEdit', editMessageSchema(DOCUMENTED_MAX_TEXT)],
  ['Reaction', reactionSchema],
  ['MethodCall', methodCallSchema],
  ...[...METHOD_PARAMS_SCHEMAS].map(([method, schema]) => [methodParamsName(method), schema] as const),
  ['HookCreate', createHookSchema],
  ['HookUpdate', updateHookSchema],
  ['IncomingHookPayload', incomingPayloadSchema(DOCUMENTED_MAX_TEXT)],
]);

let generated: Readonly<Record<string, Schema>> | undefined;

/**
 * The named schemas as JSON Schema (2020-12), `$ref`s pointing at `#/components/schemas/`.
 * Generated once: the schemas do not change while the process runs.
 */
export function requestJsonSchemas(): Readonly<Record<string, Schema>> {
  generated ??= generateJsonSchemas();
  return generated;
}

function generateJsonSchemas(): Record<string, Schema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of REQUEST_SCHEMAS) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      // The dialect is the document's; an `$id` inside a component would rebase its `$ref`s.
      const { $schema: _dialect, $id: _id, ...body } = schema as Schema;
      return [id, body];
    }),
  );
}

/** JSON Schema of one field of a zod object schema (a query parameter, say), `$ref`s resolved by name. */
export function fieldJsonSchema(schema: z.ZodObject, field: string): Schema {
  const { $schema: _dialect, ...body } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
  return ((body['properties'] ?? {}) as Record<string, Schema>)[field] ?? {};
}

export { requestsQuerySchema };
