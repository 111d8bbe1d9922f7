/**
 * `/metrics` of a whole running gateway (role `all`, against the simulator) after real traffic:
 * the HTTP metrics count requests by route template and status, the outbound queue is exported
 * next to the webhook one, and `promtool check metrics` (Debian's `prometheus`, installed by
 * `npm test`'s set-up) accepts the page without a finding.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/index.js';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const fx = useGatewayFixture({ metrics: createMetrics({ defaultLabels: { role: 'all' } }) });
let auth: Record<string, string>;

/** Every sample line of the page, as `name{labels}` -> value. */
async function scrape(): Promise<{ text: string; samples: Map<string, number> }> {
  const response = await fetch(`${fx.gw.url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return { text, samples };
}

/** The value of the one series of `name` whose labels include all of `labels` (0 when absent). */
function value(samples: Map<string, number>, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let found = 0;
  for (const [series, v] of samples) {
    if (!series.startsWith(`${name}{`)) continue;
    if (wanted.every((pair) => series.includes(pair))) found += v;
  }
  return found;
}

beforeAll(async () => {
  const { token } = await loginThroughGateway(fx.gw.url, 'alice');
  auth = { authorization: `Bearer ${token}` };
});

describe('/metrics of a running gateway, after traffic', () => {
  it('counts HTTP requests by method, route template and status, and times them', async () => {
    const before = (await scrape()).samples;
    const get = (path: string, headers: Record<string, string> = auth) =>
      fetch(`${fx.gw.url}${path}`, { headers });
    await Promise.all([
      get('/v1/webhooks/wh_doesnotexist'),
      get('/v1/webhooks/wh_otherone'),
      get('/v1/webhooks', {}),
      get('/no/such/path/42'),
      get('/healthz', {}),
    ]);
    // The incoming hook's token is a secret: it must never become a label value.
    await fetch(`${fx.gw.url}/hooks/hk_nosuchhook/s3cr3t-t0ken-in-path`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    const { text, samples } = await scrape();
    const moved = (labels: Record<string, string>) =>
      value(samples, 'gateway_http_requests_total', labels) -
      value(before, 'gateway_http_requests_total', labels);

    // Two ids, one series: the template, not the path.
    expect(moved({ method: 'GET', route: '/v1/webhooks/:id', status: '404' })).toBe(2);
    // Refused by authentication before a route matched: the router's mount path.
    expect(moved({ method: 'GET', route: '/v1/webhooks/*', status: '401' })).toBe(1);
    expect(moved({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(moved({ method: 'GET', route: '/healthz', status: '200' })).toBe(1);
    expect(moved({ method: 'POST', route: '/hooks/:id/:token' })).toBe(1);
    expect(value(samples, 'gateway_http_requests_total', { route: '/v1/sessions', status: '201' })).toBe(1);
    expect(text).not.toContain('s3cr3t-t0ken-in-path');
    expect(text).not.toContain('wh_doesnotexist');

    const count = (labels: Record<string, string>) =>
      value(samples, 'gateway_http_request_duration_seconds_count', labels);
    expect(count({ method: 'GET', route: '/v1/webhooks/:id', status: '404' })).toBe(2);
    expect(
      value(samples, 'gateway_http_request_duration_seconds_sum', { route: '/v1/webhooks/:id' }),
    ).toBeGreaterThan(0);
    expect(
      value(samples, 'gateway_http_request_duration_seconds_bucket', {
        route: '/v1/webhooks/:id',
        le: '+Inf',
      }),
    ).toBe(2);
  });

  it('exports the outbound queue like the webhook queue, and it moves with sends', async () => {
    const states = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'];
    const before = (await scrape()).samples;
    for (const state of states)
      expect(
        [...before.keys()].some((s) => s.includes('queue="outbound"') && s.includes(`state="${state}"`)),
      ).toBe(true);
    const delayedBefore = value(before, 'gateway_queue_jobs', { queue: 'outbound', state: 'delayed' });

    // Each accepted job keeps a delayed BullMQ record (the watchdog's) until its outcome is
    // recorded: with Rocket.Chat slow to store them, three pending sends show, then go.
    fx.sim.control.slowMethod('sendMessage', 1500);
    try {
      for (const key of ['m1', 'm2', 'm3']) {
        const response = await fetch(`${fx.gw.url}/v1/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `metrics-live-${key}` },
          body: JSON.stringify({ roomId: 'GENERAL', text: `metrics ${key}` }),
        });
        expect(response.status).toBe(202);
      }
      // Read at every scrape: the pending jobs show up without waiting for a timer.
      await waitFor(
        async () =>
          value((await scrape()).samples, 'gateway_queue_jobs', { queue: 'outbound', state: 'delayed' }) >=
          delayedBefore + 3,
        30_000,
        'three pending outbound jobs in gateway_queue_jobs',
      );
    } finally {
      fx.sim.control.slowMethod('sendMessage', 0);
    }
    await waitFor(
      async () =>
        value((await scrape()).samples, 'gateway_queue_jobs', { queue: 'outbound', state: 'delayed' }) ===
        delayedBefore,
      30_000,
      'the outbound records to go once the messages are sent',
    );
    const after = (await scrape()).samples;
    expect(value(after, 'gateway_outbound_messages_total', { outcome: 'sent' })).toBeGreaterThanOrEqual(3);
    expect(
      value(after, 'gateway_http_requests_total', { method: 'POST', route: '/v1/messages', status: '202' }),
    ).toBe(3);
  });

  it('passes promtool check metrics without a single finding', async () => {
    const { text } = await scrape();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error, 'promtool is missing: npm test installs it (scripts/test-setup.sh)').toBeUndefined();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
  });
});
