/**
 * `/v1/events` (the SSE stream and its cookie), `/v1/event-types`, and what a webhook receiver
 * gets (OpenAPI 3.1 `webhooks`). The event schemas are generated from src/events/event-schemas.ts.
 */
import { FILTER_QUERY_PREFIX } from '../events/content-filter.js';
import { eventComponentName, eventJsonSchema } from '../events/event-schemas.js';
import { EVENT_TYPES } from '../events/types.js';
import { requestJsonSchemas } from './request-schemas.js';
import {
  AUTHENTICATED,
  AUTHENTICATED_ERRORS,
  authenticated,
  EXAMPLE_TIME,
  errorRef,
  HEADERS_TOO_LARGE,
  isoDateTime,
  jsonBody,
  jsonResponse,
  type OpenApiPart,
  ref,
  type Schema,
} from './shared.js';

/**
 * `GET /v1/events` takes the `ContentFilter` fields as `filter.<field>` parameters
 * (src/events/content-filter.ts `FILTER_QUERY_PREFIX`), lists as comma-separated strings.
 */
function filterQueryParameters(): Schema[] {
  const filter = requestJsonSchemas()['ContentFilter'] ?? {};
  return Object.entries((filter['properties'] ?? {}) as Record<string, Schema>).map(([field, schema]) => {
    const { description, ...rest } = schema;
    const isList = rest['type'] === 'array';
    return {
      name: `${FILTER_QUERY_PREFIX}${field}`,
      in: 'query',
      description: isList
        ? `${String(description)} Comma-separated (at most ${String(rest['maxItems'])}).`
        : description,
      schema: isList ? { type: 'string' } : rest,
    };
  });
}

