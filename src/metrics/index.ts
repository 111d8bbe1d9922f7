export type {
  CounterHandle,
  EventSink,
  ForwardedCallOutcome,
  FrameDirection,
  GaugeHandle,
  HistogramHandle,
  Metrics,
  OutboundOutcomeLabel,
  QueueJobCounts,
  QueueJobState,
  SessionMetricState,
  SessionRefusalLabel,
  UpstreamSkipReason,
  WebhookDeliveryOutcome,
} from './metrics.js';
export { QUEUE_JOB_STATES } from './metrics.js';
export { createNoopMetrics } from './noop-metrics.js';
export { createMetrics, type MetricsOptions, type PrometheusMetrics } from './prometheus-metrics.js';
