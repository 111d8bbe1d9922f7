import { describe, expect, it } from 'vitest';
import { createMetrics, createNoopMetrics, type Metrics } from '../../src/metrics/index.js';

const GATEWAY_METRICS = {
  gateway_sessions: 'gauge',
  gateway_upstream_reconnects_total: 'counter',
  gateway_upstream_frames_total: 'counter',
  gateway_upstream_frames_skipped_total: 'counter',
  gateway_events_logged_total: 'counter',
  gateway_event_lag_seconds: 'histogram',
  gateway_sse_connections: 'gauge',
  gateway_sse_events_written_total: 'counter',
  gateway_sse_slow_disconnects_total: 'counter',
  gateway_webhook_deliveries_total: 'counter',
  gateway_webhook_delivery_duration_seconds: 'histogram',
  gateway_queue_jobs: 'gauge',
  gateway_outbound_messages_total: 'counter',
  gateway_redis_errors_total: 'counter',
  gateway_forwarded_calls_total: 'counter',
  gateway_session_refusals_total: 'counter',
  gateway_http_requests_total: 'counter',
  gateway_http_request_duration_seconds: 'histogram',
};

/** Exercises every handle, so the Prometheus and no-op versions are driven the same way. */
function exercise(metrics: Metrics): void {
  metrics.sessions.connected.inc();
  metrics.sessions.connected.inc();
  metrics.sessions.connecting.set(3);
  metrics.sessions.connecting.dec();
  metrics.upstreamReconnects.inc();
  metrics.upstreamFrames.in.inc(5);
  metrics.upstreamFrames.out.inc();
  metrics.upstreamFramesSkipped.malformed.inc();
  metrics.eventsLogged.labels('message.created').inc();
  metrics.eventsLogged.labels('message.created').inc();
  metrics.eventLag.sse.observe(0.02);
  metrics.eventLag.webhook.observe(2);
  metrics.sseConnections.inc();
  metrics.sseEventsWritten.inc(4);
  metrics.sseSlowDisconnects.inc();
  metrics.webhookDeliveries.success.inc();
  metrics.webhookDeliveries.timeout.inc();
  metrics.webhookDeliveryDuration.observe(0.3);
  metrics.queueJobs.labels('webhooks', 'waiting').set(7);
  metrics.queueJobs.watch('outbound', async () => ({ delayed: 2 }));
  metrics.httpRequests.observe('GET', '/v1/webhooks/:id', 200, 0.012);
  metrics.outboundMessages.sent.inc();
  metrics.redisErrors.inc();
  metrics.forwardedCalls.ok.inc();
  metrics.sessionRefusals.capacity.inc();
}

describe('createMetrics', () => {
  it('defines every gateway metric with its type, name and suffix', async () => {
    const { registry } = createMetrics({ collectDefaultMetrics: false });
    const metrics = await registry.getMetricsAsJSON();
    expect(Object.fromEntries(metrics.map((metric) => [metric.name, String(metric.type)]))).toEqual(
      GATEWAY_METRICS,
    );
    for (const metric of metrics) {
      const { name } = metric;
      const type = String(metric.type);
      expect(name).toMatch(/^gateway_[a-z_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('records through the handles', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    exercise(metrics);
    const text = await metrics.registry.metrics();
    expect(text).toContain('gateway_sessions{state="connected"} 2');
    expect(text).toContain('gateway_sessions{state="connecting"} 2');
    expect(text).toContain('gateway_upstream_frames_total{direction="in"} 5');
    expect(text).toContain('gateway_events_logged_total{type="message.created"} 2');
    expect(text).toContain('gateway_event_lag_seconds_count{sink="webhook"} 1');
    expect(text).toContain('gateway_sse_events_written_total 4');
    expect(text).toContain('gateway_webhook_deliveries_total{outcome="timeout"} 1');
    expect(text).toContain('gateway_webhook_delivery_duration_seconds_bucket{le="0.5"} 1');
    expect(text).toContain('gateway_queue_jobs{queue="webhooks",state="waiting"} 7');
    expect(text).toContain('gateway_session_refusals_total{reason="capacity"} 1');
    expect(text).toContain('gateway_queue_jobs{queue="outbound",state="delayed"} 2');
    expect(text).toContain('gateway_queue_jobs{queue="outbound",state="waiting"} 0');
    expect(text).toContain(
      'gateway_http_requests_total{method="GET",route="/v1/webhooks/:id",status="200"} 1',
    );
    expect(text).toContain(
      'gateway_http_request_duration_seconds_bucket{le="0.025",method="GET",route="/v1/webhooks/:id",status="200"} 1',
    );
  });

  it('shows fixed-label series at 0 before anything happens', async () => {
    const text = await createMetrics({ collectDefaultMetrics: false }).registry.metrics();
    expect(text).toContain('gateway_sessions{state="unauthorized"} 0');
    expect(text).toContain('gateway_webhook_deliveries_total{outcome="blocked"} 0');
    expect(text).toContain('gateway_forwarded_calls_total{outcome="timeout"} 0');
  });

  it('caps the event type label', async () => {
    const metrics = createMetrics({ collectDefaultMetrics: false });
    for (let i = 0; i < 250; i++) metrics.eventsLogged.labels(`type-${i}`).inc();
    const values =
      (await metrics.registry.getSingleMetric('gateway_events_logged_total')?.get())?.values ?? [];
    expect(values).toHaveLength(201);
    expect(values.find((value) => value.labels['type'] === 'other')?.value).toBe(50);
  });

  it('gives each call its own registry, with process metrics and default labels', async () => {
    const first = createMetrics({ defaultLabels: { role: 'api' } });
    const second = createMetrics();
    expect(first.registry).not.toBe(second.registry);
    first.redisErrors.inc();
    const text = await first.registry.metrics();
    expect(text).toContain('gateway_redis_errors_total{role="api"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(await second.registry.metrics()).toContain('gateway_redis_errors_total 0');
  });
});

describe('createNoopMetrics', () => {
  it('accepts every call and records nothing', () => {
    const metrics = createNoopMetrics();
    expect(() => exercise(metrics)).not.toThrow();
    expect(Object.keys(metrics).sort()).toEqual(
      Object.keys(createMetrics({ collectDefaultMetrics: false }))
        .filter((key) => key !== 'registry')
        .sort(),
    );
  });
});
