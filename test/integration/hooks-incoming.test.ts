/**
 * Incoming hooks end to end against the simulator: the `/v1/hooks` registry and the public
 * `POST /hooks/:id/:token`, through the gateway as deployed (`startGateway`, role `all`: the real
 * outbound path over the session pool), a private Redis under this file's own prefix, over a real
 * socket (the seed's curl command is run as it is written). A second replica (role `api`) with a
 * rate limit of 2 per minute serves the rate-limit case.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { createOutboundQueue } from '../../src/features/messages-feature.js';
import type { GatewayCore } from '../../src/gateway.js';
import { createOpenApiDocument } from '../../src/openapi/index.js';
import type { OutboundJobView, OutboundQueue } from '../../src/outbound/index.js';
import { createDocumentValidator } from '../helpers/openapi-validator.js';
import { sharedEnv } from '../helpers/test-core.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const BODY_LIMIT_BYTES = 16 * 1024;

let sim: Simulator;
let gw: TestGateway;
let tight: TestGateway;
/** Reads the jobs the hooks queued (as `GET /v1/messages/:id` does). */
let outbound: OutboundQueue;
let base: string;
let tightBase: string;
const tokens: Record<string, string> = {};
const userIds: Record<string, string> = {};

/** The running gateway's parts, for assertions on what it stored. */
function core(): GatewayCore {
  return gw.gateway.core;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  const options = { redisUrl: inject('redisUrl'), rocketchatUrl: sim.url, shared: sharedEnv() };
  const env = {
    PUBLIC_URL: 'https://hooks.example.test/base/',
    REQUEST_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
  };
  gw = await startTestGateway({ ...options, env: { ...env, RATE_LIMIT_PER_MINUTE: '100000' } });
  tight = await startTestGateway({
    ...options,
    env: { ...env, GATEWAY_ROLE: 'api', RATE_LIMIT_PER_MINUTE: '2' },
  });
  base = gw.url;
  tightBase = tight.url;
  outbound = createOutboundQueue(core());
  for (const username of ['alice', 'bob']) {
    const { token, userId } = await loginThroughGateway(base, username);
    tokens[username] = token;
    userIds[username] = userId;
  }
});

afterAll(async () => {
  await outbound?.close();
  await tight?.close();
  await gw?.close();
  await sim?.close();
});

// --- helpers ---------------------------------------------------------------------------------

interface CreatedHook {
  id: string;
  url: string;
  roomId: string;
  signed: boolean;
  enabled: boolean;
  allowChannelOverride: boolean;
}

