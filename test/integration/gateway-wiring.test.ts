/**
 * The composition root as deployed (src/gateway.ts `startGateway`, role `all`): every route
 * family is mounted and works end to end through the real parts, against the simulator.
 * Feature behaviour is tested in depth elsewhere; this catches a router left unmounted.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { sharedEnv } from '../helpers/test-core.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const fx = useGatewayFixture({ env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', CONSOLE_ENABLED: 'true' } });
let auth: Record<string, string>;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const response = await fetch(`${fx.gw.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json: json as Record<string, unknown>, text, headers: response.headers };
}

beforeAll(async () => {
  const { token } = await loginThroughGateway(fx.gw.url, 'alice');
  auth = { authorization: `Bearer ${token}` };
});

describe('startGateway (role all)', () => {
  it('serves health, readiness, the OpenAPI document and the console', async () => {
    expect((await call('GET', '/healthz', undefined, {})).status).toBe(200);
    expect((await call('GET', '/readyz', undefined, {})).status).toBe(200);
    const openapi = await call('GET', '/openapi.json', undefined, {});
    expect(openapi.json.openapi).toMatch(/^3\.1/);
    expect((await call('GET', '/console/', undefined, {})).status).toBe(200);
  });

  it('sends a queued message and reports it sent', async () => {
    const accepted = await call('POST', '/v1/messages', { roomId: 'GENERAL', text: 'wired' });
    expect(accepted.status).toBe(202);
    const sent = await waitFor(
      async () => {
        const view = await call('GET', `/v1/messages/${accepted.json.id}`);
        return view.json.status === 'sent' ? view : undefined;
      },
      30_000,
      'the message sent',
    );
    expect(fx.sim.control.roomMessages('GENERAL').some((m) => m._id === sent.json.messageId)).toBe(true);
  });

  it('calls an allowed method and refuses one off the list', async () => {
    const rooms = await call('POST', '/v1/methods/rooms/get', { params: [] });
    expect(rooms.status).toBe(200);
    expect(Array.isArray(rooms.json.result)).toBe(true);
    expect((await call('POST', '/v1/methods/login', { params: [] })).status).toBe(404);
  });

  it('delivers a signed webhook for a message posted in a subscribed room', async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const created = await call('POST', '/v1/webhooks', {
        url: `http://127.0.0.1:${port}/hook`,
        topics: ['room:GENERAL'],
      });
      expect(created.status).toBe(201);
      const secret = String(created.json.secret);
      // The 201 came once the user's session had subscribed the webhook's topics: a message
      // posted right after it is delivered.
      const posted = fx.sim.control.postMessage('bob', 'GENERAL', 'to the webhook');
      const hit = await waitFor(
        () => received.find((r) => r.body.includes(posted._id)),
        30_000,
        'the webhook delivery',
      );
      const event = new Webhook(secret).verify(hit.body, {
        'webhook-id': String(hit.headers['webhook-id']),
        'webhook-timestamp': String(hit.headers['webhook-timestamp']),
        'webhook-signature': String(hit.headers['webhook-signature']),
      }) as { id: string; type: string };
      expect(event.type).toBe('message.created');
      expect(hit.headers['webhook-id']).toBe(event.id);
    } finally {
      receiver.close();
    }
  });

  it('posts through an incoming hook into Rocket.Chat', async () => {
    const created = await call('POST', '/v1/hooks', { roomId: 'GENERAL' });
    expect(created.status).toBe(201);
    const url = new URL(String(created.json.url));
    const posted = await call('POST', url.pathname, { text: 'through a hook' }, {});
    expect(posted.status).toBe(202);
    await waitFor(
      () => fx.sim.control.roomMessages('GENERAL').some((m) => m.msg === 'through a hook'),
      30_000,
      'the hook post',
    );
  });
});

describe('startGateway per role (api and worker over one Redis)', () => {
  let api: TestGateway;
  let worker: TestGateway;

  beforeAll(async () => {
    const shared = sharedEnv();
    const options = { redisUrl: inject('redisUrl'), rocketchatUrl: fx.sim.url, shared };
    api = await startTestGateway({ ...options, env: { GATEWAY_ROLE: 'api', CONSOLE_ENABLED: 'true' } });
    worker = await startTestGateway({ ...options, env: { GATEWAY_ROLE: 'worker', CONSOLE_ENABLED: 'true' } });
  });

  afterAll(async () => {
    await api?.close();
    await worker?.close();
  });

  it('mounts the API on the api role only; both serve health and the API description', async () => {
    for (const gw of [api, worker]) {
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${gw.url}/openapi.json`)).status).toBe(200);
    }
    for (const path of ['/v1/webhooks', '/v1/hooks', '/v1/messages/x', '/v1/events', '/console/']) {
      expect((await fetch(`${api.url}${path}`)).status, `api ${path}`).not.toBe(404);
      expect((await fetch(`${worker.url}${path}`)).status, `worker ${path}`).toBe(404);
    }
  });

  it('holds sessions on the worker role only, which sends what the api role accepted', async () => {
    expect(api.gateway.core.pool).toBeUndefined();
    expect(worker.gateway.core.pool).toBeDefined();
    const { token } = await loginThroughGateway(api.url, 'bob');
    const accepted = await fetch(`${api.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ roomId: 'GENERAL', text: 'sent by the worker role' }),
    });
    expect(accepted.status).toBe(202);
    await waitFor(
      () => fx.sim.control.roomMessages('GENERAL').some((m) => m.msg === 'sent by the worker role'),
      30_000,
      'the message sent by the worker',
    );
  });
});
