/**
 * What became of a webhook's deliveries: `/v1/webhooks/{id}/deliveries`, `/stats`, and sending
 * again (`/resend`, `/replay`). Request bodies are generated from src/webhooks/webhook-schemas.ts.
 */
import {
  authenticated,
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
  ref,
} from './shared.js';
import { webhookIdPath } from './webhooks.js';

export const webhookDeliveriesPart: OpenApiPart = {
  paths: {
    '/v1/webhooks/{id}/deliveries': {
      ...webhookIdPath,
      get: authenticated({
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: 'Recent delivery attempts, newest first, filtered and a page at a time',
        parameters: [
          ...pageParameters(50),
          {
            name: 'status',
            in: 'query',
            description:
              'Comma-separated: `succeeded`, `failed`, or outcomes (`success`, `http_error`, `timeout`, `network_error`, `blocked`).',
            schema: { type: 'string' },
          },
          {
            name: 'event',
            in: 'query',
            description: 'Comma-separated event types (`webhook.test` included).',
            schema: { type: 'string' },
          },
          {
            name: 'since',
            in: 'query',
            description: 'Attempts at or after this time (ISO-8601 or ms since the epoch).',
            schema: { type: 'string' },
          },
          {
            name: 'until',
            in: 'query',
            description: 'Attempts at or before this time (ISO-8601 or ms since the epoch).',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': jsonResponse('Attempts', ref('DeliveryList')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/webhooks/{id}/stats': {
      ...webhookIdPath,
      get: authenticated({
        operationId: 'getWebhookStats',
        tags: ['webhooks'],
        summary: 'Delivery statistics: success rate, last success, last error, backlog',
        responses: {
          '200': jsonResponse('Statistics', ref('WebhookStats')),
          '404': errorRef('NotFound'),
        },
      }),
    },
    '/v1/webhooks/{id}/resend': {
      ...webhookIdPath,
      post: authenticated({
        operationId: 'resendWebhookEvent',
        tags: ['webhooks'],
        summary: 'Deliver one event to this endpoint again (from the log, or its dead letter)',
        description:
          "A new delivery with the same `webhook-id`, retried like any other. The event must still be in the log and match the webhook's topics and types, or be one of its dead letters (404 otherwise).",
        requestBody: jsonBody('ResendRequest'),
        responses: {
          '202': jsonResponse('Queued', ref('ResendQueued')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
        },
      }),
    },
    '/v1/webhooks/{id}/replay': {
      ...webhookIdPath,
      post: authenticated({
        operationId: 'replayWebhook',
        tags: ['webhooks'],
        summary: 'Deliver the dead letters of a time range again',
        requestBody: jsonBody('ReplayRequest'),
        responses: {
          '202': jsonResponse('Queued', ref('ReplayQueued')),
          '400': errorRef('Invalid'),
          '404': errorRef('NotFound'),
          '409': errorRef('Error'),
        },
      }),
    },
  },
  schemas: {
    WebhookStats: {
      type: 'object',
      required: ['attempts', 'successRate', 'lastSuccessAt', 'lastError', 'backlog', 'consecutiveFailures'],
      properties: {
        attempts: {
          type: 'object',
          description: 'Attempts since the webhook was created.',
          required: ['total', 'succeeded', 'failed'],
          properties: {
            total: { type: 'integer', minimum: 0 },
            succeeded: { type: 'integer', minimum: 0 },
            failed: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
        successRate: nullable({ type: 'number', minimum: 0, maximum: 1 }),
        lastSuccessAt: nullable(isoDateTime),
        lastError: nullable({
          type: 'object',
          required: ['at', 'error', 'statusCode'],
          properties: {
            at: isoDateTime,
            error: { type: 'string' },
            statusCode: nullable({ type: 'integer' }),
          },
          additionalProperties: false,
        }),
        backlog: {
          type: 'object',
          description: 'Deliveries waiting for an attempt or a retry; dead letters waiting for a replay.',
          required: ['pending', 'deadLetters'],
          properties: {
            pending: { type: 'integer', minimum: 0 },
            deadLetters: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
        consecutiveFailures: { type: 'integer', minimum: 0 },
      },
      additionalProperties: false,
    },
    ResendQueued: closedObject({ eventId: { type: 'string' }, jobId: { type: 'string' } }),
    Delivery: {
      type: 'object',
      required: [
        'eventId',
        'eventType',
        'attempt',
        'at',
        'statusCode',
        'durationMs',
        'outcome',
        'error',
        'nextAttemptAt',
      ],
      properties: {
        eventId: { type: 'string' },
        eventType: { type: 'string' },
        attempt: { type: 'integer', minimum: 1 },
        at: isoDateTime,
        statusCode: nullable({ type: 'integer' }),
        durationMs: { type: 'number', minimum: 0 },
        outcome: { type: 'string', enum: ['success', 'http_error', 'timeout', 'network_error', 'blocked'] },
        error: nullable({ type: 'string' }),
        nextAttemptAt: nullable(isoDateTime),
        replyJobId: {
          type: 'string',
          description: 'Format `rocketchat`: the outbound job posting the reply (`GET /v1/messages/{id}`).',
        },
        replyError: {
          type: 'string',
          description: 'Format `rocketchat`: why the reply asked for was not posted.',
        },
      },
      additionalProperties: false,
    },
    DeliveryList: pageOf('deliveries', 'Delivery'),
    ReplayQueued: closedObject({ enqueued: { type: 'integer', minimum: 0 } }),
  },
  examples: {
    WebhookStats: {
      attempts: { total: 120, succeeded: 117, failed: 3 },
      successRate: 0.975,
      lastSuccessAt: EXAMPLE_TIME,
      lastError: { at: '2026-01-15T09:12:00.000Z', error: 'HTTP 503', statusCode: 503 },
      backlog: { pending: 2, deadLetters: 0 },
      consecutiveFailures: 0,
    },
    ResendRequest: { eventId: '1768469400000-0' },
    ResendQueued: { eventId: '1768469400000-0', jobId: 'wh_3fKq9ZbT0aLm7XyR.1768469400000-0.s1768470000000' },
    DeliveryList: {
      deliveries: [
        {
          eventId: '1768469400000-0',
          eventType: 'message.created',
          attempt: 1,
          at: EXAMPLE_TIME,
          statusCode: 200,
          durationMs: 84,
          outcome: 'success',
          error: null,
          nextAttemptAt: null,
        },
      ],
      nextCursor: 'eyJsIjoiZGVsaXZlcmllcyIsInAiOls0MV19',
    },
    ReplayRequest: { since: '2026-01-15T00:00:00.000Z', until: EXAMPLE_TIME },
    ReplayQueued: { enqueued: 42 },
  },
};
