/**
 * Every metric the gateway exports, defined here and nowhere else: `gateway_` prefix, counters
 * end in `_total`, durations are histograms in `_seconds` (Prometheus naming guide). Each call
 * makes its own `Registry`, never prom-client's global one, so tests and several gateways in one
 * process do not collide.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import {
  bindLabels,
  type CounterHandle,
  EVENT_SINKS,
  FORWARDED_CALL_OUTCOMES,
  FRAME_DIRECTIONS,
  type GaugeHandle,
  type HistogramHandle,
  type Metrics,
  OUTBOUND_OUTCOMES,
  QUEUE_JOB_STATES,
  type QueueJobCounts,
  type QueueJobState,
  SESSION_METRIC_STATES,
  SESSION_REFUSAL_REASONS,
  UPSTREAM_SKIP_REASONS,
  WEBHOOK_DELIVERY_OUTCOMES,
} from './metrics.js';

export interface MetricsOptions {
  /**
   * Also export Node's process metrics (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`,
   * ...). They keep their standard unprefixed names so stock dashboards work.
   * @defaultValue true
   */
  readonly collectDefaultMetrics?: boolean;
  /** Labels added to every series, e.g. `{ role: 'worker' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
}

export interface PrometheusMetrics extends Metrics {
  /** Serve `registry.metrics()` with `registry.contentType` at `/metrics`. */
  readonly registry: Registry;
}

