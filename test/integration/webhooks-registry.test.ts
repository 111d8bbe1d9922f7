/**
 * The `/v1/webhooks` registry API on port 0, with private targets forbidden as in production:
 * create/list/read/update/delete, secrets shown once, validation shared with SSE, one user never
 * seeing another's webhooks, durable consumer registration, and the SSRF refusals at registration.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HostResolver } from '../../src/webhooks/index.js';
import { createWebhookFixture, newUserId, type WebhookFixture } from '../helpers/webhook-fixture.js';

/** DNS as the tests want it: no network needed, and names that resolve to private addresses. */
const resolve: HostResolver = async (hostname) => {
  switch (hostname) {
    case 'hooks.example.com':
      return ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'];
    case 'internal.example.com':
      return ['93.184.216.34', '10.1.2.3'];
    case 'metadata.example.com':
      return ['169.254.169.254'];
    case 'localhost':
      return ['127.0.0.1', '::1'];
    default: {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      err.code = 'ENOTFOUND';
      throw err;
    }
  }
};

const URL_OK = 'https://hooks.example.com/rocketchat';
let fx: WebhookFixture;

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false', WEBHOOK_SECRET_GRACE_MS: '60000' },
    service: { resolve, options: { maxWebhooksPerUser: 3 } },
  });
});

afterAll(async () => {
  await fx.close();
});

