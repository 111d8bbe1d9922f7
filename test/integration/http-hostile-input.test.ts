/**
 * Hostile and malformed input against the full app (startGateway, role all): every answer is a
 * JSON `{error, message}` with a 4xx status, never a 500, a crash or a hang.
 */
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let sim: Simulator;
let gw: TestGateway;
let bearer: string;
let hookPath: string;

interface Probe {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  /** Whether to add the caller's Authorization header. @defaultValue true */
  readonly auth?: boolean;
}

async function send(probe: Probe) {
  const headers: Record<string, string> = { ...(probe.auth === false ? {} : { authorization: bearer }) };
  Object.assign(headers, probe.headers);
  const response = await fetch(`${gw.url}${probe.path}`, {
    method: probe.method,
    headers,
    body: probe.body,
    signal: AbortSignal.timeout(10_000),
  });
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, json: undefined, text: '(stream)' };
  }
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

const JSON_TYPE = { 'content-type': 'application/json' };
const big = 'x'.repeat(200_000);

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
  const { token } = await loginThroughGateway(gw.url, 'alice');
  bearer = `Bearer ${token}`;
  const created = await send({
    name: 'create hook',
    method: 'POST',
    path: '/v1/hooks',
    headers: JSON_TYPE,
    body: JSON.stringify({ roomId: 'GENERAL' }),
  });
  hookPath = new URL(String(created.json?.url)).pathname;
});
afterAll(async () => {
  await gw?.close();
  await sim?.close();
});

