/**
 * Malformed, huge and hostile input on every `/v1/webhooks` route: always a JSON
 * `{error, message}` with a 4xx status, never a 500 or a hang.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HostResolver } from '../../src/webhooks/index.js';
import { createWebhookFixture, newUserId, type WebhookFixture } from '../helpers/webhook-fixture.js';

const resolve: HostResolver = async (hostname) => {
  if (hostname === 'hooks.example.com') return ['93.184.216.34'];
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  throw err;
};

let fx: WebhookFixture;
let userId: string;
let id: string;

beforeAll(async () => {
  fx = await createWebhookFixture({
    redisUrl: inject('redisUrl'),
    env: { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' },
    service: { resolve },
  });
  userId = newUserId();
  const res = await fx.api('POST', '/v1/webhooks', userId, {
    url: 'https://hooks.example.com/x',
    topics: ['user'],
  });
  expect(res.status).toBe(201);
  id = res.body.id;
});

afterAll(async () => {
  await fx.close();
});

async function raw(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await fetch(`${fx.apiUrl}${path}`, {
    method,
    headers: { 'x-test-user': userId, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json as { error?: unknown; message?: unknown } };
}

const huge = 'a'.repeat(200_000);
const cases: [string, string, string | undefined, string?][] = [
  // ids
  ['GET', '/v1/webhooks/%ZZ', undefined],
  ['GET', `/v1/webhooks/${'x'.repeat(5000)}`, undefined],
  ['GET', '/v1/webhooks/wh_..%2F..%2Fetc', undefined],
  ['DELETE', '/v1/webhooks/wh_AAAAAAAAAAAAAAAA', undefined],
  ['POST', '/v1/webhooks/%E0%A4%A/test', undefined],
  ['POST', '/v1/webhooks/wh_AAAAAAAAAAAAAAAA/rotate-secret', undefined],
  // create bodies
  ['POST', '/v1/webhooks', '{not json'],
  ['POST', '/v1/webhooks', 'null'],
  ['POST', '/v1/webhooks', '"str"'],
  ['POST', '/v1/webhooks', '[]'],
  ['POST', '/v1/webhooks', '{}'],
  ['POST', '/v1/webhooks', JSON.stringify({ url: huge, topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'not a url', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'javascript:alert(1)', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'file:///etc/passwd', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://127.0.0.1/', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://[::1]/', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://nowhere.invalid/', topics: ['user'] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: `https://${'a'.repeat(300)}.com/`, topics: ['user'] })],
  [
    'POST',
    '/v1/webhooks',
    JSON.stringify({ url: 'https://hooks.example.com/', topics: Array(201).fill('user') }),
  ],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://hooks.example.com/', topics: [] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://hooks.example.com/', topics: [{}] })],
  ['POST', '/v1/webhooks', JSON.stringify({ url: 'https://hooks.example.com/', topics: ['bogus:x'] })],
  [
    'POST',
    '/v1/webhooks',
    JSON.stringify({ url: 'https://hooks.example.com/', topics: [`room:${'r'.repeat(10000)}`] }),
  ],
  [
    'POST',
    '/v1/webhooks',
    JSON.stringify({ url: 'https://hooks.example.com/', topics: ['user'], events: ['nope'] }),
  ],
  [
    'POST',
    '/v1/webhooks',
    JSON.stringify({ url: 'https://hooks.example.com/', topics: ['user'], description: 'd'.repeat(501) }),
  ],
  ['POST', '/v1/webhooks', 'url=x', 'application/x-www-form-urlencoded'],
  ['POST', '/v1/webhooks', '{"url":1}', 'application/json; charset=latin-9'],
  ['POST', '/v1/webhooks', huge.replace(/a/g, ' ') + '{}'],
  // update
  ['PATCH', '/v1/webhooks/ID', '{}'],
  ['PATCH', '/v1/webhooks/ID', '{"enabled":"yes"}'],
  ['PATCH', '/v1/webhooks/ID', '{"topics":[]}'],
  ['PATCH', '/v1/webhooks/ID', '{"url":"ftp://hooks.example.com/"}'],
  ['PATCH', '/v1/webhooks/ID', '{"secret":"mine"}'],
  // deliveries
  ['GET', '/v1/webhooks/ID/deliveries?limit=0', undefined],
  ['GET', '/v1/webhooks/ID/deliveries?limit=101', undefined],
  ['GET', '/v1/webhooks/ID/deliveries?limit=-1', undefined],
  ['GET', '/v1/webhooks/ID/deliveries?limit=1e2', undefined],
  ['GET', '/v1/webhooks/ID/deliveries?limit=abc', undefined],
  ['GET', '/v1/webhooks/ID/deliveries?limit=1&limit=2', undefined],
  ['GET', `/v1/webhooks/ID/deliveries?limit=${'9'.repeat(5000)}`, undefined],
  // replay
  ['POST', '/v1/webhooks/ID/replay', '{}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":-1}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":1.5}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":1e300}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":"yesterday"}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":"2024-13-45T99:99:99Z"}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":"2024-02-30T00:00:00Z"}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":"-271821-04-19T00:00:00Z"}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":10,"until":5}'],
  ['POST', '/v1/webhooks/ID/replay', '{"since":0,"until":"2024-01-01T00:00:00Z","x":1}'],
];

describe('hostile input', () => {
  it.each(cases)('%s %s', async (method, path, body, contentType) => {
    const res = await raw(method, path.replace('/ID', `/${id}`), body, contentType);
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
    expect(typeof res.body.error).toBe('string');
    expect(typeof res.body.message).toBe('string');
  });
});