// Upstream-to-sink lag: milliseconds when live, up to an hour for a replay after an outage.
const LAG_BUCKETS_SECONDS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600,
];
// One webhook HTTP attempt; WEBHOOK_TIMEOUT_MS defaults to 10 s, so the top buckets catch timeouts.
const DELIVERY_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Event types come from our normalizer and are few; the cap only guards the registry's memory
// should a bug ever put unbounded values (ids) in the label.
const MAX_EVENT_TYPES = 200;
const OVERFLOW_EVENT_TYPE = 'other';
// One HTTP request, from the first byte in to the last byte out (an SSE stream: its lifetime).
const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Route templates are few; the cap guards against a router that would ever put raw paths in.
const MAX_HTTP_SERIES = 500;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// A scrape waits this long for a queue's sizes, then answers with the last ones (Redis down).
const QUEUE_READ_TIMEOUT_MS = 2_000;
// prom-client's sums of `nodejs_active_{handles,requests,resources}` are gauges named like counters,
// which promtool refuses; `sum(nodejs_active_handles)` gives the same number.
const MISNAMED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function createMetrics(options: MetricsOptions = {}): PrometheusMetrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.collectDefaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const registers = [registry];

  const sessions = new Gauge({
    name: 'gateway_sessions',
    help: 'Upstream Rocket.Chat sessions held by this process, by state',
    labelNames: ['state'],
    registers,
  });
  const upstreamReconnects = new Counter({
    name: 'gateway_upstream_reconnects_total',
    help: 'DDP reconnection attempts to Rocket.Chat',
    registers,
  });
  const upstreamFrames = new Counter({
    name: 'gateway_upstream_frames_total',
    help: 'DDP frames exchanged with Rocket.Chat, by direction (in, out)',
    labelNames: ['direction'],
    registers,
  });
  const upstreamFramesSkipped = new Counter({
    name: 'gateway_upstream_frames_skipped_total',
    help: 'Stream frames from Rocket.Chat that gave no event, by reason (ignored, malformed)',
    labelNames: ['reason'],
    registers,
  });
  const eventsLogged = new Counter({
    name: 'gateway_events_logged_total',
    help: 'Events appended to user event logs, by event type',
    labelNames: ['type'],
    registers,
  });
  const eventLag = new Histogram({
    name: 'gateway_event_lag_seconds',
    help: 'Time from the upstream event to it reaching a sink (log append, SSE write, webhook delivery)',
    labelNames: ['sink'],
    buckets: LAG_BUCKETS_SECONDS,
    registers,
  });
  const sseConnections = new Gauge({
    name: 'gateway_sse_connections',
    help: 'Open SSE client connections',
    registers,
  });
  const sseEventsWritten = new Counter({
    name: 'gateway_sse_events_written_total',
    help: 'Events written to SSE clients',
    registers,
  });
  const sseSlowDisconnects = new Counter({
    name: 'gateway_sse_slow_disconnects_total',
    help: 'SSE clients disconnected because their buffer exceeded SSE_MAX_BUFFER_BYTES',
    registers,
  });
  const webhookDeliveries = new Counter({
    name: 'gateway_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const webhookDeliveryDuration = new Histogram({
    name: 'gateway_webhook_delivery_duration_seconds',
    help: 'Duration of one webhook delivery attempt',
    buckets: DELIVERY_BUCKETS_SECONDS,
    registers,
  });
  const queueSources = new Map<string, QueueJobCounts>();
  const queueJobs: Gauge<'queue' | 'state'> = new Gauge({
    name: 'gateway_queue_jobs',
    help: 'BullMQ jobs, by queue and state',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      await Promise.all(
        [...queueSources].map(async ([queue, counts]) => {
          const read = await withTimeout(counts(), QUEUE_READ_TIMEOUT_MS).catch(() => undefined);
          if (!read) return;
          for (const state of QUEUE_JOB_STATES) queueJobs.labels(queue, state).set(read[state] ?? 0);
        }),
      );
    },
  });
  const httpRequestsTotal = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const httpRequestDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Duration of HTTP requests (an SSE stream: its lifetime), by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: HTTP_BUCKETS_SECONDS,
    registers,
  });
  const outboundMessages = new Counter({
    name: 'gateway_outbound_messages_total',
    help: 'Outbound message attempts, by outcome (sent, retried, failed)',
    labelNames: ['outcome'],
    registers,
  });
  const redisErrors = new Counter({
    name: 'gateway_redis_errors_total',
    help: 'Errors reported by Redis connections',
    registers,
  });
  const forwardedCalls = new Counter({
    name: 'gateway_forwarded_calls_total',
    help: 'Calls forwarded through Redis to the worker owning a session, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const sessionRefusals = new Counter({
    name: 'gateway_session_refusals_total',
    help: 'Sessions this worker refused to open, by reason',
    labelNames: ['reason'],
    registers,
  });

  const eventTypeChildren = new Map<string, CounterHandle>();
  const overflowEventType = eventsLogged.labels(OVERFLOW_EVENT_TYPE);
  const queueChildren = new Map<string, GaugeHandle>();
  const httpChildren = new Map<string, { count: CounterHandle; duration: HistogramHandle }>();

  return {
    registry,
    // Pre-bound children also make every fixed series visible at 0 from the first scrape.
    sessions: bindLabels(SESSION_METRIC_STATES, (state) => withZero(sessions.labels(state))),
    upstreamReconnects,
    upstreamFrames: bindLabels(FRAME_DIRECTIONS, (direction) => withZero(upstreamFrames.labels(direction))),
    upstreamFramesSkipped: bindLabels(UPSTREAM_SKIP_REASONS, (reason) =>
      withZero(upstreamFramesSkipped.labels(reason)),
    ),
    eventsLogged: {
      labels(type) {
        let child = eventTypeChildren.get(type);
        if (child) return child;
        if (eventTypeChildren.size >= MAX_EVENT_TYPES) return overflowEventType;
        child = eventsLogged.labels(type);
        eventTypeChildren.set(type, child);
        return child;
      },
    },
    eventLag: bindLabels(EVENT_SINKS, (sink) => eventLag.labels(sink)),
    sseConnections,
    sseEventsWritten,
    sseSlowDisconnects,
    webhookDeliveries: bindLabels(WEBHOOK_DELIVERY_OUTCOMES, (outcome) =>
      withZero(webhookDeliveries.labels(outcome)),
    ),
    webhookDeliveryDuration,
    queueJobs: {
      labels(queue: string, state: QueueJobState) {
        const key = `${queue}\n${state}`;
        let child = queueChildren.get(key);
        if (!child) {
          child = queueJobs.labels(queue, state);
          queueChildren.set(key, child);
        }
        return child;
      },
      watch(queue, counts) {
        queueSources.set(queue, counts);
        return () => {
          if (queueSources.get(queue) === counts) queueSources.delete(queue);
        };
      },
    },
    httpRequests: {
      observe(method, route, status, seconds) {
        const m = HTTP_METHODS.has(method) ? method : 'other';
        const key = `${m} ${route} ${status}`;
        let child = httpChildren.get(key);
        if (!child) {
          const labels =
            httpChildren.size < MAX_HTTP_SERIES ? [m, route, String(status)] : [m, 'other', String(status)];
          child = {
            count: httpRequestsTotal.labels(...labels),
            duration: httpRequestDuration.labels(...labels),
          };
          if (httpChildren.size < MAX_HTTP_SERIES) httpChildren.set(key, child);
        }
        child.count.inc();
        child.duration.observe(seconds);
      },
    },
    outboundMessages: bindLabels(OUTBOUND_OUTCOMES, (outcome) => withZero(outboundMessages.labels(outcome))),
    redisErrors,
    forwardedCalls: bindLabels(FORWARDED_CALL_OUTCOMES, (outcome) =>
      withZero(forwardedCalls.labels(outcome)),
    ),
    sessionRefusals: bindLabels(SESSION_REFUSAL_REASONS, (reason) =>
      withZero(sessionRefusals.labels(reason)),
    ),
  };
}

/** Creates the series at 0 so `rate()` and alerts see it before the first event. */
function withZero<H extends { inc(value?: number): void }>(handle: H): H {
  handle.inc(0);
  return handle;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