function probes(): Probe[] {
  const hostileJson = [
    ['array body', '[1,2]'],
    ['string body', '"x"'],
    ['null body', 'null'],
    ['proto key', '{"__proto__":{"admin":true},"roomId":"GENERAL","text":"x"}'],
    ['constructor key', '{"constructor":{"prototype":{"x":1}}}'],
    ['arrays for strings', '{"username":["a"],"password":["b"],"roomId":["GENERAL"],"text":["x"]}'],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
    ['invalid json', '{"a":'],
    ['huge string', JSON.stringify({ username: big, password: big, roomId: big, text: big })],
  ] as const;
  const list: Probe[] = [];
  const jsonTargets: [string, string][] = [
    ['POST', '/v1/sessions'],
    ['POST', '/v1/messages'],
    ['PATCH', '/v1/messages/abc'],
    ['POST', '/v1/messages/abc/reactions'],
    ['POST', '/v1/methods/rooms/get'],
    ['POST', '/v1/hooks'],
    ['PATCH', '/v1/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa'],
    ['POST', '/v1/webhooks'],
    ['PATCH', '/v1/webhooks/wh_aaaaaaaaaaaaaaaa'],
  ];
  for (const [method, path] of jsonTargets) {
    for (const [name, body] of hostileJson)
      list.push({ name: `${method} ${path} ${name}`, method, path, headers: JSON_TYPE, body });
    list.push({
      name: `${method} ${path} text/plain`,
      method,
      path,
      headers: { 'content-type': 'text/plain' },
      body: '{"params":[1]}',
    });
    list.push({ name: `${method} ${path} no type`, method, path, body: '{"params":[1]}' });
    list.push({
      name: `${method} ${path} form`,
      method,
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b',
    });
    list.push({
      name: `${method} ${path} latin1 charset`,
      method,
      path,
      headers: { 'content-type': 'application/json; charset=latin1' },
      body: '{}',
    });
    list.push({
      name: `${method} ${path} non-utf8`,
      method,
      path,
      headers: JSON_TYPE,
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    });
    list.push({
      name: `${method} ${path} gzip garbage`,
      method,
      path,
      headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
      body: 'not gzip',
    });
    list.push({
      name: `${method} ${path} bad encoding`,
      method,
      path,
      headers: { ...JSON_TYPE, 'content-encoding': 'bogus' },
      body: '{}',
    });
    list.push({
      name: `${method} ${path} too large`,
      method,
      path,
      headers: JSON_TYPE,
      body: JSON.stringify({ a: 'x'.repeat(3_000_000) }),
    });
  }
  const authHeaders: [string, Record<string, string>][] = [
    ['garbage authorization', { authorization: 'garbage' }],
    ['basic', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['bearer junk', { authorization: 'Bearer aaa.bbb.ccc' }],
    ['bearer long', { authorization: `Bearer ${'a'.repeat(8000)}` }],
    ['bearer none alg', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }],
    ['user id only', { 'x-user-id': 'abc' }],
    ['token only', { 'x-auth-token': 'abc' }],
    ['bad user id', { 'x-user-id': '{x}', 'x-auth-token': 'abc' }],
    ['long user id', { 'x-user-id': 'a'.repeat(5000), 'x-auth-token': 'abc' }],
    ['wrong pair', { 'x-user-id': 'abc', 'x-auth-token': 'def' }],
    ['long token', { 'x-user-id': 'abc', 'x-auth-token': 'a'.repeat(5000) }],
  ];
  for (const [name, headers] of authHeaders) {
    for (const [method, path] of [
      ['GET', '/v1/events?topics=user'],
      ['POST', '/v1/sessions/sse-token'],
      ['GET', '/v1/hooks'],
      ['POST', '/v1/methods/rooms/get'],
      ['DELETE', '/v1/sessions'],
    ]) {
      list.push({ name: `${method} ${path} ${name}`, method: method!, path: path!, headers, auth: false });
    }
  }
  const queries = [
    'topics=',
    'topics=a&topics=b',
    'topics[]=x',
    'topics[a]=x',
    `topics=${'room:x,'.repeat(1500)}`,
    'topics=room:%FF',
    'topics=user&types=bogus',
    'topics=user&types[]=x',
    'topics=user&lastEventId=abc',
    'topics=user&lastEventId=1-1&lastEventId=2-2',
    'topics=user&lastEventId[]=1-1',
    'topics=room:__proto__',
    'topics=%00',
    'topics=user&access_token=x',
    'topics=user&types=',
    `topics=user&lastEventId=${'9'.repeat(400)}-1`,
  ];
  for (const q of queries)
    list.push({ name: `GET events ?${q.slice(0, 60)}`, method: 'GET', path: `/v1/events?${q}` });
  for (const q of [
    'access_token=x',
    'access_token=a&access_token=b',
    'access_token[]=a',
    `access_token=${'a'.repeat(9000)}`,
  ]) {
    list.push({
      name: `GET events anon ?${q.slice(0, 40)}`,
      method: 'GET',
      path: `/v1/events?topics=user&${q}`,
      auth: false,
    });
  }
  list.push({
    name: 'GET events lastEventId header junk',
    method: 'GET',
    path: '/v1/events?topics=user',
    headers: { 'last-event-id': 'junk' },
  });
  for (const path of [
    `/v1/messages/${'a'.repeat(6000)}`,
    '/v1/messages/%FF',
    '/v1/messages/__proto__',
    '/v1/messages/%00',
    `/v1/hooks/${'a'.repeat(6000)}`,
    '/v1/hooks/%FF',
    '/v1/hooks/__proto__',
    '/v1/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa/requests?limit=abc',
    '/v1/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa/requests?limit=1&limit=2',
    '/v1/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa/requests?limit=-1',
  ])
    list.push({ name: `GET ${path.slice(0, 60)}`, method: 'GET', path });
  for (const path of [
    `/v1/messages/${'a'.repeat(6000)}`,
    '/v1/messages/%FF',
    `/v1/hooks/${'a'.repeat(6000)}`,
    '/v1/hooks/__proto__/rotate-token',
  ]) {
    list.push({
      name: `DELETE/POST ${path.slice(0, 60)}`,
      method: path.endsWith('rotate-token') ? 'POST' : 'DELETE',
      path,
    });
  }
  for (const path of [
    '/v1/methods/%FF',
    `/v1/methods/${'a'.repeat(6000)}`,
    '/v1/methods/__proto__',
    '/v1/methods/constructor',
    '/v1/methods/toString',
    '/v1/methods/hasOwnProperty',
  ]) {
    list.push({
      name: `POST methods ${path.slice(0, 40)}`,
      method: 'POST',
      path,
      headers: JSON_TYPE,
      body: '{}',
    });
  }
  list.push({
    name: 'rooms/get params not array',
    method: 'POST',
    path: '/v1/methods/rooms/get',
    headers: JSON_TYPE,
    body: '{"params":"x"}',
  });
  list.push({
    name: 'rooms/get extra key',
    method: 'POST',
    path: '/v1/methods/rooms/get',
    headers: JSON_TYPE,
    body: '{"params":[],"x":1}',
  });
  for (const body of [
    '{"roomId":"GENERAL","allowChannelOverride":"yes"}',
    '{"roomId":"GENERAL","allowChannelOverride":null}',
    '{"roomId":"GENERAL","allowChannelOverride":1}',
  ]) {
    list.push({ name: `hooks create ${body}`, method: 'POST', path: '/v1/hooks', headers: JSON_TYPE, body });
  }
  list.push({
    name: 'PATCH hook allowChannelOverride (creation only)',
    method: 'PATCH',
    path: '/v1/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa',
    headers: JSON_TYPE,
    body: '{"allowChannelOverride":true}',
  });
  for (const authToken of ['a\r\nb', 'a b', 'a\u0000b', '\u00e9t\u00e9']) {
    list.push({
      name: `sessions token login authToken ${authToken}`,
      method: 'POST',
      path: '/v1/sessions',
      headers: JSON_TYPE,
      body: `{"userId":"abc","authToken":"${authToken}"}`,
      auth: false,
    });
  }
  list.push({
    name: 'messages bad idem key',
    method: 'POST',
    path: '/v1/messages',
    headers: { ...JSON_TYPE, 'idempotency-key': 'a b' },
    body: '{"roomId":"GENERAL","text":"x"}',
  });
  return list;
}

