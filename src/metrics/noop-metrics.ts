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
  SESSION_METRIC_STATES,
  SESSION_REFUSAL_REASONS,
  UPSTREAM_SKIP_REASONS,
  WEBHOOK_DELIVERY_OUTCOMES,
} from './metrics.js';

const noop = (): void => {};
const counter: CounterHandle = Object.freeze({ inc: noop });
const gauge: GaugeHandle = Object.freeze({ inc: noop, dec: noop, set: noop });
const histogram: HistogramHandle = Object.freeze({ observe: noop });

/** Metrics that record nothing, for tests and tools that have no registry. */
export function createNoopMetrics(): Metrics {
  return {
    sessions: bindLabels(SESSION_METRIC_STATES, () => gauge),
    upstreamReconnects: counter,
    upstreamFrames: bindLabels(FRAME_DIRECTIONS, () => counter),
    upstreamFramesSkipped: bindLabels(UPSTREAM_SKIP_REASONS, () => counter),
    eventsLogged: { labels: () => counter },
    eventLag: bindLabels(EVENT_SINKS, () => histogram),
    sseConnections: gauge,
    sseEventsWritten: counter,
    sseSlowDisconnects: counter,
    webhookDeliveries: bindLabels(WEBHOOK_DELIVERY_OUTCOMES, () => counter),
    webhookDeliveryDuration: histogram,
    queueJobs: { labels: () => gauge, watch: () => noop },
    httpRequests: { observe: noop },
    outboundMessages: bindLabels(OUTBOUND_OUTCOMES, () => counter),
    redisErrors: counter,
    forwardedCalls: bindLabels(FORWARDED_CALL_OUTCOMES, () => counter),
    sessionRefusals: bindLabels(SESSION_REFUSAL_REASONS, () => counter),
  };
}
