/**
 * What the gateway measures, as an interface: parts take a `Metrics` and never see prom-client
 * (mercure's `Metrics` with `NopMetrics`). `createMetrics()` is the Prometheus version,
 * `createNoopMetrics()` the one for tests.
 *
 * Label values that form a small fixed set are pre-bound children (`metrics.upstreamFrames.in`),
 * so the hot path does a property read and an add, not a label lookup.
 */

export interface CounterHandle {
  inc(value?: number): void;
}

export interface GaugeHandle {
  inc(value?: number): void;
  dec(value?: number): void;
  set(value: number): void;
}

export interface HistogramHandle {
  observe(value: number): void;
}

/** `gateway_sessions{state}`: sessions this process holds, by connection state. */
export type SessionMetricState = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized';
/** `gateway_upstream_frames_total{direction}`: `in` from Rocket.Chat, `out` to it. */
export type FrameDirection = 'in' | 'out';
/**
 * `gateway_upstream_frames_skipped_total{reason}`: stream frames the normalizer turned into no
 * event: `ignored` (well-formed, not forwarded) or `malformed` (not the documented shape).
 */
export type UpstreamSkipReason = 'ignored' | 'malformed';
/** `gateway_event_lag_seconds{sink}`: from the upstream event to appending (`log`) or delivering it. */
export type EventSink = 'sse' | 'webhook' | 'log';
/**
 * `gateway_webhook_deliveries_total{outcome}`, one per attempt: `success` (2xx), `http_error`
 * (any other status), `timeout`, `network_error` (DNS, refused, TLS), `blocked` (the target was
 * refused by the SSRF guard or the endpoint is disabled).
 */
export type WebhookDeliveryOutcome = 'success' | 'http_error' | 'timeout' | 'network_error' | 'blocked';
/** `gateway_outbound_messages_total{outcome}`: `sent`, `retried` (an attempt will be repeated), `failed` (final). */
export type OutboundOutcomeLabel = 'sent' | 'retried' | 'failed';
/**
 * `gateway_forwarded_calls_total{outcome}`: requests forwarded to the worker owning a session.
 * `moved`: the target did not take it (gone, or no longer the owner) and it was sent elsewhere.
 */
export type ForwardedCallOutcome = 'ok' | 'error' | 'timeout' | 'moved';
/** `gateway_session_refusals_total{reason}`: a session this worker would not open. */
export type SessionRefusalLabel = 'capacity' | 'draining' | 'no_credentials' | 'credentials_invalid';
/** BullMQ job states, as `Queue.getJobCounts()` names them. */
export type QueueJobState =
  | 'waiting'
  | 'active'
  | 'delayed'
  | 'completed'
  | 'failed'
  | 'paused'
  | 'prioritized'
  | 'waiting-children';

/** What a queue can say about its size: BullMQ's `Queue.getJobCounts()`. */
export type QueueJobCounts = () => Promise<Partial<Record<QueueJobState, number>>>;

export interface Metrics {
  readonly sessions: Readonly<Record<SessionMetricState, GaugeHandle>>;
  readonly upstreamReconnects: CounterHandle;
  readonly upstreamFrames: Readonly<Record<FrameDirection, CounterHandle>>;
  readonly upstreamFramesSkipped: Readonly<Record<UpstreamSkipReason, CounterHandle>>;
  /** By event `type`; the set of types is open, so children are looked up (and cached). */
  readonly eventsLogged: { labels(type: string): CounterHandle };
  /** Seconds. */
  readonly eventLag: Readonly<Record<EventSink, HistogramHandle>>;
  readonly sseConnections: GaugeHandle;
  readonly sseEventsWritten: CounterHandle;
  readonly sseSlowDisconnects: CounterHandle;
  readonly webhookDeliveries: Readonly<Record<WebhookDeliveryOutcome, CounterHandle>>;
  /** Seconds, one observation per attempt. */
  readonly webhookDeliveryDuration: HistogramHandle;
  /** Set from `Queue.getJobCounts()` by a periodic collector, not on the hot path. */
  readonly queueJobs: {
    labels(queue: string, state: QueueJobState): GaugeHandle;
    /**
     * Reads `counts` at every scrape (bounded in time; a failed read keeps the last values) into
     * `gateway_queue_jobs{queue}`. Returns the function that stops it.
     */
    watch(queue: string, counts: QueueJobCounts): () => void;
  };
  /**
   * One finished HTTP request: `gateway_http_requests_total` and
   * `gateway_http_request_duration_seconds`, by method, route template (`/v1/webhooks/:id`,
   * never the raw path) and status.
   */
  readonly httpRequests: { observe(method: string, route: string, status: number, seconds: number): void };
  readonly outboundMessages: Readonly<Record<OutboundOutcomeLabel, CounterHandle>>;
  readonly redisErrors: CounterHandle;
  readonly forwardedCalls: Readonly<Record<ForwardedCallOutcome, CounterHandle>>;
  readonly sessionRefusals: Readonly<Record<SessionRefusalLabel, CounterHandle>>;
}

/** The states `gateway_queue_jobs` reports (BullMQ 6 keeps a paused queue's jobs `waiting`). */
export const QUEUE_JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'failed',
  'prioritized',
] as const satisfies readonly QueueJobState[];

export const SESSION_METRIC_STATES: readonly SessionMetricState[] = [
  'connecting',
  'connected',
  'reconnecting',
  'unauthorized',
];
export const FRAME_DIRECTIONS: readonly FrameDirection[] = ['in', 'out'];
export const UPSTREAM_SKIP_REASONS: readonly UpstreamSkipReason[] = ['ignored', 'malformed'];
export const EVENT_SINKS: readonly EventSink[] = ['sse', 'webhook', 'log'];
export const WEBHOOK_DELIVERY_OUTCOMES: readonly WebhookDeliveryOutcome[] = [
  'success',
  'http_error',
  'timeout',
  'network_error',
  'blocked',
];
export const OUTBOUND_OUTCOMES: readonly OutboundOutcomeLabel[] = ['sent', 'retried', 'failed'];
export const FORWARDED_CALL_OUTCOMES: readonly ForwardedCallOutcome[] = ['ok', 'error', 'timeout', 'moved'];
export const SESSION_REFUSAL_REASONS: readonly SessionRefusalLabel[] = [
  'capacity',
  'draining',
  'no_credentials',
  'credentials_invalid',
];

/** Builds `{ [label]: make(label) }` over a fixed label set. */
export function bindLabels<L extends string, H>(
  labels: readonly L[],
  make: (label: L) => H,
): Readonly<Record<L, H>> {
  return Object.freeze(Object.fromEntries(labels.map((label) => [label, make(label)])) as Record<L, H>);
}