describe('registry', () => {
  it('creates a webhook: 201, a whsec_ secret shown once, a durable consumer with its topics', async () => {
    const userId = newUserId();
    const res = await fx.api('POST', '/v1/webhooks', userId, {
      url: URL_OK,
      topics: ['room:GENERAL', 'user'],
      events: ['message.created', 'notification'],
      description: 'CI bot',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/webhooks/${res.body.id}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      url: URL_OK,
      topics: ['room:GENERAL', 'user'],
      events: ['message.created', 'notification'],
      description: 'CI bot',
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
    });
    expect(res.body.id).toMatch(/^wh_[A-Za-z0-9_-]{16}$/);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(res.body.secret.slice(6), 'base64')).toHaveLength(32);

    const read = await fx.api('GET', `/v1/webhooks/${res.body.id}`, userId);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    expect(JSON.stringify(read.body)).not.toContain(res.body.secret.slice(6));
    // The secret is sealed at rest.
    const stored = await fx.redis.hget(fx.keys.user(userId).webhook(res.body.id), 'secret');
    expect(stored).not.toContain(res.body.secret.slice(6));

    // A durable consumer of the owner's session, with the webhook's topics.
    const score = await fx.redis.zscore(fx.keys.user(userId).consumers, `webhook:${res.body.id}`);
    expect(score).toBe('inf');
    expect((await fx.consumers.wantedTopics(userId)).map((t) => t.kind).sort()).toEqual(['room', 'user']);
    expect(await fx.consumers.wantedUsers()).toContain(userId);
  });

  it('lists, updates and deletes; deleting unregisters the consumer', async () => {
    const userId = newUserId();
    const a = (await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' })).body;
    const b = (await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'presence' })).body;
    const list = await fx.api('GET', '/v1/webhooks', userId);
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toEqual([a.id, b.id]);

    const patched = await fx.api('PATCH', `/v1/webhooks/${a.id}`, userId, {
      topics: ['rooms'],
      description: 'changed',
      enabled: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      topics: ['rooms'],
      description: 'changed',
      enabled: false,
      disabledReason: 'manual',
    });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(a.updatedAt));
    const topics = await fx.redis.hget(fx.keys.user(userId).consumerTopics, `webhook:${a.id}`);
    expect(JSON.parse(topics!)).toEqual(['rooms']);

    expect((await fx.api('DELETE', `/v1/webhooks/${a.id}`, userId)).status).toBe(204);
    expect((await fx.api('GET', `/v1/webhooks/${a.id}`, userId)).status).toBe(404);
    expect((await fx.api('DELETE', `/v1/webhooks/${a.id}`, userId)).status).toBe(404);
    expect(await fx.redis.zscore(fx.keys.user(userId).consumers, `webhook:${a.id}`)).toBeNull();
    expect(await fx.redis.sismember(fx.keys.webhookUsers, userId)).toBe(1);

    expect((await fx.api('DELETE', `/v1/webhooks/${b.id}`, userId)).status).toBe(204);
    expect(await fx.redis.sismember(fx.keys.webhookUsers, userId)).toBe(0);
    expect(await fx.consumers.wantedUsers()).not.toContain(userId);
  });

  it('shows and changes only the caller’s own webhooks', async () => {
    const owner = newUserId();
    const other = newUserId();
    const created = (await fx.api('POST', '/v1/webhooks', owner, { url: URL_OK, topics: 'user' })).body;
    const paths = [
      ['GET', `/v1/webhooks/${created.id}`],
      ['PATCH', `/v1/webhooks/${created.id}`, { description: 'x' }],
      ['DELETE', `/v1/webhooks/${created.id}`],
      ['POST', `/v1/webhooks/${created.id}/rotate-secret`],
      ['POST', `/v1/webhooks/${created.id}/test`],
      ['GET', `/v1/webhooks/${created.id}/deliveries`],
      ['POST', `/v1/webhooks/${created.id}/replay`, { since: 0 }],
    ] as const;
    for (const [method, path, body] of paths) {
      const res = await fx.api(method, path, other, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toBe('GW_ERR_NOT_FOUND');
    }
    expect((await fx.api('GET', '/v1/webhooks', other)).body.webhooks).toEqual([]);
    expect((await fx.api('GET', `/v1/webhooks/${created.id}`, owner)).status).toBe(200);
  });

  it('requires authentication', async () => {
    const res = await fx.api('GET', '/v1/webhooks', undefined);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('GW_ERR_UNAUTHENTICATED');
  });

  it('validates topics and event types as SSE does', async () => {
    const userId = newUserId();
    const cases: [unknown, number, string][] = [
      [{ url: URL_OK, topics: 'room:' }, 400, 'GW_ERR_TOPIC_INVALID'],
      [{ url: URL_OK, topics: ['bogus'] }, 400, 'GW_ERR_TOPIC_INVALID'],
      [{ url: URL_OK, topics: [] }, 400, 'GW_ERR_TOPIC_INVALID'],
      [{ url: URL_OK, topics: 'user', events: ['message.exploded'] }, 400, 'GW_ERR_VALIDATION'],
      [{ url: URL_OK }, 400, 'GW_ERR_VALIDATION'],
      [{ url: URL_OK, topics: 'user', secret: 'mine' }, 400, 'GW_ERR_VALIDATION'],
      [{ url: 'not a url', topics: 'user' }, 400, 'GW_ERR_VALIDATION'],
      [{ url: 'https://user:pw@hooks.example.com/', topics: 'user' }, 400, 'GW_ERR_VALIDATION'],
      [{ url: 'https://nx.example.com/', topics: 'user' }, 400, 'GW_ERR_WEBHOOK_TARGET_FORBIDDEN'],
      [{ url: 'ftp://hooks.example.com/', topics: 'user' }, 400, 'GW_ERR_WEBHOOK_TARGET_FORBIDDEN'],
      ['{"url":', 400, 'GW_ERR_VALIDATION'],
    ];
    for (const [body, status, error] of cases) {
      const res = await fx.api('POST', '/v1/webhooks', userId, body);
      expect([res.status, res.body.error], JSON.stringify(body)).toEqual([status, error]);
    }
    expect((await fx.api('GET', '/v1/webhooks', userId)).body.webhooks).toEqual([]);
    const created = (await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' })).body;
    expect((await fx.api('PATCH', `/v1/webhooks/${created.id}`, userId, {})).status).toBe(400);
    expect(
      (await fx.api('PATCH', `/v1/webhooks/${created.id}`, userId, { topics: 'typing:' })).body.error,
    ).toBe('GW_ERR_TOPIC_INVALID');
    expect((await fx.api('GET', `/v1/webhooks/${created.id}/deliveries?limit=0`, userId)).status).toBe(400);
    expect((await fx.api('POST', `/v1/webhooks/${created.id}/replay`, userId, {})).status).toBe(400);
    expect((await fx.api('GET', '/v1/webhooks/wh_nope', userId)).status).toBe(404);
  });

  it('limits the webhooks per user', async () => {
    const userId = newUserId();
    for (let i = 0; i < 3; i++) {
      expect((await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' })).status).toBe(
        201,
      );
    }
    const res = await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' });
    expect([res.status, res.body.error]).toEqual([409, 'GW_ERR_CONFLICT']);
  });

  it('rotates the secret: a new one is shown once, the old one signs until the grace ends', async () => {
    const userId = newUserId();
    const created = (await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' })).body;
    const rotated = await fx.api('POST', `/v1/webhooks/${created.id}/rotate-secret`, userId);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    const read = (await fx.api('GET', `/v1/webhooks/${created.id}`, userId)).body;
    expect(read.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);
    expect(Date.parse(read.secretRotatedAt)).toBeLessThanOrEqual(Date.now());
  });
});

describe('SSRF refusals at registration', () => {
  it.each([
    'https://127.0.0.1/hook',
    'https://127.1/hook',
    'https://2130706433/hook',
    'http://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/hook',
    'https://172.16.5.4/hook',
    'https://192.168.1.1/hook',
    'https://100.64.0.1/hook',
    'https://0.0.0.0/hook',
    'https://224.0.0.1/hook',
    'https://[::1]/hook',
    'https://[::]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[::ffff:a9fe:a9fe]/hook',
    'https://[fe80::1]/hook',
    'https://[fd00::1]/hook',
    'https://[ff02::1]/hook',
    'https://localhost/hook',
    'https://api.localhost/hook',
    'https://metadata.example.com/hook',
    'https://internal.example.com/hook',
  ])('refuses %s', async (url) => {
    const res = await fx.api('POST', '/v1/webhooks', newUserId(), { url, topics: 'user' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
  });

  it('refuses a private target on update too', async () => {
    const userId = newUserId();
    const created = (await fx.api('POST', '/v1/webhooks', userId, { url: URL_OK, topics: 'user' })).body;
    const res = await fx.api('PATCH', `/v1/webhooks/${created.id}`, userId, { url: 'https://10.0.0.1/' });
    expect([res.status, res.body.error]).toEqual([400, 'GW_ERR_WEBHOOK_TARGET_FORBIDDEN']);
    expect((await fx.api('GET', `/v1/webhooks/${created.id}`, userId)).body.url).toBe(URL_OK);
  });

  it('accepts a public https target', async () => {
    const res = await fx.api('POST', '/v1/webhooks', newUserId(), { url: URL_OK, topics: 'user' });
    expect(res.status).toBe(201);
  });
});