export const eventsPart: OpenApiPart = {
  paths: {
    '/v1/events/cookie': {
      post: authenticated({
        operationId: 'createEventsCookie',
        tags: ['events'],
        summary: 'Set the SSE cookie: a browser EventSource authenticates without a token in its URL',
        description: [
          'Sets `gw_events`, an HttpOnly, `SameSite=Strict` cookie with `Path=/v1/events` (and `Secure` over HTTPS or with an https `PUBLIC_URL`)',
          'holding an SSE token that lives `SSE_QUERY_TOKEN_TTL_SECONDS`; call again before `expiresAt` to renew it.',
          'Only `GET /v1/events` accepts the cookie, and only when the request has no `Origin` or the gateway’s own',
          'or one listed in `CORS_ORIGINS` (`*` does not count). The cookie itself does not authenticate this call.',
          'The answer carries `Cache-Control: no-store`.',
        ].join(' '),
        responses: {
          '201': jsonResponse('Set', ref('EventsCookie'), {
            'Set-Cookie': {
              description:
                '`gw_events=<token>; Path=/v1/events; Max-Age=<s>; Expires=<date>; HttpOnly; SameSite=Strict[; Secure]`',
              schema: { type: 'string' },
            },
          }),
        },
      }),
      delete: {
        operationId: 'deleteEventsCookie',
        tags: ['events'],
        summary: 'Clear the SSE cookie',
        description:
          'Needs no authentication (dropping a cookie grants nothing). `DELETE /v1/sessions` clears it too.',
        security: [],
        responses: {
          '204': { description: 'Cleared (`Set-Cookie` with `Max-Age=0`)' },
          '431': HEADERS_TOO_LARGE,
          '503': errorRef('Unavailable'),
          default: errorRef('Error'),
        },
      },
    },
    '/v1/events': {
      get: {
        operationId: 'streamEvents',
        tags: ['events'],
        summary: "The user's events as Server-Sent Events",
        description: [
          'Frames: `id: <event id>`, `event: <type>`, `data: <Event JSON>`. A `retry:` field comes first,',
          'comment lines (`: heartbeat`) keep proxies from closing an idle stream. Resume with the',
          '`Last-Event-ID` header (browsers send it themselves) or `?lastEventId=`. When the id is older',
          'than the log keeps, a `gap` event says so before the replay. A first connection may ask for',
          'history: `since=<ISO time>` replays what the log holds from then, `lastEventId=earliest`',
          '(or `Last-Event-ID: earliest`) all of it; a `history` event comes first,',
          '`{"since": <ISO time or null>, "firstAvailableId": <id or null>, "truncated": <bool>}`',
          '(`truncated`: the log no longer holds everything since then), then the replay, then live',
          'events. A real `Last-Event-ID` wins over `since` (a browser reconnecting to the same URL).',
          '`filter.<field>` parameters (`ContentFilter`) keep only some messages, live and replayed.',
          'A draining replica sends `reconnect` and closes: reconnect and resume on another replica.',
        ].join(' '),
        security: [...AUTHENTICATED, { accessTokenQuery: [] }, { eventsCookie: [] }],
        parameters: [
          {
            name: 'topics',
            in: 'query',
            required: true,
            description: 'Comma-separated: `room:<rid>`, `rooms`, `typing:<rid>`, `user`, `presence`.',
            schema: { type: 'string' },
            examples: { room: { value: 'room:GENERAL,user' } },
          },
          {
            name: 'types',
            in: 'query',
            description: 'Comma-separated event types to keep (default: all).',
            schema: { type: 'string' },
          },
          {
            name: 'lastEventId',
            in: 'query',
            description: 'Resume after this event id, or `earliest`: everything the log holds.',
            schema: { type: 'string', pattern: '^(\\d+-\\d+|earliest)$' },
          },
          {
            name: 'Last-Event-ID',
            in: 'header',
            schema: { type: 'string', pattern: '^(\\d+-\\d+|earliest)$' },
          },
          {
            name: 'since',
            in: 'query',
            description:
              'Replay the log from this time (ISO-8601 with a zone) before going live; one in the future is just live. Not with `lastEventId`.',
            schema: isoDateTime,
          },
          ...filterQueryParameters(),
          {
            name: 'access_token',
            in: 'query',
            description: 'An SSE token from `POST /v1/sessions/sse-token`.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'An endless `text/event-stream`; each `data:` is an `Event`.',
            content: {
              'text/event-stream': {
                schema: {
                  type: 'string',
                  description: 'SSE frames; the `data:` of each event frame is an `Event` (see components).',
                },
                example:
                  'retry: 3000\n\nid: 1768469400000-0\nevent: message.created\ndata: {"id":"1768469400000-0","type":"message.created","userId":"aBcD3fGh1JkLmN0pQ","roomId":"GENERAL","ts":"2026-01-15T09:30:00.000Z","data":{"msg":"hello"}}\n\n: heartbeat\n\n',
              },
            },
          },
          '400': errorRef('Invalid'),
          '403': errorRef('Forbidden'),
          ...AUTHENTICATED_ERRORS,
        },
      },
    },
    '/v1/event-types': {
      get: {
        operationId: 'listEventTypes',
        tags: ['events'],
        summary: 'Every event type with the JSON Schema of its envelope',
        description:
          'The same schemas as `Event` in this document, generated from the one place the gateway defines them. Needs no authentication.',
        security: [],
        responses: {
          '200': jsonResponse('The catalogue, in a stable order', ref('EventTypeCatalogue')),
          '431': HEADERS_TOO_LARGE,
        },
      },
    },
  },
  schemas: {
    EventsCookie: {
      type: 'object',
      required: ['expiresAt'],
      properties: { expiresAt: { ...isoDateTime, description: 'When the cookie and its token end.' } },
      additionalProperties: false,
    },
    Event: {
      description:
        'One gateway event: the `data:` of an SSE frame and the body of a webhook delivery, byte for byte. `type` says which of the shapes below it is; `GET /v1/event-types` serves the same schemas.',
      oneOf: EVENT_TYPES.map((type) => ref(eventComponentName(type))),
      discriminator: {
        propertyName: 'type',
        mapping: Object.fromEntries(
          EVENT_TYPES.map((type) => [type, `#/components/schemas/${eventComponentName(type)}`]),
        ),
      },
    },
    ...Object.fromEntries(EVENT_TYPES.map((type) => [eventComponentName(type), eventJsonSchema(type)])),
    EventTypeCatalogue: {
      type: 'object',
      required: ['eventTypes'],
      properties: {
        eventTypes: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type', 'description', 'schema'],
            properties: {
              type: { type: 'string', enum: [...EVENT_TYPES] },
              description: { type: 'string' },
              schema: {
                type: 'object',
                description: "JSON Schema (2020-12) of the event's envelope, `data` included.",
              },
            },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
  },
  examples: {
    EventsCookie: { expiresAt: EXAMPLE_TIME },
    Event: {
      id: '1768469400000-0',
      type: 'message.created',
      userId: 'aBcD3fGh1JkLmN0pQ',
      roomId: 'GENERAL',
      ts: EXAMPLE_TIME,
      data: { _id: 'fXk3pQ9rT2vB8nLm4', rid: 'GENERAL', msg: 'hello', u: { _id: 'xYz', username: 'bob' } },
    },
    EventTypeCatalogue: {
      eventTypes: [
        {
          type: 'typing',
          description: 'Someone started or stopped typing in a room',
          schema: { type: 'object', properties: { type: { type: 'string', const: 'typing' } } },
        },
      ],
    },
    ContentFilter: { excludeOwn: true, mentionsMe: true },
  },
};

/** What a webhook receiver gets (OpenAPI 3.1 `webhooks`): the same `Event` as SSE `data:`. */
export const EVENT_WEBHOOKS: Schema = {
  gatewayEvent: {
    post: {
      operationId: 'receiveEvent',
      summary: 'One event, delivered to a registered webhook URL',
      description:
        'Signed per the Standard Webhooks spec: HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>` with the webhook secret, base64 in `webhook-signature` as `v1,<sig>` (two signatures during a secret rotation). Answer 2xx within `WEBHOOK_TIMEOUT_MS`; anything else is retried on `WEBHOOK_RETRY_SCHEDULE_MS`, then dead-lettered.',
      parameters: [
        { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' } },
      ],
      requestBody: jsonBody('Event'),
      responses: { '200': { description: 'Received (any 2xx)' } },
    },
  },
};
