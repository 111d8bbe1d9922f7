/**
 * The OpenAPI document (src/openapi/) against the running app: the document is a valid
 * OpenAPI 3.1 description (checked by @seriousme/openapi-schema-validator, which applies the
 * official 3.1 JSON Schema), every `$ref` resolves, and every real response of the app, over a
 * real socket, has a documented status, media type and a body that validates (ajv, JSON Schema
 * 2020-12) against the documented schema; so does every JSON request body the app accepted. A
 * test at the end fails when a documented operation, or a documented request body, was never
 * exercised.
 *
 * The app is composed here from the real routers, the real `authenticate` and rate limit, on the
 * real gateway core (`createTestCore`: session pool, call router, credential store) against the
 * Rocket.Chat simulator and a private Redis.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import type express from 'express';
import type { RequestHandler } from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { ERROR_CODES } from '../../src/errors.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { createApp } from '../../src/http/app.js';
import { createHttpAuth } from '../../src/http/auth/index.js';
import type { HttpContext } from '../../src/http/context.js';
import { chainHandlers, createRateLimit } from '../../src/http/rate-limit.js';
import { createEventTypesRouter } from '../../src/http/routes/event-types.js';
import { createEventsRouter } from '../../src/http/routes/events.js';
import { createEventsCookieRouter } from '../../src/http/routes/events-cookie.js';
import { createMethodsRouter } from '../../src/http/routes/methods.js';
import { createMetricsRouter } from '../../src/http/routes/metrics.js';
import { createSessionsRouter } from '../../src/http/routes/sessions.js';
import { createMetrics } from '../../src/metrics/index.js';
import { createOpenApiDocument, createOpenApiRouter } from '../../src/openapi/index.js';
import { createMessagesRouter, type OutboundQueue, type OutboundSending } from '../../src/outbound/index.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { SseHub } from '../../src/sse/sse-hub.js';
import { createWebhookRouter, createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { createTestLifecycle, httpContextFromCore } from '../helpers/http-context.js';
import { createDocumentValidator } from '../helpers/openapi-validator.js';
import {
  createCoreOutboundQueue,
  createCoreOutboundSending,
  deleteCoreKeys,
} from '../helpers/outbound-harness.js';
import { freePort } from '../helpers/redis-server.js';
import { createTestCore, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, unknown>;
type Method = 'get' | 'post' | 'patch' | 'delete';

const doc = createOpenApiDocument({ publicUrl: 'http://localhost:3000' }) as Json;
const paths = doc['paths'] as Record<string, Record<string, Json>>;

/**
 * Operations checked against this document elsewhere: the incoming-hook routes are exercised,
 * and their responses and accepted request bodies validated against these schemas, by
 * test/integration/hooks-incoming.test.ts.
 */
const PENDING_OPERATIONS = new Set([
  'post /v1/hooks',
  'get /v1/hooks',
  'get /v1/hooks/{id}',
  'patch /v1/hooks/{id}',
  'delete /v1/hooks/{id}',
  'post /v1/hooks/{id}/rotate-token',
  'get /v1/hooks/{id}/requests',
  'post /hooks/{id}/{token}',
]);

const validator = createDocumentValidator(doc);
const exercised = new Set<string>();
/** Operations whose accepted request bodies were validated against the document. */
const requestsChecked = new Set<string>();