async function api(method: string, path: string, body?: unknown, user = 'alice'): Promise<Response> {
  return fetch(`${base}/v1/hooks${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[user]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function createHook(
  body: Record<string, unknown> = { roomId: 'GENERAL' },
  user = 'alice',
): Promise<CreatedHook> {
  const res = await api('POST', '', body, user);
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedHook;
}

/** The hook URL's path on the test server (`PUBLIC_URL` points elsewhere). */
function pathOf(url: string): string {
  return new URL(url).pathname.replace(/^\/base/, '');
}

function postTo(
  url: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  at = base,
): Promise<Response> {
  return fetch(`${at}${pathOf(url)}`, { method: 'POST', headers, body });
}

function postJson(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postTo(url, JSON.stringify(payload), { 'content-type': 'application/json', ...headers });
}

function stored(rid: string, text: string): Record<string, unknown>[] {
  return sim.control.roomMessages(rid).filter((m) => m.msg === text) as unknown as Record<string, unknown>[];
}

async function job(id: string): Promise<OutboundJobView> {
  const view = await outbound.get(userIds.alice!, id);
  if (!view) throw new Error(`no job ${id}`);
  return view;
}

function final(id: string): Promise<OutboundJobView> {
  return waitFor(
    async () => {
      const view = await job(id);
      return view.status === 'queued' ? undefined : view;
    },
    15_000,
    `job ${id} to finish`,
  );
}

function signedHeaders(secret: string, msgId: string, body: string, at = new Date()): Record<string, string> {
  const signature = new Webhook(secret).sign(msgId, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

// --- the registry ----------------------------------------------------------------------------

describe('/v1/hooks registry', () => {
  it('creates a hook whose URL holds a token that is shown once and stored only as its SHA-256', async () => {
    const res = await api('POST', '', { roomId: 'GENERAL', description: 'CI', emoji: ':robot:' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const hook = (await res.json()) as CreatedHook & Record<string, unknown>;
    expect(hook).toMatchObject({
      roomId: 'GENERAL',
      description: 'CI',
      emoji: ':robot:',
      enabled: true,
      signed: false,
    });
    expect(hook.url).toMatch(
      /^https:\/\/hooks\.example\.test\/base\/hooks\/hk_[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{43}$/,
    );
    const token = hook.url.split('/').at(-1)!;

    const read = (await (await api('GET', `/${hook.id}`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(read)).not.toContain(token);
    expect(read).not.toHaveProperty('url');
    const list = (await (await api('GET', '')).json()) as { hooks: { id: string }[] };
    expect(list.hooks.map((x) => x.id)).toContain(hook.id);
    expect(JSON.stringify(list)).not.toContain(token);

    const record = await core().redis.hgetall(core().keys.hook(hook.id));
    expect(JSON.stringify(record)).not.toContain(token);
    const { createHash } = await import('node:crypto');
    expect(record.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
  });

  it('lets a user manage only its own hooks', async () => {
    const hook = await createHook();
    expect((await api('GET', `/${hook.id}`, undefined, 'bob')).status).toBe(404);
    expect((await api('PATCH', `/${hook.id}`, { enabled: false }, 'bob')).status).toBe(404);
    expect((await api('DELETE', `/${hook.id}`, undefined, 'bob')).status).toBe(404);
    expect((await api('POST', `/${hook.id}/rotate-token`, undefined, 'bob')).status).toBe(404);
    expect((await api('GET', `/${hook.id}/requests`, undefined, 'bob')).status).toBe(404);
    const bobs = (await (await api('GET', '', undefined, 'bob')).json()) as { hooks: { id: string }[] };
    expect(bobs.hooks.map((x) => x.id)).not.toContain(hook.id);
    expect((await api('GET', `/${hook.id}`)).status).toBe(200);
  });

  it('pages through the hooks, oldest first, each once, and refuses a cursor that is not its own', async () => {
    for (let i = 0; i < 3; i++) await createHook({ roomId: 'GENERAL' }, 'bob');
    const whole = (await (await api('GET', '', undefined, 'bob')).json()) as {
      hooks: { id: string }[];
      nextCursor: string | null;
    };
    expect(whole.nextCursor).toBeNull();
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api('GET', `?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, 'bob');
      expect(res.status).toBe(200);
      const page = (await res.json()) as { hooks: { id: string }[]; nextCursor: string | null };
      expect(page.hooks.length).toBeLessThanOrEqual(2);
      paged.push(...page.hooks.map((hook) => hook.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(whole.hooks.map((hook) => hook.id));
    const webhooksCursor = Buffer.from(JSON.stringify({ l: 'webhooks', p: [1, 'x'] })).toString('base64url');
    for (const query of [`?cursor=${webhooksCursor}`, '?cursor=!!', '?limit=0', '?limit=abc']) {
      const res = await api('GET', query, undefined, 'bob');
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('GW_ERR_VALIDATION');
    }
  });

  it('refuses a room the owner cannot see, and names the field of a bad body', async () => {
    const secret = sim.control.createRoom({
      t: 'p',
      name: `hidden-${randomUUID().slice(0, 6)}`,
      members: ['bob'],
    });
    const hidden = await api('POST', '', { roomId: secret._id });
    expect([403, 404]).toContain(hidden.status);
    const bad = await api('POST', '', { roomId: 'GENERAL', signingSecret: 'not-a-secret' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^signingSecret: /);
  });

  it('changes and deletes a hook; a deleted hook answers 404', async () => {
    const hook = await createHook();
    const patched = await api('PATCH', `/${hook.id}`, { description: 'changed', alias: 'Bot' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ description: 'changed', alias: 'Bot' });
    const cleared = (await (await api('PATCH', `/${hook.id}`, { alias: null })).json()) as Record<
      string,
      unknown
    >;
    expect(cleared).not.toHaveProperty('alias');
    expect((await api('DELETE', `/${hook.id}`)).status).toBe(204);
    expect((await api('GET', `/${hook.id}`)).status).toBe(404);
    expect((await postJson(hook.url, { text: 'after delete' })).status).toBe(404);
  });
});

