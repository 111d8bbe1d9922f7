/**
 * `/v1/webhooks`: outgoing webhooks. Request bodies are generated from src/webhooks/webhook-schemas.ts.
 */
import { EVENT_TYPES } from '../events/types.js';
import {
  authenticated,
  closedObject,
  EXAMPLE_TIME,
  errorRef,
  fieldsOf,
  isoDateTime,
  jsonBody,
  jsonResponse,
  nullable,
  type OpenApiPart,
  pageOf,
  pageParameters,
  param,
  ref,
  shownAs,
} from './shared.js';

const EXAMPLE_WEBHOOK = {
  id: 'wh_3fKq9ZbT0aLm7XyR',
  url: 'https://backend.example.org/rocketchat-events',
  topics: ['room:GENERAL', 'user'],
  events: ['message.created', 'message.updated'],
  filter: { excludeOwn: true },
  description: 'CRM sync',
  enabled: true,
  disabledReason: null,
  disabledAt: null,
  consecutiveFailures: 0,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
  secretRotatedAt: null,
  previousSecretExpiresAt: null,
  format: 'gateway',
  headers: ['x-api-key'],
};

/** The `{id}` of every `/v1/webhooks/{id}...` path. */
export const webhookIdPath = { parameters: [param('WebhookId')] };

export const webhooksPart: OpenApiPart = {
  paths: {
    '/v1/webhooks': {
      post: authenticated({
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary: "Register a URL that receives the user's events, signed (Standard Webhooks) and retried",
        requestBody: jsonBody('WebhookCreate'),
        responses: {
          '201': jsonResponse('Created; `secret` is shown only here', ref('WebhookCreated')),
          '400': errorRef('Invalid'),
          '409': errorRef('Error'),
        },
      }),
      get: authenticated({
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: "The user's webhooks, oldest first, a page at a time",
        parameters: pageParameters(100),
        responses: {
          '200': jsonResponse('The webhooks', ref('WebhookList')),
          '400': errorRef('Invalid'),
        },
      }),
    },
    '/v1/webhooks/{id}': {
      ...webhookIdPath,
      get: authenticated({
        operationId: 'getWebhook',
        tags: ['webhooks'],
        summary: 'One webhook',
        responses: {
          '200': jsonResponse('The webhook', ref('Webhook')),
          '404': errorRef('NotFound'),
        },
      }),
      patch: authenticated({
        operationId: 'updateWebhook',
        tags: ['webhooks'],
        summary: 'Change a webhook (`enabled: true` re-enables it)',
        requestBody: jsonBody('WebhookUpdate'),
        responses: {
          '200': jsonResponse('The changed webhook', ref('WebhookChanged')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
        },
      }),
      delete: authenticated({
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete a webhook',
        responses: {
          '204': { description: 'Deleted' },
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/webhooks/{id}/rotate-secret': {
      ...webhookIdPath,
      post: authenticated({
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: 'A new secret; the old one also signs until `previousSecretExpiresAt`',
        responses: {
          '200': jsonResponse('Rotated', ref('RotatedSecret')),
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/webhooks/{id}/test': {
      ...webhookIdPath,
      post: authenticated({
        operationId: 'testWebhook',
        tags: ['webhooks'],
        summary: 'Deliver a `webhook.test` event',
        responses: {
          '202': jsonResponse('Queued', ref('TestEventQueued')),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
        },
      }),
    },
  },
  schemas: {
    WebhookFields: fieldsOf({
      id: { type: 'string', pattern: '^wh_[A-Za-z0-9_-]{16}$' },
      url: { type: 'string' },
      topics: { type: 'array', items: { type: 'string' } },
      events: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] } },
      filter: {
        ...nullable(ref('ContentFilter')),
        description: 'The content filter (canonical form), or null.',
      },
      description: { type: 'string' },
      enabled: { type: 'boolean' },
      disabledReason: nullable({ type: 'string', enum: ['manual', 'failures', 'gone'] }),
      disabledAt: nullable(isoDateTime),
      consecutiveFailures: { type: 'integer', minimum: 0 },
      createdAt: isoDateTime,
      updatedAt: isoDateTime,
      secretRotatedAt: nullable(isoDateTime),
      previousSecretExpiresAt: nullable(isoDateTime),
      format: { type: 'string', enum: ['gateway', 'rocketchat'] },
      headers: {
        type: 'array',
        items: { type: 'string' },
        description: 'Names of the custom request headers (values are never shown).',
      },
    }),
    Webhook: shownAs('WebhookFields', 'A webhook as the API shows it; its secret never is.'),
    WebhookCreated: shownAs('WebhookFields', 'The new webhook and its signing secret, shown this once.', {
      type: 'object',
      required: ['secret'],
      properties: {
        secret: { type: 'string', pattern: '^whsec_' },
        token: { type: 'string', description: 'Format `rocketchat`: its token, shown this once.' },
      },
    }),
    WebhookChanged: shownAs(
      'WebhookFields',
      'The changed webhook; `token` when the change made one (switching to `rocketchat`).',
      { type: 'object', properties: { token: { type: 'string' } } },
    ),
    WebhookList: pageOf('webhooks', 'Webhook'),
    RotatedSecret: closedObject({
      secret: { type: 'string', pattern: '^whsec_' },
      previousSecretExpiresAt: isoDateTime,
    }),
    TestEventQueued: closedObject({ eventId: { type: 'string' } }),
  },
  examples: {
    WebhookCreate: {
      url: 'https://backend.example.org/rocketchat-events',
      topics: ['room:GENERAL', 'user'],
      events: ['message.created', 'message.updated'],
      description: 'CRM sync',
      filter: { excludeOwn: true },
    },
    WebhookUpdate: { topics: 'room:GENERAL', enabled: true },
    Webhook: EXAMPLE_WEBHOOK,
    WebhookChanged: EXAMPLE_WEBHOOK,
    WebhookCreated: { ...EXAMPLE_WEBHOOK, secret: 'whsec_MfKQ9r33DcAzdfN9Ve8FyAUrNfXz1qBf' },
    WebhookList: { webhooks: [EXAMPLE_WEBHOOK], nextCursor: null },
    RotatedSecret: {
      secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
      previousSecretExpiresAt: EXAMPLE_TIME,
    },
    TestEventQueued: { eventId: '1768469400000-0' },
  },
};