function hookProbes(): Probe[] {
  const p = (
    name: string,
    headers: Record<string, string> | undefined,
    body: string | Uint8Array | undefined,
    path = hookPath,
  ): Probe => ({
    name: `hook ${name}`,
    method: 'POST',
    path,
    auth: false,
    ...(headers ? { headers } : {}),
    ...(body === undefined ? {} : { body }),
  });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  return [
    p('no body', undefined, undefined),
    p('array', JSON_TYPE, '[1]'),
    p('proto', JSON_TYPE, '{"__proto__":{"text":"x"}}'),
    p('text array', JSON_TYPE, '{"text":["x"]}'),
    p('channel two', JSON_TYPE, '{"text":"x","channel":["a","b"]}'),
    p('huge text', JSON_TYPE, JSON.stringify({ text: big })),
    p('too large', JSON_TYPE, 'x'.repeat(3_000_000)),
    p('deep', JSON_TYPE, `{"text":"x","attachments":[${'['.repeat(5000)}${']'.repeat(5000)}]}`),
    p('non utf8', JSON_TYPE, new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    p('xml', { 'content-type': 'application/xml' }, '<a/>'),
    p('form payload bad', form, 'payload=%7B'),
    p('form payload array', form, 'payload=%5B%5D'),
    p('form proto', form, '__proto__=x&text='),
    p('form repeated text', form, 'text=a&text=b&channel=%00'),
    p('form bad percent', form, 'text=%E0%A4%A&tmid=%'),
    p('bad charset', { 'content-type': 'application/json; charset=utf-16' }, '{"text":""}'),
    p('gzip garbage', { ...JSON_TYPE, 'content-encoding': 'gzip' }, 'nope'),
    p('bad encoding', { ...JSON_TYPE, 'content-encoding': 'bogus' }, '{}'),
    p('bad idem', { ...JSON_TYPE, 'idempotency-key': 'a b' }, '{"text":"x"}'),
    p('tmid bad', JSON_TYPE, '{"text":"x","tmid":"../x"}'),
    p('channel nul', JSON_TYPE, '{"text":"x","channel":"#\\u0000"}'),
    p(
      'unknown hook',
      JSON_TYPE,
      '{"text":"x"}',
      '/hooks/hk_aaaaaaaaaaaaaaaaaaaaaa/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    ),
    p('long id', JSON_TYPE, '{"text":"x"}', `/hooks/${'a'.repeat(6000)}/x`),
    p('bad percent id', JSON_TYPE, '{"text":"x"}', '/hooks/%FF/%FF'),
    p('proto id', JSON_TYPE, '{"text":"x"}', '/hooks/__proto__/constructor'),
  ];
}

describe('hostile input', () => {
  it('answers every probe with a JSON 4xx', async () => {
    const failures: string[] = [];
    for (const probe of [...probes(), ...hookProbes()]) {
      let line: string;
      try {
        const r = await send(probe);
        const isStream = r.text === '(stream)' && r.status === 200;
        const ok =
          isStream ||
          (r.status >= 400 &&
            r.status < 500 &&
            typeof r.json?.error === 'string' &&
            typeof r.json?.message === 'string');
        line = `${ok ? 'ok ' : 'BAD'} ${r.status} ${probe.name} -> ${r.text.slice(0, 160)}`;
      } catch (err) {
        line = `BAD threw ${probe.name}: ${String(err)}`;
      }
      console.log(line);
      if (line.startsWith('BAD')) failures.push(line);
    }
    expect(failures).toEqual([]);
  });
});

describe('tokens, credentials and body limits under hostile input', () => {
  it('token answers are not cached (Cache-Control: no-store)', async () => {
    const login = await fetch(`${gw.url}/v1/sessions`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ username: 'carol', password: 'carol-pass' }),
    });
    expect(login.status).toBe(201);
    expect(login.headers.get('cache-control')).toBe('no-store');
    const { token } = (await login.json()) as { token: string };
    const sse = await fetch(`${gw.url}/v1/sessions/sse-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(sse.status).toBe(201);
    expect(sse.headers.get('cache-control')).toBe('no-store');
  });

  it('a CR/LF in authToken is bad input (400), not an upstream failure (503)', async () => {
    const before = gw.logLines.length;
    const r = await send({
      name: 'crlf',
      method: 'POST',
      path: '/v1/sessions',
      headers: JSON_TYPE,
      body: JSON.stringify({ userId: 'abc', authToken: 'a\r\nX-Injected: 1' }),
      auth: false,
    });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'GW_ERR_VALIDATION' });
    expect(String(r.json?.message)).toMatch(/^authToken: /);
    expect(gw.logLines.slice(before).join('')).not.toMatch(/"level":50/);
  });

  it('the webhook registry applies its own 64 kB body limit', async () => {
    const r = await send({
      name: 'webhook body',
      method: 'POST',
      path: '/v1/webhooks',
      headers: JSON_TYPE,
      body: JSON.stringify({
        url: 'https://example.org/hook',
        topics: ['user'],
        description: 'x'.repeat(100_000),
      }),
    });
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ error: 'GW_ERR_PAYLOAD_TOO_LARGE' });
    expect(String(r.json?.message)).toContain('65536');
  });

  it('a token with an expiry far beyond JWT_TTL_SECONDS is refused', async () => {
    const claims = jwt.decode(bearer.slice('Bearer '.length)) as Record<string, unknown>;
    const forever = jwt.sign(
      { ...claims, exp: 1e11, iat: Math.floor(Date.now() / 1000) },
      gw.env.JWT_SECRET!,
    );
    const r = await send({
      name: 'forever',
      method: 'GET',
      path: '/v1/hooks',
      headers: { authorization: `Bearer ${forever}` },
      auth: false,
    });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ error: 'GW_ERR_UNAUTHENTICATED' });
  });

  it('X-User-Id/X-Auth-Token is not served from the cache once the stored credential is invalid', async () => {
    const pair = sim.control.tokenFor('bob');
    const headers = { 'x-user-id': pair.userId, 'x-auth-token': pair.authToken };
    const ok = await send({ name: 'pair', method: 'GET', path: '/v1/hooks', headers, auth: false });
    expect(ok.status).toBe(200);
    // Rocket.Chat revokes the token; the session notices and marks the credential invalid.
    sim.control.revokeTokens('bob');
    await gw.gateway.core.credentials.markInvalid(pair.userId, 'revoked upstream');
    const after = await send({ name: 'pair again', method: 'GET', path: '/v1/hooks', headers, auth: false });
    expect(after.status).toBe(401);
  });
});

describe('bodies and query parameters that are present but wrong', () => {
  it('POST /v1/methods/:name refuses a body that is not JSON instead of calling with no params', async () => {
    const plain = await send({
      name: 'plain',
      method: 'POST',
      path: '/v1/methods/rooms/get',
      headers: { 'content-type': 'text/plain' },
      body: '{"params":[]}',
    });
    expect(plain.status).toBe(415);
    expect(plain.json?.error).toBe('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
    const form = await send({
      name: 'form',
      method: 'POST',
      path: '/v1/methods/rooms/get',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'params=1',
    });
    expect(form.status).toBe(415);
  });

  it('POST /v1/methods/:name without any body still means no params', async () => {
    expect((await send({ name: 'empty', method: 'POST', path: '/v1/methods/rooms/get' })).status).toBe(200);
    const typedEmpty = await send({
      name: 'typed empty',
      method: 'POST',
      path: '/v1/methods/rooms/get',
      headers: JSON_TYPE,
    });
    expect(typedEmpty.status).toBe(200);
  });

  it('GET /v1/events refuses lastEventId given twice instead of ignoring it', async () => {
    const r = await send({
      name: 'twice',
      method: 'GET',
      path: '/v1/events?topics=user&lastEventId=1-1&lastEventId=2-2',
    });
    expect(r.status).toBe(400);
    expect(r.json?.error).toBe('GW_ERR_VALIDATION');
  });
});
