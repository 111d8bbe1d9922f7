/**
 * `/v1/sessions`: registering Rocket.Chat credentials and getting gateway tokens. The login bodies
 * (`PasswordLogin`, `TokenLogin`) are generated from the schemas of src/http/routes/sessions.ts.
 */
import {
  authenticated,
  closedObject,
  EXAMPLE_TIME,
  errorRef,
  isoDateTime,
  jsonContent,
  jsonResponse,
  type OpenApiPart,
  ref,
} from './shared.js';

export const sessionsPart: OpenApiPart = {
  paths: {
    '/v1/sessions': {
      post: {
        operationId: 'createSession',
        tags: ['sessions'],
        summary: "Register the user's Rocket.Chat credentials and get a gateway token",
        description:
          'Send `{username, password}` (exchanged for a resume token, never stored) or `{userId, authToken}` (a Rocket.Chat resume token). The token is stored encrypted and the upstream session is shared by every consumer of the user. Failed logins are counted per client address and per account (`LOGIN_MAX_FAILURES_PER_ADDRESS`, `LOGIN_MAX_FAILURES_PER_USER`): beyond them, 429 with `Retry-After`. The answer carries `Cache-Control: no-store`.',
        security: [],
        requestBody: {
          required: true,
          content: jsonContent(
            { oneOf: [ref('PasswordLogin'), ref('TokenLogin')] },
            { username: 'alice', password: 'alice-pass' },
          ),
        },
        responses: {
          '201': jsonResponse('Registered', ref('SessionCreated')),
          '400': errorRef('Invalid'),
          '401': errorRef('Unauthenticated'),
          '415': errorRef('Error'),
          '429': errorRef('RateLimited'),
          '502': errorRef('Error'),
          '503': errorRef('Unavailable'),
          default: errorRef('Error'),
        },
      },
      delete: authenticated({
        operationId: 'deleteSession',
        tags: ['sessions'],
        summary: 'Log out',
        description:
          "Ends the user's stored Rocket.Chat credential as a revoked token would: every gateway token issued for the user before (access and SSE tokens) stops working, also after a new login; SSE streams get `session.unauthorized` and end; webhook deliveries pause until the next login. A Rocket.Chat token the gateway obtained with a password is revoked upstream. The answer clears the SSE cookie (`POST /v1/events/cookie`).",
        responses: { '204': { description: 'Logged out' } },
      }),
    },
    '/v1/sessions/sse-token': {
      post: authenticated({
        operationId: 'createSseToken',
        tags: ['sessions'],
        summary: 'A short-lived token for `GET /v1/events?access_token=` (browsers cannot set headers)',
        description: 'The answer carries `Cache-Control: no-store`.',
        responses: { '201': jsonResponse('Issued', ref('SseToken')) },
      }),
    },
  },
  schemas: {
    SessionCreated: closedObject({
      token: { type: 'string', description: 'Gateway access token: `Authorization: Bearer <token>`.' },
      userId: { type: 'string' },
      username: { type: 'string' },
      expiresAt: isoDateTime,
    }),
    SseToken: closedObject({
      token: { type: 'string', description: 'Only valid as `GET /v1/events?access_token=`.' },
      expiresAt: isoDateTime,
    }),
  },
  examples: {
    SessionCreated: {
      token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
      userId: 'aBcD3fGh1JkLmN0pQ',
      username: 'alice',
      expiresAt: EXAMPLE_TIME,
    },
    SseToken: { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzc2UiOnRydWV9.c2ln', expiresAt: EXAMPLE_TIME },
  },
};
