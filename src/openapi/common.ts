/**
 * The document's shared components: the error body and the error responses every route refers
 * to, security schemes, rate-limit headers, common parameters, and the probe and page schemas.
 */
import { ERROR_CODES } from '../errors.js';
import { IDEMPOTENCY_KEY } from '../outbound/messages-router.js';
import { jsonContent, type OpenApiPart, ref, type Schema } from './shared.js';

const ERROR_EXAMPLE = { error: 'GW_ERR_INTERNAL', message: 'Internal error' };

export const commonPart: OpenApiPart = {
  paths: {},
  schemas: {
    Error: {
      type: 'object',
      description:
        'The body of every error response. Branch on `error`, never on `message` (docs/errors.md).',
      required: ['error', 'message'],
      properties: {
        error: { type: 'string', enum: Object.keys(ERROR_CODES) },
        message: { type: 'string' },
        retryAfterMs: {
          type: 'integer',
          minimum: 0,
          description: 'When waiting helps; the response also has `Retry-After` (seconds).',
        },
        details: {
          type: 'object',
          description:
            'Structured facts. A `GW_ERR_VALIDATION` from a schema check lists the bad fields in `fields`; an error from Rocket.Chat carries its code in `upstreamError`.',
          properties: {
            fields: {
              type: 'array',
              maxItems: 10,
              items: {
                type: 'object',
                required: ['field', 'message'],
                properties: {
                  field: {
                    type: 'string',
                    description:
                      'Dotted path into the input (`topics.0`); `(body)` for the input as a whole.',
                  },
                  message: { type: 'string' },
                },
                additionalProperties: false,
              },
            },
            upstreamError: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
            upstreamReason: { type: 'string' },
          },
        },
      },
      additionalProperties: false,
    },
    Probe: {
      type: 'object',
      required: ['status'],
      properties: {
        status: { type: 'string', enum: ['ok', 'unavailable'] },
        reason: { type: 'string', description: 'Why the replica is not ready (Redis, draining).' },
      },
      additionalProperties: false,
    },
    NextCursor: {
      description: 'Pass as `cursor` for the next page; null on the last page. Opaque.',
      oneOf: [{ type: 'string' }, { type: 'null' }],
    },
  },
  examples: { Probe: { status: 'ok' }, Error: ERROR_EXAMPLE },
};

const RATE_LIMIT_HEADERS: Schema = {
  'RateLimit-Limit': { $ref: '#/components/headers/RateLimit-Limit' },
  'RateLimit-Remaining': { $ref: '#/components/headers/RateLimit-Remaining' },
  'RateLimit-Reset': { $ref: '#/components/headers/RateLimit-Reset' },
};

const errorResponse = (description: string, example: Schema, extraHeaders: Schema = {}): Schema => ({
  description,
  headers: { ...RATE_LIMIT_HEADERS, ...extraHeaders },
  content: jsonContent(ref('Error'), example),
});

/** Components other than schemas. */
export const COMMON_COMPONENTS: Schema = {
  securitySchemes: {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'The token from `POST /v1/sessions`.',
    },
    rocketchatUserId: {
      type: 'apiKey',
      in: 'header',
      name: 'X-User-Id',
      description: "Rocket.Chat's own user id; with `X-Auth-Token`, checked upstream and cached briefly.",
    },
    rocketchatAuthToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
    accessTokenQuery: {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
      description: 'Only on `GET /v1/events`: a token from `POST /v1/sessions/sse-token`.',
    },
    eventsCookie: {
      type: 'apiKey',
      in: 'cookie',
      name: 'gw_events',
      description:
        'Only on `GET /v1/events`, set by `POST /v1/events/cookie`; refused (403) from an `Origin` that is neither the gateway nor in `CORS_ORIGINS`.',
    },
  },
  headers: {
    'Retry-After': {
      description: 'Seconds to wait before retrying.',
      schema: { type: 'integer', minimum: 1 },
    },
    'RateLimit-Limit': {
      description: 'Requests allowed per minute (`RATE_LIMIT_PER_MINUTE`).',
      schema: { type: 'integer' },
    },
    'RateLimit-Remaining': { description: 'Requests left now.', schema: { type: 'integer' } },
    'RateLimit-Reset': {
      description: 'Seconds until the current window closes.',
      schema: { type: 'integer' },
    },
  },
  parameters: {
    WebhookId: { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    MessageId: {
      name: 'id',
      in: 'path',
      required: true,
      description: 'An outbound job id or a Rocket.Chat message id.',
      schema: { type: 'string' },
    },
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      description:
        'Makes a retried request return the first one’s job; reused with another body it is 409 `GW_ERR_CONFLICT`.',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
    },
  },
  responses: {
    Error: errorResponse('An error; `error` says which (docs/errors.md)', ERROR_EXAMPLE),
    Invalid: errorResponse('The request is invalid (`GW_ERR_VALIDATION`, `GW_ERR_TOPIC_INVALID`...)', {
      error: 'GW_ERR_VALIDATION',
      message: 'text: Required',
      details: { fields: [{ field: 'text', message: 'Required' }] },
    }),
    Unauthenticated: {
      ...errorResponse('No valid credentials (`GW_ERR_UNAUTHENTICATED`, `GW_ERR_CREDENTIALS_INVALID`...)', {
        error: 'GW_ERR_UNAUTHENTICATED',
        message: 'A valid bearer token is required',
      }),
      headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
    },
    Forbidden: errorResponse('Rocket.Chat does not allow it (`GW_ERR_FORBIDDEN`)', {
      error: 'GW_ERR_FORBIDDEN',
      message: 'Rocket.Chat refused: not allowed in this room',
    }),
    NotFound: errorResponse('No such resource for this user (`GW_ERR_NOT_FOUND`)', {
      error: 'GW_ERR_NOT_FOUND',
      message: 'No such webhook',
    }),
    RateLimited: errorResponse(
      'Too many requests (`GW_ERR_RATE_LIMITED`)',
      { error: 'GW_ERR_RATE_LIMITED', message: 'Too many requests', retryAfterMs: 12000 },
      { 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
    ),
    Unavailable: errorResponse(
      'Draining, or Rocket.Chat or capacity is missing; retry (`Retry-After` may say when)',
      { error: 'GW_ERR_DRAINING', message: 'This replica is shutting down; retry', retryAfterMs: 1000 },
      {
        'Retry-After': { $ref: '#/components/headers/Retry-After' },
      },
    ),
  },
};
