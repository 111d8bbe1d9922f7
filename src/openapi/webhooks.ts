/**
 * `/v1/webhooks`: outgoing webhooks. Request bodies are generated from src/webhooks/webhook-schemas.ts.
 */
import { EVENT_TYPES } from '../events/types.js';
import {
  AUTHENTICATED,
  AUTHENTICATED_ERRORS,
  closedObject,
  EXAMPLE_TIME,
  errorRef,
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

const webhookIdPath = { parameters: [param('WebhookId')] };

export const webhooksPart: OpenApiPart = {
  paths: {
    '/v1/webhooks': {
      post: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary: "Register a URL that receives the user's events, signed (Standard Webhooks) and retried",
        security: AUTHENTICATED,
        requestBody: jsonBody('WebhookCreate'),
        responses: {
          '201': jsonResponse('Created; `secret` is shown only here', ref('WebhookCreated')),
          '400': errorRef('Invalid'),
          '409': errorRef('Error'),
          ...AUTHENTICATED_ERRORS,
        },
      },
      get: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: "The user's webhooks, oldest first, a page at a time",
        security: AUTHENTICATED,
        parameters: pageParameters(100),
        responses: {
          '200': jsonResponse('The webhooks', ref('WebhookList')),
          '400': errorRef('Invalid'),
          ...AUTHENTICATED_ERRORS,
        },
      },
    },
    '/v1/webhooks/{id}': {
      ...webhookIdPath,
      get: {
        operationId: 'getWebhook',
        tags: ['webhooks'],
        summary: 'One webhook',
        security: AUTHENTICATED,
        responses: {
          '200': jsonResponse('The webhook', ref('Webhook')),
          '404': errorRef('NotFound'),
          ...AUTHENTICATED_ERRORS,
        },
      },
      patch: {
        operationId: 'updateWebhook',
        tags: ['webhooks'],
        summary: 'Change a webhook (`enabled: true` re-enables it)',
        security: AUTHENTICATED,
        requestBody: jsonBody('WebhookUpdate'),
        responses: {
          '200': jsonResponse('The changed webhook', ref('WebhookChanged')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
          ...AUTHENTICATED_ERRORS,
        },
      },
      delete: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete a webhook',
        security: AUTHENTICATED,
        responses: {
          '204': { description: 'Deleted' },
          '404': errorRef('NotFound'),
          ...AUTHENTICATED_ERRORS,
        },
      },
    },
    '/v1/webhooks/{id}/rotate-secret': {
      ...webhookIdPath,
      post: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: 'A new secret; the old one also signs until `previousSecretExpiresAt`',
        security: AUTHENTICATED,
        responses: {
          '200': jsonResponse('Rotated', ref('RotatedSecret')),
          '404': errorRef('NotFound'),
          ...AUTHENTICATED_ERRORS,
        },
      },
    },
    '/v1/webhooks/{id}/test': {
      ...webhookIdPath,
      post: {
        operationId: 'testWebhook',
        tags: ['webhooks'],
        summary: 'Deliver a `webhook.test` event',
        security: AUTHENTICATED,
        responses: {
          '202': jsonResponse('Queued', ref('TestEventQueued')),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
          ...AUTHENTICATED_ERRORS,
        },
      },
    },
  },
  schemas: {
    WebhookFields: {
      type: 'object',
      required: [
        'id',
        'url',
        'topics',
        'events',
        'filter',
        'description',
        'enabled',
        'disabledReason',
        'disabledAt',
        'consecutiveFailures',
        'createdAt',
        'updatedAt',
        'secretRotatedAt',
        'previousSecretExpiresAt',
        'format',
        'headers',
      ],
      properties: {
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
      },
    },
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