/** Follows a local `$ref` (`#/components/...`) in the document. */
function deref<T = Json>(value: unknown): T {
  let current = value as Json;
  while (current && typeof current['$ref'] === 'string') {
    const pointer = (current['$ref'] as string).replace(/^#/, '');
    current = pointer
      .split('/')
      .slice(1)
      .reduce<unknown>(
        (node, part) => (node as Json)[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        doc,
      ) as Json;
    if (current === undefined) throw new Error(`unresolved $ref ${pointer}`);
  }
  return current as T;
}

function pointerPart(text: string): string {
  return text.replace(/~/g, '~0').replace(/\//g, '~1');
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

/**
 * Checks one real response against the document: the operation exists, the status is documented
 * (or a `default` covers it), the media type matches, and the body validates.
 */
function expectDocumented(method: Method, template: string, answer: Answer): void {
  const operation = paths[template]?.[method];
  expect(operation, `${method.toUpperCase()} ${template} is not documented`).toBeDefined();
  const responses = (operation as Json)['responses'] as Json;
  const key = String(answer.status) in responses ? String(answer.status) : 'default';
  const where = `${method.toUpperCase()} ${template} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect(responses[key], `status undocumented: ${where}`).toBeDefined();
  exercised.add(`${method} ${template}`);

  const response = deref(responses[key]);
  const content = response['content'] as Record<string, Json> | undefined;
  if (!content) {
    expect(answer.text, `no body expected: ${where}`).toBe('');
    return;
  }
  const mediaType = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  expect(Object.keys(content), `media type ${mediaType}: ${where}`).toContain(mediaType);
  if (mediaType !== 'application/json') return;

  // The pointer to the schema, through a `$ref`'d response if there is one.
  const responseRef = (responses[key] as Json)['$ref'];
  const base =
    typeof responseRef === 'string'
      ? responseRef.slice(1)
      : `/paths/${pointerPart(template)}/${method}/responses/${key}`;
  const pointer = `${base}/content/${pointerPart(mediaType)}/schema`;
  const validate = validator.at(pointer);
  const isValid = validate(answer.body);
  expect(isValid, `${where}\n${JSON.stringify(validate.errors, null, 2)}`).toBe(true);

  const headers = (response['headers'] ?? {}) as Json;
  if ('Retry-After' in headers && (answer.status === 429 || answer.status === 503)) {
    const body = answer.body as Json;
    if (answer.status === 429 || 'retryAfterMs' in body) {
      expect(answer.headers.get('retry-after'), where).toMatch(/^\d+$/);
    }
  }
}

let sim: Simulator;
let core: TestCore;
let ctx: HttpContext;
let hub: SseHub;
let outbound: OutboundQueue;
let worker: OutboundSending;
let webhooks: WebhookService;
let aliceUserId: string;
let hubSubscriber: Redis;
const servers: Server[] = [];
let baseUrl: string;
let aliceToken: string;

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly base?: string;
}

async function call(method: Method, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] = options.contentType ?? 'text/plain';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${options.base ?? baseUrl}${path}`, {
    method: method.toUpperCase(),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').startsWith('application/json') && text !== '') {
    parsed = JSON.parse(text);
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** A GET with one more header, through node:http (fetch() would refuse some headers and sizes). */
function getWithHeader(path: string, name: string, value: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'GET', headers: { [name]: value } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = new Headers();
        for (const [key, header] of Object.entries(res.headers))
          if (typeof header === 'string') headers.set(key, header);
        resolve({ status: res.statusCode ?? 0, headers, text, body: text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A JSON body the app accepted (2xx) must be one the document describes: the request side of the
 * contract, checked with the same real requests (test/unit/openapi-requests.test.ts checks the
 * refusals).
 */
function expectRequestDocumented(method: Method, template: string, body: unknown): void {
  const operation = paths[template]?.[method] as Json;
  const where = `${method.toUpperCase()} ${template} accepted ${JSON.stringify(body).slice(0, 200)}`;
  const content = (operation['requestBody'] as Json | undefined)?.['content'] as Json | undefined;
  expect(content?.['application/json'], `no JSON request body documented: ${where}`).toBeDefined();
  const pointer = `/paths/${pointerPart(template)}/${method}/requestBody/content/application~1json/schema`;
  const validate = validator.at(pointer);
  expect(validate(body), `${where}\n${JSON.stringify(validate.errors, null, 2)}`).toBe(true);
  requestsChecked.add(`${method} ${template}`);
}

/** `call` and check the answer (and an accepted request body) against the document in one go. */
async function check(
  method: Method,
  template: string,
  path: string,
  expectedStatus: number,
  options: CallOptions = {},
): Promise<Answer> {
  const answer = await call(method, path, options);
  expect(answer.status, `${method.toUpperCase()} ${path}: ${answer.text.slice(0, 300)}`).toBe(expectedStatus);
  expectDocumented(method, template, answer);
  if (options.body !== undefined && answer.status >= 200 && answer.status < 300) {
    expectRequestDocumented(method, template, options.body);
  }
  return answer;
}

function buildApp(context: HttpContext, limitPerMinute?: number): express.Express {
  // A strict limit counts under its own policy, apart from what the main app has counted.
  const limit = createRateLimit(
    context,
    limitPerMinute === undefined ? {} : { limit: limitPerMinute, policy: 'strict' },
  );
  const auth = createHttpAuth(context);
  const authenticated: RequestHandler = chainHandlers(auth.authenticate(), limit);
  return createApp(context, [
    { path: '/', router: createMetricsRouter({ registry: createMetrics().registry }) },
    { path: '/', router: createOpenApiRouter({ publicUrl: 'http://localhost:3000' }) },
    { path: '/', router: createEventTypesRouter() },
    { path: '/v1/sessions', router: createSessionsRouter(context, auth) },
    {
      path: '/v1/events/cookie',
      router: createEventsCookieRouter({ ctx: context, authenticate: authenticated }),
    },
    {
      path: '/',
      router: createEventsRouter({
        ctx: context,
        hub,
        authenticate: chainHandlers(auth.authenticate({ allowQueryToken: true, allowCookie: true }), limit),
      }),
    },
    { path: '/v1/webhooks', router: createWebhookRouter({ authenticate: authenticated, webhooks }) },
    { path: '/v1/messages', router: createMessagesRouter({ outbound, authenticate: authenticated }) },
    {
      path: '/v1/methods',
      router: createMethodsRouter({
        calls: core.calls,
        credentials: core.credentials,
        authenticate: authenticated,
      }),
    },
  ]);
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  core = createTestCore({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', RATE_LIMIT_PER_MINUTE: '10000' },
  });
  await core.calls.start();
  await core.pool?.start();
  hubSubscriber = new Redis(inject('redisUrl'), { lazyConnect: true });
  ctx = httpContextFromCore(core, { subscriber: hubSubscriber });
  hub = new SseHub({
    liveHub: ctx.liveHub,
    eventLog: core.eventLog,
    consumers: core.consumers,
    processId: ctx.processId,
    heartbeatMs: core.config.sse.heartbeatMs,
    retryMs: core.config.sse.retryMs,
    maxBufferBytes: core.config.sse.maxBufferBytes,
  });
  outbound = createCoreOutboundQueue(core);
  worker = createCoreOutboundSending(core, outbound);
  await worker.waitUntilReady();
  const { id: keyId, key } = core.config.encryption.current;
  webhooks = createWebhookService({
    redis: core.redis,
    keys: core.keys,
    config: core.config,
    consumers: core.consumers,
    cipher: createTokenCipher({ currentKeyId: keyId, keys: new Map([[keyId, key]]) }),
    eventLog: core.eventLog,
    logger: core.logger,
  });
  baseUrl = await listen(buildApp(ctx));

  const session = await call('post', '/v1/sessions', { body: { username: 'alice', password: 'alice-pass' } });
  expect(session.status, session.text).toBe(201);
  expectDocumented('post', '/v1/sessions', session);
  aliceToken = (session.body as Json)['token'] as string;
  aliceUserId = (session.body as Json)['userId'] as string;
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  hub?.close();
  await worker?.close(0);
  await outbound?.close();
  await webhooks?.close();
  await ctx?.liveHub.close();
  hubSubscriber?.disconnect();
  if (core) {
    await deleteCoreKeys(core);
    await core.close();
  }
  await sim?.close();
});

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('resolves every $ref and names every operation once', () => {
    const refs: string[] = [];
    const operationIds: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else if (key === 'operationId' && typeof value === 'string') operationIds.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const target of refs) expect(() => deref({ $ref: target }), target).not.toThrow();
    expect(new Set(operationIds).size).toBe(operationIds.length);
  });

  it('describes the whole HTTP surface the issue names', () => {
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/sessions',
        '/v1/sessions/sse-token',
        '/v1/events',
        '/v1/webhooks',
        '/v1/webhooks/{id}',
        '/v1/messages',
        '/v1/messages/{id}',
        '/v1/methods/{name}',
        '/v1/hooks',
        '/hooks/{id}/{token}',
        '/healthz',
        '/readyz',
        '/metrics',
        '/openapi.json',
      ]),
    );
    const errorSchema = deref<Json>({ $ref: '#/components/schemas/Error' });
    expect(errorSchema['required']).toEqual(['error', 'message']);
    const codes = ((errorSchema['properties'] as Json)['error'] as Json)['enum'];
    expect(codes).toEqual(Object.keys(ERROR_CODES));
  });

  it('is what GET /openapi.json serves', async () => {
    const answer = await check('get', '/openapi.json', '/openapi.json', 200);
    expect(answer.body).toEqual(doc);
  });

  it('has the schemas GET /v1/event-types serves, one per event type', async () => {
    const answer = await check('get', '/v1/event-types', '/v1/event-types', 200);
    const catalogue = (answer.body as { eventTypes: { type: string; schema: Json }[] }).eventTypes;
    const components = (doc['components'] as Json)['schemas'] as Record<string, Json>;
    const union = (components['Event']!['oneOf'] as Json[]).map((entry) => deref(entry));
    expect(catalogue.map((entry) => entry.type)).toEqual([...EVENT_TYPES]);
    for (const [i, entry] of catalogue.entries()) expect(union[i], entry.type).toEqual(entry.schema);
  });
});

describe('real responses validate against the document', () => {
  it('probes and metrics', async () => {
    await check('get', '/healthz', '/healthz', 200);
    await check('get', '/readyz', '/readyz', 200);
    const metrics = await check('get', '/metrics', '/metrics', 200);
    expect(metrics.text).toContain('# TYPE gateway_sessions gauge');
    // The 4xx they document: headers beyond Node's limit, refused before the app sees them.
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/v1/event-types']) {
      const refused = await getWithHeader(path, 'x-padding', 'x'.repeat(20 * 1024));
      expect(refused.status, path).toBe(431);
      expectDocumented('get', path, refused);
    }
  });

  it('sessions', async () => {
    await check('post', '/v1/sessions', '/v1/sessions', 400, { body: {} });
    await check('post', '/v1/sessions', '/v1/sessions', 401, {
      body: { username: 'alice', password: 'wrong-password' },
    });
    await check('post', '/v1/sessions', '/v1/sessions', 415, { rawBody: 'username=alice' });
    await check('post', '/v1/sessions/sse-token', '/v1/sessions/sse-token', 201, { token: aliceToken });
    const refused = await check('post', '/v1/sessions/sse-token', '/v1/sessions/sse-token', 401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');

    const carol = await check('post', '/v1/sessions', '/v1/sessions', 201, {
      body: { username: 'carol', password: 'carol-pass' },
    });
    const carolToken = (carol.body as Json)['token'] as string;
    await check('delete', '/v1/sessions', '/v1/sessions', 204, { token: carolToken });
  });

  it('webhooks', async () => {
    const target = `http://127.0.0.1:${await freePort()}/receiver`;
    const created = await check('post', '/v1/webhooks', '/v1/webhooks', 201, {
      token: aliceToken,
      body: { url: target, topics: ['room:GENERAL', 'user'], description: 'openapi test' },
    });
    const id = (created.body as Json)['id'] as string;
    await check('post', '/v1/webhooks', '/v1/webhooks', 400, { token: aliceToken, body: { topics: 'user' } });
    await check('get', '/v1/webhooks', '/v1/webhooks', 200, { token: aliceToken });
    await check('get', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 200, { token: aliceToken });
    await check('get', '/v1/webhooks/{id}', '/v1/webhooks/wh_AAAAAAAAAAAAAAAA', 404, { token: aliceToken });
    await check('patch', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 200, {
      token: aliceToken,
      body: { description: 'changed', events: 'message.created,message.updated' },
    });
    const filtered = await check('patch', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 200, {
      token: aliceToken,
      body: { filter: { excludeOwn: true, senders: ['bob'], messageTypes: ['plain'] } },
    });
    expect((filtered.body as Json)['filter']).toEqual({
      excludeOwn: true,
      senders: ['bob'],
      messageTypes: ['plain'],
    });
    await check('patch', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 400, {
      token: aliceToken,
      body: { filter: { excludeOwn: 'yes' } },
    });
    await check('post', '/v1/webhooks/{id}/rotate-secret', `/v1/webhooks/${id}/rotate-secret`, 200, {
      token: aliceToken,
    });
    await check('post', '/v1/webhooks/{id}/test', `/v1/webhooks/${id}/test`, 202, { token: aliceToken });
    await check('get', '/v1/webhooks/{id}/deliveries', `/v1/webhooks/${id}/deliveries?limit=10`, 200, {
      token: aliceToken,
    });
    await check('get', '/v1/webhooks/{id}/deliveries', `/v1/webhooks/${id}/deliveries?limit=0`, 400, {
      token: aliceToken,
    });
    await check('post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${id}/replay`, 202, {
      token: aliceToken,
      body: { since: 0 },
    });
    await check('get', '/v1/webhooks', '/v1/webhooks?limit=1&cursor=bm9wZQ', 400, { token: aliceToken });
    await check(
      'get',
      '/v1/webhooks/{id}/deliveries',
      `/v1/webhooks/${id}/deliveries?status=failed&event=webhook.test&since=0`,
      200,
      { token: aliceToken },
    );
    await check('get', '/v1/webhooks/{id}/stats', `/v1/webhooks/${id}/stats`, 200, { token: aliceToken });
    await check('get', '/v1/webhooks/{id}/stats', '/v1/webhooks/wh_AAAAAAAAAAAAAAAA/stats', 404, {
      token: aliceToken,
    });
    await check('post', '/v1/webhooks/{id}/resend', `/v1/webhooks/${id}/resend`, 404, {
      token: aliceToken,
      body: { eventId: '1-0' },
    });
    await check('post', '/v1/webhooks/{id}/resend', `/v1/webhooks/${id}/resend`, 400, {
      token: aliceToken,
      body: { eventId: 'not an id' },
    });
    const rocketchat = await check('post', '/v1/webhooks', '/v1/webhooks', 201, {
      token: aliceToken,
      body: { url: target, topics: 'room:GENERAL', format: 'rocketchat', headers: { 'x-api-key': 'k1' } },
    });
    const rocketchatId = (rocketchat.body as Json)['id'] as string;
    await check('patch', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 200, {
      token: aliceToken,
      body: { format: 'rocketchat', events: 'message.created' },
    });
    await check('delete', '/v1/webhooks/{id}', `/v1/webhooks/${rocketchatId}`, 204, { token: aliceToken });
    const logged = await core.eventLog.append({
      type: 'message.created',
      userId: aliceUserId,
      roomId: 'GENERAL',
      ts: new Date().toISOString(),
      data: {
        _id: 'openapiResend01',
        rid: 'GENERAL',
        msg: 'again',
        u: { _id: aliceUserId, username: 'alice' },
      },
    });
    await check('post', '/v1/webhooks/{id}/resend', `/v1/webhooks/${id}/resend`, 202, {
      token: aliceToken,
      body: { eventId: logged?.id },
    });
    // A disabled webhook sends nothing: test and replay are conflicts until it is enabled again.
    await check('patch', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 200, {
      token: aliceToken,
      body: { enabled: false },
    });
    await check('post', '/v1/webhooks/{id}/test', `/v1/webhooks/${id}/test`, 409, { token: aliceToken });
    await check('post', '/v1/webhooks/{id}/resend', `/v1/webhooks/${id}/resend`, 409, {
      token: aliceToken,
      body: { eventId: '1-0' },
    });
    await check('post', '/v1/webhooks/{id}/replay', `/v1/webhooks/${id}/replay`, 409, {
      token: aliceToken,
      body: { since: 0 },
    });
    await check('delete', '/v1/webhooks/{id}', `/v1/webhooks/${id}`, 204, { token: aliceToken });
    await check('get', '/v1/webhooks', '/v1/webhooks', 401);
  });

  it('messages, with an SSE stream whose events validate as Event', async () => {
    const abort = new AbortController();
    const stream = await fetch(`${baseUrl}/v1/events?topics=room:GENERAL`, {
      headers: { authorization: `Bearer ${aliceToken}` },
      signal: abort.signal,
    });
    try {
      if (stream.status !== 200) {
        // Say why before failing: the body is the error, the log has the cause.
        const text = await stream.text();
        const warnings = core.logLines.filter((line) => /"level":(40|50)/.test(line));
        expect.fail(`GET /v1/events -> ${stream.status} ${text}\n${warnings.join('\n')}`);
      }
      expectDocumented('get', '/v1/events', { status: 200, headers: stream.headers, text: '', body: '' });

      const sent = await check('post', '/v1/messages', '/v1/messages', 202, {
        token: aliceToken,
        body: { roomId: 'GENERAL', text: `openapi ${randomUUID()}` },
        headers: { 'idempotency-key': `key-${randomUUID()}` },
      });
      const job = sent.body as Json;
      const jobId = job['id'] as string;

      // Read frames until the message shows up on the stream (bounded by waitFor's deadline).
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      const eventSchema = validator.at('/components/schemas/Event');
      const created = await waitFor(
        async () => {
          const { value, done } = await reader.read();
          if (done) throw new Error('stream ended');
          buffered += decoder.decode(value, { stream: true });
          const frames = buffered.split('\n\n');
          buffered = frames.pop() ?? '';
          for (const frame of frames) {
            const data = frame
              .split('\n')
              .filter((line) => line.startsWith('data: '))
              .map((line) => line.slice(6))
              .join('\n');
            if (!data) continue;
            const event = JSON.parse(data) as Json;
            expect(eventSchema(event), JSON.stringify(eventSchema.errors)).toBe(true);
            if (event['type'] === 'message.created') return event;
          }
          return undefined;
        },
        20_000,
        'message.created on the SSE stream',
      );
      expect(created['roomId']).toBe('GENERAL');

      const done = await waitFor(
        async () => {
          const answer = await call('get', `/v1/messages/${jobId}`, { token: aliceToken });
          return (answer.body as Json)['status'] === 'sent' ? answer : undefined;
        },
        20_000,
        'the message to be sent',
      );
      expectDocumented('get', '/v1/messages/{id}', done);

      await check('patch', '/v1/messages/{id}', `/v1/messages/${jobId}`, 202, {
        token: aliceToken,
        body: { text: 'edited' },
      });
      await check('post', '/v1/messages/{id}/reactions', `/v1/messages/${jobId}/reactions`, 202, {
        token: aliceToken,
        body: { emoji: ':thumbsup:' },
      });
      await check('delete', '/v1/messages/{id}', `/v1/messages/${jobId}`, 202, { token: aliceToken });
    } finally {
      abort.abort();
    }

    await check('post', '/v1/messages', '/v1/messages', 400, {
      token: aliceToken,
      body: { roomId: 'GENERAL' },
    });
    const key = `conflict-${randomUUID()}`;
    await check('post', '/v1/messages', '/v1/messages', 202, {
      token: aliceToken,
      body: { roomId: 'GENERAL', text: 'one' },
      headers: { 'idempotency-key': key },
    });
    await check('post', '/v1/messages', '/v1/messages', 409, {
      token: aliceToken,
      body: { roomId: 'GENERAL', text: 'two' },
      headers: { 'idempotency-key': key },
    });
    await check('get', '/v1/messages/{id}', '/v1/messages/no-such-job', 404, { token: aliceToken });
  });

  it('events errors', async () => {
    await check('get', '/v1/events', '/v1/events', 400, { token: aliceToken });
    await check('get', '/v1/events', '/v1/events?topics=nonsense', 400, { token: aliceToken });
    await check('get', '/v1/events', '/v1/events?topics=user&filter.nope=1', 400, { token: aliceToken });
    await check('get', '/v1/events', '/v1/events?topics=user&since=yesterday', 400, { token: aliceToken });
    await check('get', '/v1/events', '/v1/events?topics=user', 401);
    const cookie = await check('post', '/v1/events/cookie', '/v1/events/cookie', 201, { token: aliceToken });
    expect(cookie.headers.get('set-cookie')).toMatch(
      /^gw_events=.+; Path=\/v1\/events;.*HttpOnly; SameSite=Strict/,
    );
    await check('post', '/v1/events/cookie', '/v1/events/cookie', 401);
    await check('delete', '/v1/events/cookie', '/v1/events/cookie', 204);
  });

  it('methods', async () => {
    const rooms = await check('post', '/v1/methods/{name}', '/v1/methods/rooms/get', 200, {
      token: aliceToken,
      body: { params: [] },
    });
    expect(Array.isArray((rooms.body as Json)['result'])).toBe(true);
    await check('post', '/v1/methods/{name}', '/v1/methods/getRoomById', 400, {
      token: aliceToken,
      body: { params: [42] },
    });
    await check('post', '/v1/methods/{name}', '/v1/methods/login', 404, { token: aliceToken, body: {} });
  });

  it('429 with Retry-After when the rate limit is exceeded', async () => {
    const limited = await listen(buildApp(ctx, 1));
    await check('get', '/v1/webhooks', '/v1/webhooks', 200, { token: aliceToken, base: limited });
    // One request per minute: the next one, on any rate-limited route, is over.
    const refused = await check('post', '/v1/methods/{name}', '/v1/methods/rooms/get', 429, {
      token: aliceToken,
      base: limited,
    });
    expect((refused.body as Json)['error']).toBe('GW_ERR_RATE_LIMITED');
  });

  it('503 while draining, and readiness says so', async () => {
    const lifecycle = createTestLifecycle();
    const draining = await listen(buildApp({ ...ctx, lifecycle }));
    lifecycle.startDraining();
    const refused = await check('post', '/v1/messages', '/v1/messages', 503, {
      token: aliceToken,
      body: { roomId: 'GENERAL', text: 'late' },
      base: draining,
    });
    expect((refused.body as Json)['error']).toBe('GW_ERR_DRAINING');
    await check('get', '/readyz', '/readyz', 503, { base: draining });
  });

  it('exercised every documented operation (hooks: when their routers exist)', () => {
    const documented = Object.entries(paths).flatMap(([template, item]) =>
      Object.keys(item)
        .filter((key) => ['get', 'post', 'patch', 'put', 'delete'].includes(key))
        .map((method) => `${method} ${template}`),
    );
    const missing = documented.filter((op) => !exercised.has(op) && !PENDING_OPERATIONS.has(op));
    expect(missing).toEqual([]);
    // Every operation with a JSON request body had one accepted and checked against the document.
    const withBodies = Object.entries(paths).flatMap(([template, item]) =>
      Object.entries(item)
        .filter(([, operation]) => (operation['requestBody'] as Json | undefined)?.['content'] !== undefined)
        .map(([method]) => `${method} ${template}`),
    );
    const unchecked = withBodies.filter((op) => !requestsChecked.has(op) && !PENDING_OPERATIONS.has(op));
    expect(unchecked).toEqual([]);
    for (const op of PENDING_OPERATIONS) expect(documented).toContain(op);
  });
});
