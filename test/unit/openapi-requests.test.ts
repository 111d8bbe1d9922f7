/**
 * Requests against the OpenAPI document, as test/integration/openapi-responses.test.ts checks
 * responses: every request body the document describes is one the gateway validates with zod
 * (src/openapi/request-schemas.ts), its examples pass both the gateway's check and the
 * document's JSON Schema (ajv, 2020-12, formats on), and inputs the gateway refuses for their
 * shape are refused by the document too. The gateway's check is the route's own: the zod schema,
 * or the parse function around it where the route has one (webhooks: custom headers and the
 * Rocket.Chat token have their own parsers).
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createOpenApiDocument, methodParamsName, REQUEST_SCHEMAS } from '../../src/openapi/index.js';
import { METHOD_PARAMS_EXAMPLES } from '../../src/openapi/methods.js';
import { findMethod, METHOD_CATALOGUE } from '../../src/rocketchat/method-catalogue.js';
import { parseCustomHeaders } from '../../src/webhooks/custom-headers.js';
import { parseTargetUrl, type TargetPolicy } from '../../src/webhooks/target-policy.js';
import {
  parseCreateBody,
  parseReplayBody,
  parseResendBody,
  parseUpdateBody,
} from '../../src/webhooks/webhook-schemas.js';
import { createDocumentValidator } from '../helpers/openapi-validator.js';

type Json = Record<string, unknown>;

const doc = createOpenApiDocument({ publicUrl: 'https://gateway.example.org' }) as Json;
const paths = doc['paths'] as Record<string, Record<string, Json>>;
const components = (doc['components'] as Json)['schemas'] as Record<string, Json>;

const validator = createDocumentValidator(doc);

/** Whether the document's component `name` accepts `value`. */
function documentAccepts(name: string, value: unknown): boolean {
  return validator.at(`/components/schemas/${name}`)(value) as boolean;
}

const throwsNothing =
  (parse: (value: unknown) => unknown) =>
  (value: unknown): boolean => {
    try {
      parse(value);
      return true;
    } catch {
      return false;
    }
  };

/** The webhook service's URL check without the network: any scheme and host it may allow. */
const LENIENT_TARGETS: TargetPolicy = { isHttpAllowed: true, isPrivateTargetAllowed: true };

/** The route's own check where it wraps the zod schema; the zod schema otherwise. */
const GATEWAY_CHECKS: Readonly<Record<string, (value: unknown) => boolean>> = {
  WebhookCreate: throwsNothing((value) => parseTargetUrl(parseCreateBody(value).url, LENIENT_TARGETS)),
  WebhookUpdate: throwsNothing((value) => {
    const { url } = parseUpdateBody(value);
    if (url !== undefined) parseTargetUrl(url, LENIENT_TARGETS);
  }),
  ReplayRequest: throwsNothing(parseReplayBody),
  ResendRequest: throwsNothing(parseResendBody),
  CustomHeaders: throwsNothing(parseCustomHeaders),
};

function gatewayAccepts(name: string, value: unknown): boolean {
  const check = GATEWAY_CHECKS[name];
  if (check) return check(value);
  const schema = REQUEST_SCHEMAS.get(name) as z.ZodType;
  return schema.safeParse(value).success;
}

/** The component names a schema refers to directly (`$ref`, or `oneOf`/`anyOf` of them). */
function referencedNames(schema: Json): string[] {
  const target = schema['$ref'];
  if (typeof target === 'string') return [target.slice(target.lastIndexOf('/') + 1)];
  const options = (schema['oneOf'] ?? schema['anyOf'] ?? []) as Json[];
  return options.flatMap(referencedNames);
}

interface DocumentedBody {
  readonly where: string;
  readonly names: readonly string[];
  readonly examples: readonly unknown[];
}

/** Every JSON request body of every operation, with its examples. */
function documentedBodies(): DocumentedBody[] {
  const bodies: DocumentedBody[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const media = ((operation['requestBody'] as Json | undefined)?.['content'] as Json | undefined)?.[
        'application/json'
      ] as Json | undefined;
      if (!media) continue;
      const examples = [
        ...(media['example'] === undefined ? [] : [media['example']]),
        ...Object.values((media['examples'] ?? {}) as Record<string, Json>).map((entry) => entry['value']),
      ];
      bodies.push({ where: `${method} ${path}`, names: referencedNames(media['schema'] as Json), examples });
    }
  }
  return bodies;
}

