/**
 * `GET /metrics` through the gateway (`startGateway`, role `api`), and on its own port
 * (`METRICS_PORT`), checked by parsers that are not
 * prom-client: `promtool check metrics` (Debian's `prometheus` package, installed by
 * `npm test`'s scripts/test-setup.sh; never skipped) and the npm package
 * `parse-prometheus-text-format`, a separate implementation of the text format's grammar
 * (lenient, so the test adds the checks it skips: every value a number, every family typed and
 * documented).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createMetricsApp, createMetricsRouter } from '../../src/http/routes/metrics.js';
import { createMetrics, type PrometheusMetrics } from '../../src/metrics/index.js';
import { createHttpTestContext } from '../helpers/http-context.js';
import { freePort } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

interface ParsedSample {
  readonly value?: string;
  readonly labels?: Record<string, string>;
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}
interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly ParsedSample[];
}

// The package is CommonJS without types; `require` keeps the import honest about that.
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => ParsedFamily[];

// A label value with every character the format must escape (quote, backslash, newline).
const AWKWARD_TYPE = 'odd"type\\with\nnewline';

let gw: TestGateway;
let metrics: PrometheusMetrics;
let text: string;
let contentType: string;

function family(name: string): ParsedFamily {
  const found = parsePrometheusTextFormat(text).find((f) => f.name === name);
  if (!found) throw new Error(`metric family ${name} is missing`);
  return found;
}

beforeAll(async () => {
  metrics = createMetrics({ defaultLabels: { role: 'api' } });
  // Some traffic, so counters, gauges and histograms all carry samples.
  metrics.sessions.connected.inc(2);
  metrics.upstreamFrames.in.inc(5);
  metrics.eventsLogged.labels('message.created').inc(3);
  metrics.eventsLogged.labels(AWKWARD_TYPE).inc();
  metrics.eventLag.log.observe(0.02);
  metrics.eventLag.sse.observe(3);
  metrics.webhookDeliveries.success.inc();
  metrics.webhookDeliveryDuration.observe(0.3);
  metrics.queueJobs.labels('outbound', 'waiting').set(7);

  // The API role holds no sessions and sends nothing: the values above stay as recorded.
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
    env: { GATEWAY_ROLE: 'api' },
    metrics,
  });
  const res = await request(gw.url).get('/metrics').expect(200);
  text = res.text;
  contentType = String(res.headers['content-type']);
});

afterAll(async () => {
  await gw?.close();
});

describe('GET /metrics', () => {
  it('answers in the Prometheus text format, uncached', async () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const res = await request(gw.url).get('/metrics').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('passes promtool check metrics without a finding (prom-client defaults included)', () => {
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error, 'promtool is missing: npm test installs it (scripts/test-setup.sh)').toBeUndefined();
    const report = `${result.stdout}${result.stderr}`;
    // 0: clean; 3: lint findings (e.g. prom-client's `nodejs_active_handles_total`, a gauge); 1: no parse.
    expect(result.status, report).toBe(0);
    expect(report.trim()).toBe('');
  });

  it('answers a scrape while a watched queue does not (Redis down), with its last sizes', async () => {
    const watched = createMetrics({ collectDefaultMetrics: false });
    let answer: Promise<Record<string, number>> = Promise.resolve({ waiting: 4 });
    const stop = watched.queueJobs.watch('stuck', () => answer);
    const line = (page: string) => page.split('\n').find((l) => l.includes('queue="stuck",state="waiting"'));
    expect(line(await watched.registry.metrics())).toMatch(/ 4$/);
    answer = new Promise(() => {});
    const startedAt = Date.now();
    expect(line(await watched.registry.metrics())).toMatch(/ 4$/);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    stop();
    answer = Promise.resolve({ waiting: 9 });
    expect(line(await watched.registry.metrics())).toMatch(/ 4$/);
  });

  it('parses with an independent parser: every family typed and documented, every value a number', () => {
    const families = parsePrometheusTextFormat(text);
    expect(families.length).toBeGreaterThan(15);
    for (const f of families) {
      expect(f.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(f.help, f.name).not.toBe('');
      expect(f.type, f.name).not.toBe('UNTYPED');
      for (const sample of f.metrics) {
        const values = [sample.value, sample.count, sample.sum, ...Object.values(sample.buckets ?? {})];
        for (const value of values.filter((v) => v !== undefined)) {
          // Go's ParseFloat, which Prometheus uses, takes NaN and Inf in any case (prom-client
          // writes `Nan` for an empty event-loop histogram).
          const isNumber =
            /^[+-]?(inf|nan)$/i.test(value) || (value.trim() !== '' && !Number.isNaN(Number(value)));
          expect(isNumber, `${f.name} value ${JSON.stringify(value)}`).toBe(true);
        }
      }
    }
  });

  it('follows the naming rules: gateway_ prefix, counters end in _total, durations in _seconds', () => {
    const ours = parsePrometheusTextFormat(text).filter((f) => f.name.startsWith('gateway_'));
    expect(ours.length).toBeGreaterThanOrEqual(15);
    for (const f of ours) {
      if (f.type === 'COUNTER') expect(f.name).toMatch(/_total$/);
      if (f.type === 'HISTOGRAM') expect(f.name).toMatch(/_seconds$/);
    }
  });

  it('carries the values recorded, with the default role label and escaped label values', () => {
    const connected = family('gateway_sessions').metrics.find((s) => s.labels?.['state'] === 'connected');
    expect(connected).toMatchObject({ value: '2', labels: { state: 'connected', role: 'api' } });
    const logged = family('gateway_events_logged_total').metrics;
    expect(logged.find((s) => s.labels?.['type'] === 'message.created')?.value).toBe('3');
    // The awkward value survives the round trip through escaping exactly.
    expect(logged.find((s) => s.labels?.['type'] === AWKWARD_TYPE)?.value).toBe('1');
    const queue = family('gateway_queue_jobs').metrics[0];
    expect(queue).toMatchObject({ value: '7', labels: { queue: 'outbound', state: 'waiting' } });
  });

  it('exposes histograms with cumulative buckets, +Inf, count and sum', () => {
    expect(family('gateway_event_lag_seconds').type).toBe('HISTOGRAM');
    // The npm parser folds the series of a labelled histogram into one and drops their labels,
    // so the sample lines of one series are read here (promtool above checks their syntax).
    const series = (suffix: string): [string, number][] =>
      text
        .split('\n')
        .filter(
          (line) => line.startsWith(`gateway_event_lag_seconds_${suffix}{`) && line.includes('sink="sse"'),
        )
        .map((line) => [
          /[{,]le="([^"]+)"/.exec(line)?.[1] ?? '',
          Number(line.slice(line.lastIndexOf(' ') + 1)),
        ]);
    const buckets = series('bucket');
    expect(buckets.length).toBeGreaterThan(5);
    expect(buckets.at(-1)).toEqual(['+Inf', 1]);
    const counts = buckets.map(([, count]) => count);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(Object.fromEntries(buckets)['2.5']).toBe(0);
    expect(Object.fromEntries(buckets)['5']).toBe(1);
    expect(series('count')).toEqual([['', 1]]);
    expect(series('sum')).toEqual([['', 3]]);
  });

  it('shows fixed-label series at 0 before anything happened', () => {
    const refusals = family('gateway_session_refusals_total').metrics.map((s) => s.labels?.['reason']);
    expect(refusals).toEqual(
      expect.arrayContaining(['capacity', 'draining', 'no_credentials', 'credentials_invalid']),
    );
  });

  it('is still served while the replica drains (Prometheus watches the drain)', async () => {
    const draining = await createHttpTestContext({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
    });
    try {
      const app = createApp(draining.ctx, [
        { path: '/', router: createMetricsRouter({ registry: metrics.registry }) },
      ]);
      draining.lifecycle.startDraining();
      await request(app).get('/metrics').expect(200);
    } finally {
      await draining.close();
    }
  });
});

describe('METRICS_PORT: the separate metrics app', () => {
  it('serves /metrics and nothing else, on a real port; the main port then has no /metrics', async () => {
    const port = await freePort();
    const separate = await startTestGateway({
      redisUrl: inject('redisUrl'),
      rocketchatUrl: `http://127.0.0.1:${await freePort()}`,
      env: { GATEWAY_ROLE: 'api', METRICS_PORT: String(port) },
      metrics,
    });
    try {
      expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
      const parsed = parsePrometheusTextFormat(await res.text());
      expect(parsed.some((f) => f.name === 'gateway_sessions')).toBe(true);

      const other = await fetch(`http://127.0.0.1:${port}/v1/sessions`);
      expect(other.status).toBe(404);
      expect(await other.json()).toEqual({ error: 'GW_ERR_NOT_FOUND', message: expect.any(String) });
    } finally {
      await separate.close();
    }
  });

  it('answers a failing collection with a JSON 500 and logs it', async () => {
    const broken = createMetrics({ collectDefaultMetrics: false });
    broken.registry.registerMetric({
      name: 'gateway_broken',
      help: 'always fails',
      type: 'gauge',
      aggregator: 'sum',
      get: () => Promise.reject(new Error('collector exploded')),
      reset: () => {},
    } as unknown as Parameters<typeof broken.registry.registerMetric>[0]);
    const app = createMetricsApp({ registry: broken.registry, logger: gw.gateway.core.logger });
    const res = await request(app).get('/metrics').expect(500);
    expect(res.body).toEqual({ error: 'GW_ERR_INTERNAL', message: 'Internal error' });
    expect(gw.logLines.some((line) => line.includes('metrics collection failed'))).toBe(true);
  });
});
