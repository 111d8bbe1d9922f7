/**
 * `/v1/methods/{name}`: synchronous Rocket.Chat method calls. `MethodCall` and one
 * `<Method>Params` per method are generated from src/rocketchat/method-catalogue.ts.
 */
import { METHOD_CATALOGUE } from '../rocketchat/method-catalogue.js';
import { methodParamsName } from './request-schemas.js';
import { authenticated, errorRef, jsonResponse, type OpenApiPart, ref } from './shared.js';

const ROOM = 'GENERAL';
const USER = 'aBcD3fGh1JkLmN0pQ';
const SINCE = { $date: 1768469400000 };

/**
 * One `params` example per method, shown as the request body's examples; the tests check each
 * against the method's schema and its `<Method>Params`, and that no method lacks one.
 */
export const METHOD_PARAMS_EXAMPLES: Readonly<Record<string, readonly unknown[]>> = {
  'rooms/get': [],
  getRoomById: [ROOM],
  getRoomNameById: [ROOM],
  getRoomByTypeAndName: ['c', 'general'],
  readMessages: [ROOM],
  loadHistory: [ROOM, null, 50, SINCE],
  loadMissedMessages: [ROOM, SINCE],
  'messages/get': [ROOM, { lastUpdate: SINCE }],
  getSingleMessage: ['fXk3pQ9rT2vB8nLm4'],
  'subscriptions/get': [SINCE],
  getRoomRoles: [ROOM],
  addRoomOwner: [ROOM, USER],
  removeRoomOwner: [ROOM, USER],
  addRoomModerator: [ROOM, USER],
  removeRoomModerator: [ROOM, USER],
  addRoomLeader: [ROOM, USER],
  removeRoomLeader: [ROOM, USER],
  createChannel: ['release-planning', ['alice', 'bob']],
  createPrivateGroup: ['incident-4711', ['alice'], false],
  createDirectMessage: ['bob'],
  joinRoom: [ROOM],
  leaveRoom: [ROOM],
  archiveRoom: [ROOM],
  unarchiveRoom: [ROOM],
  toggleFavorite: [ROOM, true],
  hideRoom: [ROOM],
  openRoom: [ROOM],
  saveRoomSettings: [ROOM, 'roomTopic', 'Release 4.2'],
  'stream-notify-room': [`${ROOM}/user-activity`, 'alice', ['user-typing']],
  'UserPresence:setDefaultStatus': ['away'],
  'UserPresence:away': [],
  'UserPresence:online': [],
};

/** The request body's examples: one a method, named after it. */
function methodCallExamples(): Record<string, unknown> {
  return Object.fromEntries(
    [...METHOD_CATALOGUE.keys()].flatMap((name) => {
      const params = METHOD_PARAMS_EXAMPLES[name];
      return params === undefined
        ? []
        : [[name, { summary: `${name} (${methodParamsName(name)})`, value: { params } }]];
    }),
  );
}

export const methodsPart: OpenApiPart = {
  paths: {
    '/v1/methods/{name}': {
      post: authenticated({
        operationId: 'callMethod',
        tags: ['methods'],
        summary: 'Call an allowed Rocket.Chat method over the user’s session',
        description:
          "Names keep Rocket.Chat's spelling; slashes are sent as they are (`/v1/methods/rooms/get`). Rocket.Chat errors map to 400 (invalid), 403 (not authorized), 404 (not found), 429 (rate limited, with `Retry-After`), 503 (upstream down) and 504 (timeout); its own code is in `details.upstreamError`.",
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            description: 'The method; its `params` are `<Method>Params` (`rooms/get`: `RoomsGetParams`).',
            schema: { type: 'string', enum: [...METHOD_CATALOGUE.keys()] },
          },
        ],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: ref('MethodCall'), examples: methodCallExamples() } },
        },
        responses: {
          '200': jsonResponse('The result', ref('MethodResult')),
          '400': errorRef('Invalid'),
          '403': errorRef('Forbidden'),
          '404': errorRef('NotFound'),
          '504': errorRef('Error'),
        },
      }),
    },
  },
  schemas: {
    MethodResult: {
      type: 'object',
      required: ['result'],
      properties: {
        result: {
          description:
            "Rocket.Chat's result. A falsy one (`false`, `0`, `\"\"`, `null`, or none at all) is always `null`, except `false` for `loadHistory` and `loadMissedMessages`: Rocket.Chat's ddp-streamer sends no result at all for any of them, so the gateway cannot tell them apart and answers the same for both of Rocket.Chat's DDP servers.",
        },
      },
      additionalProperties: false,
    },
  },
  examples: {
    MethodResult: { result: { update: [], remove: [] } },
  },
};
