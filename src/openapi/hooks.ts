/**
 * `/v1/hooks` (the incoming-hook registry) and `/hooks/{id}/{token}` (posting through one).
 * Request bodies are generated from src/hooks/hook-schemas.ts and src/hooks/incoming-payload.ts.
 */

import { fieldJsonSchema, requestsQuerySchema } from './request-schemas.js';
import {
  authenticated,
  closedObject,
  EXAMPLE_TIME,
  errorRef,
  fieldsOf,
  isoDateTime,
  jsonBody,
  jsonContent,
  jsonResponse,
  type OpenApiPart,
  pageOf,
  pageParameters,
  param,
  ref,
  type Schema,
  shownAs,
} from './shared.js';

const EXAMPLE_HOOK = {
  id: 'hk_Vq2m8XkP0sLr4TyB9cNd1e',
  roomId: 'GENERAL',
  alias: 'CI',
  emoji: ':robot:',
  description: 'Build results',
  enabled: true,
  signed: false,
  allowChannelOverride: false,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};

const HOOK_ID_PARAM: Schema = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

export const hooksPart: OpenApiPart = {
  paths: {
    '/v1/hooks': {
      post: authenticated({
        operationId: 'createHook',
        tags: ['hooks'],
        summary: 'Create an incoming-webhook URL that posts into a room as this user',
        requestBody: jsonBody('HookCreate'),
        responses: {
          '201': jsonResponse('Created; the URL holds a secret token, shown only here', ref('HookCreated')),
          '400': errorRef('Invalid'),
          '403': errorRef('Forbidden'),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
        },
      }),
      get: authenticated({
        operationId: 'listHooks',
        tags: ['hooks'],
        summary: "The user's incoming hooks (without their tokens), oldest first, a page at a time",
        parameters: pageParameters(100),
        responses: {
          '200': jsonResponse('The hooks', ref('HookList')),
          '400': errorRef('Invalid'),
        },
      }),
    },
    '/v1/hooks/{id}': {
      parameters: [HOOK_ID_PARAM],
      get: authenticated({
        operationId: 'getHook',
        tags: ['hooks'],
        summary: 'One incoming hook',
        responses: {
          '200': jsonResponse('The hook', ref('Hook')),
          '404': errorRef('NotFound'),
        },
      }),
      patch: authenticated({
        operationId: 'updateHook',
        tags: ['hooks'],
        summary: 'Change an incoming hook (room, defaults, signing secret; `enabled`)',
        requestBody: jsonBody('HookUpdate'),
        responses: {
          '200': jsonResponse('The changed hook', ref('Hook')),
          '400': errorRef('Invalid'),
          '403': errorRef('Forbidden'),
          '404': errorRef('NotFound'),
        },
      }),
      delete: authenticated({
        operationId: 'deleteHook',
        tags: ['hooks'],
        summary: 'Delete an incoming hook; its URL stops working',
        responses: {
          '204': { description: 'Deleted' },
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/hooks/{id}/rotate-token': {
      parameters: [HOOK_ID_PARAM],
      post: authenticated({
        operationId: 'rotateHookToken',
        tags: ['hooks'],
        summary: 'A new URL token; the old URL stops working at once',
        responses: {
          '200': jsonResponse('The new URL, shown only here', ref('HookUrl')),
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/hooks/{id}/requests': {
      parameters: [HOOK_ID_PARAM],
      get: authenticated({
        operationId: 'listHookRequests',
        tags: ['hooks'],
        summary: "Recent posts to the hook: when, the status answered, and the message's outcome",
        parameters: pageParameters(fieldJsonSchema(requestsQuerySchema, 'limit')),
        responses: {
          '200': jsonResponse('Newest first', ref('HookRequestList')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/hooks/{id}/{token}': {
      parameters: [
        HOOK_ID_PARAM,
        {
          name: 'token',
          in: 'path',
          required: true,
          description: 'The secret part of the hook URL (redacted in logs).',
          schema: { type: 'string' },
        },
      ],
      post: {
        operationId: 'postToHook',
        tags: ['hooks'],
        summary: 'Post a message through an incoming hook (no other authentication: the URL is the secret)',
        description:
          'Queued through the outbound queue as the hook owner; 202 as soon as the job is stored. A retry with the same `Idempotency-Key` (or, without one, the same `webhook-id`) returns the first job. An unknown id and a wrong token get the same 404. Hooks with a signing secret need a valid Standard Webhooks signature over the raw body, with a timestamp within 5 minutes (401 otherwise). Nothing is posted on any error.',
        security: [],
        parameters: [
          param('IdempotencyKey'),
          { name: 'webhook-id', in: 'header', schema: { type: 'string' } },
          { name: 'webhook-timestamp', in: 'header', schema: { type: 'string' } },
          { name: 'webhook-signature', in: 'header', schema: { type: 'string' } },
        ],
        requestBody: {
          required: true,
          content: {
            ...jsonContent(ref('IncomingHookPayload')),
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  payload: { type: 'string', description: 'The JSON payload, as Slack sends it.' },
                },
              },
              example: { payload: '{"text":"Build #812 passed","username":"CI"}' },
            },
          },
        },
        responses: {
          '202': {
            ...jsonResponse(
              'Queued; follow it at `GET /v1/messages/{id}` (as the owner)',
              ref('OutboundJob'),
            ),
            headers: {
              'Idempotent-Replayed': {
                description: '`true` when the key was seen before (same job returned).',
                schema: { type: 'string', enum: ['true'] },
              },
            },
          },
          '400': errorRef('Invalid'),
          '401': errorRef('Error'),
          '403': errorRef('Forbidden'),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
          '413': errorRef('Error'),
          '415': errorRef('Error'),
          '429': errorRef('RateLimited'),
          '503': errorRef('Unavailable'),
          default: errorRef('Error'),
        },
      },
    },
  },
  schemas: {
    HookFields: fieldsOf(
      {
        id: { type: 'string', pattern: '^hk_[A-Za-z0-9_-]{22}$' },
        roomId: { type: 'string' },
        alias: { type: 'string' },
        emoji: { type: 'string' },
        avatar: { type: 'string' },
        description: { type: 'string' },
        enabled: { type: 'boolean' },
        signed: { type: 'boolean', description: 'Posts must carry a Standard Webhooks signature.' },
        allowChannelOverride: { type: 'boolean', description: 'Posts may name another room in `channel`.' },
        createdAt: isoDateTime,
        updatedAt: isoDateTime,
        tokenRotatedAt: isoDateTime,
      },
      ['alias', 'emoji', 'avatar', 'tokenRotatedAt'],
    ),
    Hook: shownAs(
      'HookFields',
      'An incoming hook as the API shows it; its token and signing secret never are.',
    ),
    HookCreated: shownAs(
      'HookFields',
      'The new hook and its URL (`<PUBLIC_URL>/hooks/<id>/<token>`), shown this once.',
      { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri' } } },
    ),
    HookUrl: closedObject({ url: { type: 'string', format: 'uri' } }, [], {
      description: 'The hook URL with its new token, shown this once; the old URL no longer works.',
    }),
    HookList: pageOf('hooks', 'Hook'),
    HookRequestList: {
      type: 'object',
      required: ['requests', 'nextCursor'],
      properties: {
        requests: {
          type: 'array',
          description: 'Recent posts to the hook, newest first (at most 100 are kept).',
          items: {
            type: 'object',
            required: ['at', 'status'],
            properties: {
              at: isoDateTime,
              status: { type: 'integer', description: 'The HTTP status the sender got.' },
              jobId: {
                type: 'string',
                description: 'The outbound job (`GET /v1/messages/{id}`), when accepted.',
              },
              messageId: { type: 'string' },
              roomId: { type: 'string' },
              error: {
                type: 'object',
                description: 'Why the post was refused.',
                required: ['code', 'message'],
                properties: { code: { type: 'string' }, message: { type: 'string' } },
                additionalProperties: false,
              },
              outcome: {
                type: 'object',
                description: 'What became of the message, while its job is kept.',
                required: ['status'],
                properties: {
                  status: { type: 'string', enum: ['queued', 'sent', 'failed'] },
                  error: { type: 'object' },
                },
                additionalProperties: false,
              },
            },
            additionalProperties: false,
          },
        },
        nextCursor: ref('NextCursor'),
      },
      additionalProperties: false,
    },
  },
  examples: {
    HookCreate: { roomId: 'GENERAL', alias: 'CI', emoji: ':robot:', description: 'Build results' },
    HookUpdate: { alias: null, enabled: false },
    Hook: EXAMPLE_HOOK,
    HookCreated: {
      ...EXAMPLE_HOOK,
      url: 'https://gateway.example.org/hooks/hk_Vq2m8XkP0sLr4TyB9cNd1e/2mX9vQ4pLr8sTz1yB6cNd3eF',
    },
    HookUrl: { url: 'https://gateway.example.org/hooks/hk_Vq2m8XkP0sLr4TyB9cNd1e/9kLm2nB7vC4xZ1qW8eR5tY3u' },
    HookList: { hooks: [EXAMPLE_HOOK], nextCursor: null },
    HookRequestList: {
      requests: [
        {
          at: EXAMPLE_TIME,
          status: 202,
          jobId: 'hk_Vq2m8XkP0sLr4TyB9cNd1e-1768469400000',
          messageId: 'fXk3pQ9rT2vB8nLm4',
          roomId: 'GENERAL',
          outcome: { status: 'sent' },
        },
      ],
      nextCursor: null,
    },
    IncomingHookPayload: { text: 'Build #812 passed', alias: 'CI', emoji: ':white_check_mark:' },
  },
};
