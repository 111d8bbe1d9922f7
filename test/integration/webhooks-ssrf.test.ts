/**
 * The SSRF guard at delivery time, on the address actually connected to. Targets are stored as
 * if they had passed registration (a looser policy then, or DNS that changed since: rebinding),
 * and the worker, running with private targets forbidden, must refuse each one without ever
 * opening a connection to the receiver, record the refusal, and keep the event as a dead letter.
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { LookupFunction } from '../../src/webhooks/guarded-agent.js';
import { createWebhookService, type WebhookService } from '../../src/webhooks/index.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  createWebhookFixture,
  FAST_WORKER,
  newUserId,
  type WebhookFixture,
} from '../helpers/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

let fx: WebhookFixture;
let loose: WebhookService;
let rx: WebhookReceiver;

/** The worker's DNS: `rebind.test` now answers loopback (it answered a public address at registration). */
const lookup: LookupFunction = (hostname, options, callback) => {
  const answers: Record<string, LookupAddress[]> = {
    'rebind.test': [{ address: '127.0.0.1', family: 4 }],
    'mixed.test': [
      { address: '93.184.216.34', family: 4 },
      { address: '::ffff:127.0.0.1', family: 6 },
    ],
    localhost: [
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ],
  };
  const list = answers[hostname];
  if (!list) {
    const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    err.code = 'ENOTFOUND';
    callback(err, '');
    return;
  }
  if (options.all) callback(null, list);
  else callback(null, list[0]!.address, list[0]!.family);
};

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false', WEBHOOK_RETRY_SCHEDULE_MS: '50,50' },
    // Registration-time DNS: `rebind.test` looks public.
    service: { resolve: async () => ['93.184.216.34'] },
  });
  loose = createWebhookService({
    redis: fx.redis,
    keys: fx.keys,
    config: loadConfig({ ...fx.env, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }),
    consumers: fx.consumers,
    cipher: fx.cipher,
  });
  rx = await startWebhookReceiver();
  await fx.startWorker({ ...FAST_WORKER, lookup });
});

afterAll(async () => {
  await rx.close();
  await loose.close();
  await fx.close();
});

async function expectRefusedAtDelivery(userId: string, id: string, eventId: string): Promise<void> {
  const [attempt] = await waitFor(async () => {
    const list = await fx.service.deliveries(userId, id, 10);
    return list.length > 0 ? list : undefined;
  });
  expect(attempt).toMatchObject({ eventId, attempt: 1, outcome: 'blocked', statusCode: null });
  expect(attempt!.error).toContain('GW_ERR_WEBHOOK_TARGET_FORBIDDEN');
  // Not retried: the refusal is final and the event is kept for replay.
  const dead = await fx.redis.zscore(fx.keys.user(userId).webhookDeadLetters(id), eventId);
  expect(dead).not.toBeNull();
  expect((await fx.service.deliveries(userId, id, 10)).length).toBe(1);
}

describe('SSRF guard at delivery time', () => {
  it.each([
    ['loopback IPv4', () => `http://127.0.0.1:${rx.port}/hook`],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['private IPv4', () => 'http://10.0.0.1/hook'],
    ['loopback IPv6', () => `http://[::1]:${rx.port}/hook`],
    ['IPv4-mapped loopback', () => `http://[::ffff:127.0.0.1]:${rx.port}/hook`],
    ['a name resolving to loopback', () => `http://localhost:${rx.port}/hook`],
    ['a name with one private answer among public ones', () => `http://mixed.test:${rx.port}/hook`],
  ])('refuses %s', async (_name, target) => {
    const userId = newUserId();
    await fx.saveCredential(userId);
    const { webhook } = await loose.create(userId, {
      url: target(),
      topics: [{ kind: 'user' }],
      eventTypes: [],
      description: '',
    });
    const before = rx.connectionCount;
    const event = await fx.logEvent(userId);
    await expectRefusedAtDelivery(userId, webhook.id, event.id);
    expect(rx.connectionCount).toBe(before);
    expect(rx.hits).toHaveLength(0);
  });

  it('refuses a name that passed registration and now resolves to loopback (DNS rebinding)', async () => {
    const userId = newUserId();
    await fx.saveCredential(userId);
    // Through the real API and its check: `rebind.test` resolves to a public address now.
    const res = await fx.api('POST', '/v1/webhooks', userId, {
      url: `http://rebind.test:${rx.port}/hook`,
      topics: 'user',
    });
    expect(res.status).toBe(201);
    const before = rx.connectionCount;
    const event = await fx.logEvent(userId);
    await expectRefusedAtDelivery(userId, res.body.id, event.id);
    expect(rx.connectionCount).toBe(before);
    expect(rx.hits).toHaveLength(0);
  });
});