// --- the public endpoint ---------------------------------------------------------------------

describe('POST /hooks/:id/:token', () => {
  it("accepts the seed document's example payload unchanged; the text and attachment land in GENERAL", async () => {
    const hook = await createHook();
    // Verbatim from the seed (docs/seeds/003, "Incoming Webhooks", Example Payload).
    const seed = `{ "text": "Message from external system", "channel": "#general", "username": "bot", "attachments": [ { "title": "Attachment", "text": "Attachment text" } ] }`;
    const res = await postTo(hook.url, seed);
    expect(res.status).toBe(202);
    const body = (await res.json()) as OutboundJobView;
    expect(body).toEqual({
      id: expect.stringMatching(/^out_/),
      messageId: expect.any(String),
      status: 'queued',
    });
    expect(await final(body.id)).toMatchObject({ status: 'sent' });
    const [message] = stored('GENERAL', 'Message from external system');
    expect(message?._id).toBe(body.messageId);
    expect(message?.attachments).toEqual([{ title: 'Attachment', text: 'Attachment text' }]);
    expect(message?.alias).toBe('bot');
  });

  it("runs the seed document's curl command unchanged", async () => {
    const hook = await createHook();
    const url = `${base}${pathOf(hook.url)}`;
    // The seed's command, with only the URL replaced by this hook's.
    const { stdout } = await run('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-X',
      'POST',
      url,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{ "text": "Hello", "channel": "#general" }',
    ]);
    const [json, code] = stdout.split('\n');
    expect(code).toBe('202');
    const { id, messageId } = JSON.parse(json!) as OutboundJobView;
    expect(await final(id)).toMatchObject({ status: 'sent' });
    expect(stored('GENERAL', 'Hello').map((m) => m._id)).toContain(messageId);
  });

  it('delivers attachments as Rocket.Chat attachments', async () => {
    const hook = await createHook();
    const attachments = [
      {
        title: 'Build #42 failed',
        title_link: 'https://ci.example.test/42',
        text: 'tests: 3 failed',
        color: '#ff0000',
        fields: [{ short: true, title: 'Branch', value: 'main' }],
      },
    ];
    const res = await postJson(hook.url, { text: 'CI report', attachments });
    expect(res.status).toBe(202);
    const { id, messageId } = (await res.json()) as OutboundJobView;
    expect(await final(id)).toMatchObject({ status: 'sent' });
    const message = sim.control.roomMessages('GENERAL').find((m) => m._id === messageId) as
      | Record<string, unknown>
      | undefined;
    expect(message?.attachments).toEqual(attachments);
  });

  it('accepts a Slack-style form post (payload=<json>) and plain form fields', async () => {
    const hook = await createHook();
    const slack = new URLSearchParams({ payload: JSON.stringify({ text: 'from a slack tool' }) }).toString();
    const res = await postTo(hook.url, slack, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as OutboundJobView;
    expect(await final(id)).toMatchObject({ status: 'sent' });
    expect(stored('GENERAL', 'from a slack tool')).toHaveLength(1);

    const fields = new URLSearchParams({ text: 'from form fields' }).toString();
    const plain = await postTo(hook.url, fields, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(plain.status).toBe(202);
    await final(((await plain.json()) as OutboundJobView).id);
    expect(stored('GENERAL', 'from form fields')).toHaveLength(1);
  });

  it('posts a retry with the same webhook-id once, and the same for Idempotency-Key', async () => {
    const secret = newSecret();
    const hook = await createHook({ roomId: 'GENERAL', signingSecret: secret });
    expect(hook.signed).toBe(true);
    const body = JSON.stringify({ text: 'signed and retried' });
    const msgId = `msg_${randomUUID()}`;
    const first = await postTo(hook.url, body, signedHeaders(secret, msgId, body));
    expect(first.status).toBe(202);
    // The sender's retry: same id, a new timestamp and signature.
    const retry = await postTo(
      hook.url,
      body,
      signedHeaders(secret, msgId, body, new Date(Date.now() + 2000)),
    );
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const a = (await first.json()) as OutboundJobView;
    const b = (await retry.json()) as OutboundJobView;
    expect(b.id).toBe(a.id);
    await final(a.id);
    expect(stored('GENERAL', 'signed and retried')).toHaveLength(1);

    const plain = await createHook();
    const keyed = await Promise.all(
      [1, 2, 3].map(() => postJson(plain.url, { text: 'keyed retry' }, { 'idempotency-key': 'retry-1' })),
    );
    const ids = await Promise.all(keyed.map(async (r) => ((await r.json()) as OutboundJobView).id));
    expect(new Set(ids).size).toBe(1);
    await final(ids[0]!);
    expect(stored('GENERAL', 'keyed retry')).toHaveLength(1);
  });

  it('a signed hook refuses unsigned, badly signed and stale posts with 401, and posts nothing', async () => {
    const secret = newSecret();
    const hook = await createHook({ roomId: 'GENERAL', signingSecret: secret });
    const body = JSON.stringify({ text: 'must be signed' });
    const unsigned = await postTo(hook.url, body);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toBe('GW_ERR_UNAUTHENTICATED');
    const wrongKey = await postTo(hook.url, body, signedHeaders(newSecret(), 'msg_x', body));
    expect(wrongKey.status).toBe(401);
    // A captured post replayed 10 minutes later: its signature is valid, its timestamp is not.
    const old = await postTo(
      hook.url,
      body,
      signedHeaders(secret, 'msg_old', body, new Date(Date.now() - 600_000)),
    );
    expect(old.status).toBe(401);
    expect(((await old.json()) as { message: string }).message).toMatch(/timestamp/i);
    // The body changed after signing.
    const headers = signedHeaders(secret, 'msg_tampered', body);
    expect((await postTo(hook.url, JSON.stringify({ text: 'tampered' }), headers)).status).toBe(401);
    expect(stored('GENERAL', 'must be signed')).toHaveLength(0);
    expect(stored('GENERAL', 'tampered')).toHaveLength(0);

    const good = await postTo(hook.url, body, signedHeaders(secret, 'msg_good', body));
    expect(good.status).toBe(202);
    await final(((await good.json()) as OutboundJobView).id);
    expect(stored('GENERAL', 'must be signed')).toHaveLength(1);
  });

  it('answers a wrong token and an unknown id with the same 404, in similar time', async () => {
    const hook = await createHook();
    const [, , id] = pathOf(hook.url).split('/');
    expect(id).toMatch(/^hk_/);
    const token = hook.url.split('/').at(-1)!;
    const wrongToken = `${base}/hooks/${id}/${'A'.repeat(43)}`;
    const unknownId = `${base}/hooks/hk_${'B'.repeat(22)}/${token}`;
    const send = async (url: string): Promise<[number, string, number]> => {
      const started = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'probe' }),
      });
      const text = await res.text();
      return [res.status, text, performance.now() - started];
    };
    const [s1, b1] = await send(wrongToken);
    const [s2, b2] = await send(unknownId);
    expect(s1).toBe(404);
    expect(s2).toBe(404);
    expect(b1).toBe(b2);
    expect(JSON.parse(b1)).toEqual({ error: 'GW_ERR_NOT_FOUND', message: 'No such hook' });

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 40; i++) {
      wrong.push((await send(wrongToken))[2]);
      unknown.push((await send(unknownId))[2]);
    }
    // Same work on both paths (one Redis read, one constant-time hash compare): the medians of
    // alternating samples stay close. Generous bounds, for a loaded CI machine.
    const [mw, mu] = [median(wrong), median(unknown)];
    expect(Math.abs(mw - mu)).toBeLessThan(Math.max(2, 0.5 * Math.max(mw, mu)));
    expect(stored('GENERAL', 'probe')).toHaveLength(0);
  });

  it('by default posts only to its own room: another channel or a DM is refused with 403', async () => {
    const hook = await createHook();
    expect(hook.allowChannelOverride).toBe(false);
    const opsRoom = await roomIdOfName('ops');
    for (const channel of ['#ops', opsRoom, '@carol', '@bob']) {
      const refused = await postJson(hook.url, { text: 'not outside the hook room', channel });
      expect(refused.status).toBe(403);
      const error = (await refused.json()) as { error: string; message: string };
      expect(error).toMatchObject({ error: 'GW_ERR_FORBIDDEN' });
      expect(error.message).toMatch(/allowChannelOverride/);
    }
    expect(stored(opsRoom, 'not outside the hook room')).toHaveLength(0);
    // Naming its own room, by id or by name, is fine.
    for (const channel of ['GENERAL', '#general']) {
      const res = await postJson(hook.url, { text: `own room as ${channel}`, channel });
      expect(res.status).toBe(202);
      await final(((await res.json()) as OutboundJobView).id);
      expect(stored('GENERAL', `own room as ${channel}`)).toHaveLength(1);
    }
  });

  it('posts to a channel override the owner may post in, and refuses one it may not', async () => {
    const hook = await createHook({ roomId: 'GENERAL', allowChannelOverride: true });
    expect(hook.allowChannelOverride).toBe(true);
    const toOps = await postJson(hook.url, { text: 'to ops by name', channel: '#ops' });
    expect(toOps.status).toBe(202);
    const opsJob = (await toOps.json()) as OutboundJobView;
    await final(opsJob.id);
    const opsRoom = await roomIdOfName('ops');
    expect(stored(opsRoom, 'to ops by name')).toHaveLength(1);

    const dm = await postJson(hook.url, { text: 'to bob directly', channel: '@bob' });
    expect(dm.status).toBe(202);
    const dmJob = (await dm.json()) as OutboundJobView;
    expect(await final(dmJob.id)).toMatchObject({ status: 'sent' });

    const secret = sim.control.createRoom({
      t: 'p',
      name: `secret-${randomUUID().slice(0, 6)}`,
      members: ['bob'],
    });
    for (const channel of [`#${secret.name}`, secret._id]) {
      const refused = await postJson(hook.url, { text: 'must not arrive', channel });
      expect(refused.status).toBe(403);
      const error = (await refused.json()) as { error: string; details?: { upstreamError?: unknown } };
      expect(error.error).toBe('GW_ERR_FORBIDDEN');
      expect(error.details?.upstreamError).toBeDefined();
    }
    const nowhere = await postJson(hook.url, { text: 'must not arrive', channel: '#no-such-room' });
    expect(nowhere.status).toBe(404);
    expect(stored(secret._id, 'must not arrive')).toHaveLength(0);
  });

  it('keeps the per-user limit of 100 hooks under concurrent creations', async () => {
    const parts = core();
    const bobId = sim.control.userId('bob');
    const hookIds = parts.keys.user(bobId).hookIds;
    const taken = (await parts.redis.scard(hookIds)) as number;
    // Places taken by hooks that are not the point here: 97 in all.
    const fillers = Array.from({ length: 97 - taken }, (_, i) => `hk_filler${String(i).padStart(13, '0')}`);
    if (fillers.length > 0) await parts.redis.sadd(hookIds, ...fillers);
    const results = await Promise.all(
      Array.from({ length: 9 }, () => api('POST', '', { roomId: 'GENERAL' }, 'bob')),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 409, 409, 409, 409, 409, 409]);
    expect(await parts.redis.scard(hookIds)).toBe(100);
    if (fillers.length > 0) await parts.redis.srem(hookIds, ...fillers);
  });

  it('rotates the token: the old URL stops working at once, the new one works', async () => {
    const hook = await createHook();
    const rotated = await api('POST', `/${hook.id}/rotate-token`);
    expect(rotated.status).toBe(200);
    const { url } = (await rotated.json()) as { url: string };
    expect(url).not.toBe(hook.url);
    expect(url.split('/').at(-2)).toBe(hook.id);
    expect((await postJson(hook.url, { text: 'old url' })).status).toBe(404);
    const res = await postJson(url, { text: 'new url' });
    expect(res.status).toBe(202);
    await final(((await res.json()) as OutboundJobView).id);
    expect(stored('GENERAL', 'new url')).toHaveLength(1);
    expect(stored('GENERAL', 'old url')).toHaveLength(0);
    expect(await (await api('GET', `/${hook.id}`)).json()).toHaveProperty('tokenRotatedAt');
  });

  it('refuses oversized, malformed, rate-limited posts and disabled hooks, posting nothing', async () => {
    const hook = await createHook();
    const big = await postJson(hook.url, { text: 'x'.repeat(BODY_LIMIT_BYTES) });
    expect(big.status).toBe(413);

    const notJson = await postTo(hook.url, '{"text": "unterminated');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { message: string }).message).toMatch(/JSON/);
    const badAttachments = await postJson(hook.url, { text: 'bad attachments', attachments: 'nope' });
    expect(badAttachments.status).toBe(400);
    expect(((await badAttachments.json()) as { message: string }).message).toMatch(/^attachments: /);
    const empty = await postJson(hook.url, { channel: '#general' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toMatch(/^text: /);
    const badForm = await postTo(hook.url, 'payload=%7Bnot-json', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(badForm.status).toBe(400);
    expect(((await badForm.json()) as { message: string }).message).toMatch(/^payload: /);
    const xml = await postTo(hook.url, '<text>hi</text>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);

    // A hook of its own: both replicas count a hook's posts in the same Redis, and this one has
    // had none yet.
    const limitedHook = await createHook();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await postTo(
        limitedHook.url,
        JSON.stringify({ text: `limited ${i}` }),
        undefined,
        tightBase,
      );
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([202, 202, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);

    expect((await api('PATCH', `/${hook.id}`, { enabled: false })).status).toBe(200);
    const disabled = await postJson(hook.url, { text: 'while disabled' });
    expect(disabled.status).toBe(403);
    expect((await api('PATCH', `/${hook.id}`, { enabled: true })).status).toBe(200);

    expect(stored('GENERAL', 'bad attachments')).toHaveLength(0);
    expect(stored('GENERAL', 'while disabled')).toHaveLength(0);
    expect(stored('GENERAL', 'limited 2')).toHaveLength(0);
  });

  it('lists recent posts with their status and the outcome of the message', async () => {
    const hook = await createHook();
    const ok = await postJson(hook.url, { text: 'logged post' });
    const { id } = (await ok.json()) as OutboundJobView;
    await final(id);
    await postJson(hook.url, { text: '' });
    const requests = await waitFor(async () => {
      const res = await api('GET', `/${hook.id}/requests`);
      const body = (await res.json()) as { requests: Record<string, unknown>[] };
      return body.requests.length >= 2 ? body.requests : undefined;
    });
    expect(requests[0]).toMatchObject({ status: 400, error: { code: 'GW_ERR_VALIDATION' } });
    expect(requests[1]).toMatchObject({ status: 202, jobId: id, outcome: { status: 'sent' } });
    expect(typeof requests[1]!.at).toBe('string');
  });

  it('pages through recent posts with a cursor that stays put while new posts arrive', async () => {
    const hook = await createHook();
    // Refused posts (empty text) are recorded too and post nothing: cheap to make many.
    for (let i = 0; i < 5; i++) await postJson(hook.url, { text: '', n: i });
    type Page = { requests: { at: string }[]; nextCursor: string | null };
    const read = async (query: string): Promise<Page> => {
      const res = await api('GET', `/${hook.id}/requests${query}`);
      expect(res.status, query).toBe(200);
      return (await res.json()) as Page;
    };
    const all = await waitFor(async () => {
      const page = await read('?limit=100');
      return page.requests.length === 5 ? page : undefined;
    });
    expect(all.nextCursor).toBeNull();
    const first = await read('?limit=2');
    expect(first.requests).toEqual(all.requests.slice(0, 2));
    await postJson(hook.url, { text: '', n: 'late' });
    const second = await read(`?limit=2&cursor=${first.nextCursor}`);
    expect(second.requests).toEqual(all.requests.slice(2, 4));
    const third = await read(`?limit=2&cursor=${second.nextCursor}`);
    expect(third.requests).toEqual(all.requests.slice(4));
    expect(third.nextCursor).toBeNull();
    const res = await api('GET', `/${hook.id}/requests?cursor=${first.nextCursor}x`);
    expect(res.status).toBe(400);
  });
});

/** A room's id by name, as alice sees it. */
async function roomIdOfName(name: string): Promise<string> {
  const room = await core().calls.call(userIds.alice!, 'getRoomByTypeAndName', ['p', name], 5000);
  return (room as { _id: string })._id;
}

describe('the OpenAPI document', () => {
  it('describes what the hook routes really answer', async () => {
    const validator = createDocumentValidator(createOpenApiDocument({ publicUrl: 'http://localhost:3000' }));
    const check = (schema: string, body: unknown): void => {
      const validate = validator.at(`/components/schemas/${schema}`);
      expect(validate(body), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
    };
    // Request bodies the routes accept are ones the document describes, as the answers are.
    const createBody = { roomId: 'GENERAL', alias: 'CI', signingSecret: newSecret() };
    const created = await api('POST', '', createBody);
    expect(created.status).toBe(201);
    check('HookCreate', createBody);
    const hook = (await created.json()) as CreatedHook;
    check('HookCreated', hook);
    check('Hook', await (await api('GET', `/${hook.id}`)).json());
    const change = { alias: null, signingSecret: null };
    const changed = await api('PATCH', `/${hook.id}`, change);
    expect(changed.status).toBe(200);
    check('HookUpdate', change);
    check('Hook', await changed.json());
    check('HookList', await (await api('GET', '')).json());
    const { url } = (await (await api('POST', `/${hook.id}/rotate-token`)).json()) as { url: string };
    check('HookUrl', { url });
    const post = { text: 'documented', channel: ['GENERAL'], icon_emoji: ':robot:' };
    const accepted = await postJson(url, post);
    expect(accepted.status).toBe(202);
    check('IncomingHookPayload', post);
    check('OutboundJob', await accepted.json());
    const refused = await postJson(url, { text: '' });
    check('Error', await refused.json());
    check('Error', await (await postJson(hook.url, { text: 'old' })).json());
    const requests = await waitFor(async () => {
      const body = (await (await api('GET', `/${hook.id}/requests`)).json()) as { requests: unknown[] };
      return body.requests.length >= 2 ? body : undefined;
    });
    check('HookRequestList', requests);
  });
});
