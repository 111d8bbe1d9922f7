/**
 * `/v1/messages`: queued outbound changes. Request bodies are generated from the schemas of
 * src/outbound/messages-router.ts.
 */
import { ERROR_CODES } from '../errors.js';
import {
  authenticated,
  errorRef,
  jsonBody,
  jsonResponse,
  type OpenApiPart,
  param,
  ref,
  type Schema,
} from './shared.js';

const EXAMPLE_JOB = { id: 'order-4711-confirmation', messageId: 'fXk3pQ9rT2vB8nLm4', status: 'queued' };

/** A queued change of an existing message (`:id`: a job id or a message id): 202 with its job. */
function changeOfMessage(operationId: string, summary: string, body?: string): Schema {
  return authenticated({
    operationId,
    tags: ['messages'],
    summary,
    parameters: [param('IdempotencyKey')],
    ...(body === undefined ? {} : { requestBody: jsonBody(body) }),
    responses: {
      '202': jsonResponse('Accepted', ref('OutboundJob')),
      ...(body === undefined ? {} : { '400': errorRef('Invalid') }),
      '404': errorRef('NotFound'),
      '409': errorRef('Error'),
    },
  });
}

export const messagesPart: OpenApiPart = {
  paths: {
    '/v1/messages': {
      post: authenticated({
        operationId: 'sendMessage',
        tags: ['messages'],
        summary: 'Queue a message; it is sent at most once, in order per user and room',
        parameters: [param('IdempotencyKey')],
        requestBody: jsonBody('MessageSend'),
        responses: {
          '202': {
            ...jsonResponse('Accepted', ref('OutboundJob')),
            headers: {
              Location: { schema: { type: 'string' } },
              'Idempotent-Replayed': {
                description: '`true` when the `Idempotency-Key` was seen before (same job returned).',
                schema: { type: 'string', enum: ['true'] },
              },
            },
          },
          '400': errorRef('Invalid'),
          '409': errorRef('Error'),
        },
      }),
    },
    '/v1/messages/{id}': {
      parameters: [param('MessageId')],
      get: authenticated({
        operationId: 'getMessage',
        tags: ['messages'],
        summary: 'The outcome of a queued change',
        responses: {
          '200': jsonResponse('The job', ref('OutboundJob')),
          '404': errorRef('NotFound'),
        },
      }),
      patch: changeOfMessage(
        'editMessage',
        'Queue an edit (after the message itself, in its lane)',
        'MessageEdit',
      ),
      delete: changeOfMessage('deleteMessage', 'Queue a deletion'),
    },
    '/v1/messages/{id}/reactions': {
      parameters: [param('MessageId')],
      post: changeOfMessage(
        'reactToMessage',
        'Queue a reaction (or its removal, with `shouldReact: false`)',
        'Reaction',
      ),
    },
  },
  schemas: {
    OutboundJob: {
      type: 'object',
      description: 'An outbound change (send, edit, delete, reaction) and its outcome.',
      required: ['id', 'messageId', 'status'],
      properties: {
        id: { type: 'string', description: 'The job id (from `Idempotency-Key` when given).' },
        messageId: {
          type: 'string',
          description: 'The Rocket.Chat message id, fixed before the first attempt.',
        },
        status: { type: 'string', enum: ['queued', 'sent', 'failed'] },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', enum: Object.keys(ERROR_CODES) },
            message: { type: 'string' },
            upstreamError: { type: ['string', 'number'] },
          },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  examples: {
    MessageSend: { roomId: 'GENERAL', text: 'Your order 4711 has shipped.' },
    MessageEdit: { text: 'Your order 4711 has shipped (tracking: 1Z999).' },
    Reaction: { emoji: ':thumbsup:', shouldReact: true },
    OutboundJob: EXAMPLE_JOB,
  },
};