describe('request bodies in the document', () => {
  const bodies = documentedBodies();

  it('are all named zod schemas of the gateway, none written by hand', () => {
    expect(bodies.length).toBeGreaterThanOrEqual(12);
    for (const body of bodies) {
      expect(body.names.length, `${body.where} refers to no component`).toBeGreaterThan(0);
      for (const name of body.names) expect(REQUEST_SCHEMAS.has(name), `${body.where}: ${name}`).toBe(true);
    }
    // Every named schema is in the document, generated.
    for (const name of REQUEST_SCHEMAS.keys()) expect(components[name], name).toBeDefined();
  });

  it('show examples that the gateway and the document both accept', () => {
    for (const body of bodies) {
      expect(body.examples.length, `${body.where} has no example`).toBeGreaterThan(0);
      for (const example of body.examples) {
        const name = body.names.find((candidate) => documentAccepts(candidate, example));
        expect(name, `${body.where}: the document refuses ${JSON.stringify(example)}`).toBeDefined();
        expect(gatewayAccepts(name as string, example), `${body.where}: the gateway refuses it`).toBe(true);
      }
    }
  });

  it('share one pattern for Rocket.Chat ids', () => {
    const text = JSON.stringify(doc);
    const pattern = JSON.stringify((components['RoomId'] as Json)['pattern']);
    // RoomId, MessageId and UserId each state it once; nothing else copies it.
    expect(text.split(pattern).length - 1).toBe(3);
    const send = components['MessageSend'] as { properties: Record<string, Json> };
    expect(send.properties['roomId']).toEqual({ $ref: '#/components/schemas/RoomId' });
    expect(send.properties['threadId']).toEqual({ $ref: '#/components/schemas/MessageId' });
  });
});

/** What the gateway refuses for its shape, by component: the document must refuse it too. */
const REFUSED: Readonly<Record<string, readonly unknown[]>> = {
  PasswordLogin: [{ username: '', password: 'x' }, { username: 'alice' }, { username: 'alice', password: 7 }],
  TokenLogin: [
    { userId: 'a b', authToken: 'token' },
    { userId: 'aBcD3fGh1JkLmN0pQ', authToken: 'two words' },
  ],
  ContentFilter: [{ senders: [] }, { threadId: 'a/b' }, { excludeOwn: 'yes' }, { unknown: true }],
  WebhookCreate: [
    { topics: 'user' },
    { url: '', topics: 'user' },
    { url: 'backend.example.org/hook', topics: 'user' },
    { url: `https://example.org/${'x'.repeat(2048)}`, topics: 'user' },
    { url: 'https://example.org/hook', topics: 'user', token: 'short' },
    { url: 'https://example.org/hook', topics: 'user', headers: { 'bad name': 'x' } },
    { url: 'https://example.org/hook', topics: 'user', headers: { 'x-api-key': 'x'.repeat(1025) } },
    { url: 'https://example.org/hook', topics: 'user', format: 'slack' },
    { url: 'https://example.org/hook', topics: 'user', secret: 'mine' },
  ],
  WebhookUpdate: [
    {},
    { url: 'not a url' },
    { enabled: 'yes' },
    { description: 'x'.repeat(501) },
    { filter: { senders: [] } },
  ],
  ResendRequest: [{ eventId: 'not an id' }, {}, { eventId: '1-0', extra: 1 }],
  ReplayRequest: [{ since: 'yesterday' }, { since: -1 }, { until: 0 }, { since: 1.5 }],
  MessageSend: [
    { roomId: 'a,b', text: 'hi' },
    { roomId: 'GENERAL' },
    { roomId: 'GENERAL', text: 'x'.repeat(5001) },
    { roomId: 'GENERAL', text: 'hi', threadId: 'no/thread' },
    { roomId: 'GENERAL', text: 'hi', attachments: ['not an object'] },
    { roomId: 'GENERAL', text: 'hi', bcc: 'someone' },
  ],
  MessageEdit: [{ text: '' }, {}, { text: 'x'.repeat(5001) }],
  // The drift the issue names: the document had lost the emoji pattern.
  Reaction: [{ emoji: 'not an emoji!' }, { emoji: ':thumbsup:', shouldReact: 'no' }, {}],
  MethodCall: [{ params: 'GENERAL' }, { params: [], extra: true }],
  HookCreate: [
    { roomId: 'a b' },
    { roomId: 'GENERAL', emoji: 'robot face' },
    { roomId: 'GENERAL', signingSecret: 'secret' },
    { roomId: 'GENERAL', avatar: 'not a url' },
    { roomId: 'GENERAL', enabled: false },
  ],
  HookUpdate: [{ roomId: 'a/b' }, { alias: '' }, { allowChannelOverride: true }],
  IncomingHookPayload: [
    { text: 'x'.repeat(5001) },
    { text: 'hi', tmid: 'not/a/thread' },
    { text: 'hi', channel: ['#a', '#b'] },
    { text: 'hi', attachments: 'none' },
  ],
  CustomHeaders: [
    { 'bad name': 'x' },
    Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])),
  ],
};

/** More that both accept, beyond the examples: the two agree on the edges too. */
const ACCEPTED: Readonly<Record<string, readonly unknown[]>> = {
  Reaction: [{ emoji: 'thumbsup' }, { emoji: ':+1:', shouldReact: false }],
  MessageSend: [{ roomId: 'uidAaaaaaaaaaaaaauidBbbbbbbbbbbbbb', text: 'hi', threadId: 'fXk3pQ9rT2vB8nLm4' }],
  MethodCall: [{}, { params: [] }],
  ReplayRequest: [{ since: 0, until: '2026-01-15T09:30:00+01:00' }],
  IncomingHookPayload: [{ text: 'hi', channel: ['#ops'], mrkdwn: true }],
  WebhookUpdate: [{ filter: null }, { headers: {} }],
};

describe('known inputs, gateway and document agree', () => {
  it.each(Object.entries(REFUSED))('%s: refused by both', (name, inputs) => {
    for (const input of inputs) {
      const shown = JSON.stringify(input).slice(0, 120);
      expect(gatewayAccepts(name, input), `the gateway accepts ${shown}`).toBe(false);
      expect(documentAccepts(name, input), `the document accepts ${shown}`).toBe(false);
    }
  });

  it.each(Object.entries(ACCEPTED))('%s: accepted by both', (name, inputs) => {
    for (const input of inputs) {
      const shown = JSON.stringify(input).slice(0, 120);
      expect(gatewayAccepts(name, input), `the gateway refuses ${shown}`).toBe(true);
      expect(documentAccepts(name, input), `the document refuses ${shown}`).toBe(true);
    }
  });
});

describe('method params', () => {
  it('each callable method has <Method>Params in the document and an example both accept', () => {
    for (const name of METHOD_CATALOGUE.keys()) {
      const component = methodParamsName(name);
      const params = METHOD_PARAMS_EXAMPLES[name];
      expect(params, `no example for ${name}`).toBeDefined();
      expect(findMethod(name)?.params.safeParse(params).success, `${name} refuses its example`).toBe(true);
      expect(documentAccepts(component, params), `${component} refuses the example of ${name}`).toBe(true);
      expect(documentAccepts('MethodCall', { params }), name).toBe(true);
    }
    expect(Object.keys(METHOD_PARAMS_EXAMPLES).sort()).toEqual([...METHOD_CATALOGUE.keys()].sort());
  });

  it.each([
    ['getRoomById', [42]],
    ['getRoomById', []],
    ['getRoomById', ['GENERAL', 'extra']],
    ['loadHistory', ['GENERAL', 'yesterday']],
    ['loadHistory', ['GENERAL', null, 101]],
    ['loadMissedMessages', ['GENERAL', { $date: -1 }]],
    ['messages/get', ['GENERAL', { lastUpdate: { $date: 1 }, type: 'UPDATED' }]],
    ['stream-notify-room', ['GENERAL/typing', 'alice', 'yes']],
    ['stream-notify-room', ['GENERAL/typo', 'alice', true]],
    ['UserPresence:setDefaultStatus', ['sleeping']],
    ['createDirectMessage', []],
    ['toggleFavorite', ['GENERAL', 'true']],
  ])('%s %j: refused by the method and by its params in the document', (name, params) => {
    expect(findMethod(name)?.params.safeParse(params).success).toBe(false);
    expect(documentAccepts(methodParamsName(name), params)).toBe(false);
  });
});
