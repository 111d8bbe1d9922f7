/**
 * `GET /v1/events` (SSE, served on the fast path as well as by the app's router) and
 * `/v1/events/cookie`, over one `SseHub`. API roles only.
 */
import type { LiveHub } from '../events/live-hub.js';
import { parseStreamId } from '../events/stream-id.js';
import type { GatewayCore } from '../gateway-core.js';
import { chainHandlers, createRateLimit } from '../http/rate-limit.js';
import { createEventsHandler, createEventsRouter } from '../http/routes/events.js';
import { createEventsCookieRouter } from '../http/routes/events-cookie.js';
import { SseHub } from '../sse/sse-hub.js';
import { type Feature, type FeatureDeps, routersOnly } from './feature.js';

export function createEventsFeature(
  core: GatewayCore,
  deps: FeatureDeps & { readonly liveHub: LiveHub },
): Feature {
  if (!deps.isApi) return routersOnly('events', []);
  const { config, logger, metrics, clock } = core;
  let lagEventId: string | undefined;
  let lagEventMs: number | undefined;
  const hub = new SseHub({
    liveHub: deps.liveHub,
    eventLog: core.eventLog,
    consumers: core.consumers,
    processId: core.processId,
    heartbeatMs: config.sse.heartbeatMs,
    retryMs: config.sse.retryMs,
    maxBufferBytes: config.sse.maxBufferBytes,
    maxStreamsPerUser: config.sse.maxStreamsPerUser,
    clock,
    onConnectionCount: (delta) => (delta > 0 ? metrics.sseConnections.inc() : metrics.sseConnections.dec()),
    onEventWritten: (event, count) => {
      metrics.sseEventsWritten.inc(count);
      // One lag sample per fan-out, not per client: the clients of one fan-out were written
      // within the same turn of the event loop, and a histogram update per delivery was a
      // measurable share of the write path. Replays may bring one event id many times in a row.
      if (event.id !== lagEventId) {
        lagEventId = event.id;
        lagEventMs = parseStreamId(event.id)?.ms;
      }
      if (lagEventMs !== undefined)
        metrics.eventLag.sse.observe(Math.max(0, clock.now() - lagEventMs) / 1000);
    },
    onEnd: (reason) => {
      if (reason === 'slow-consumer') metrics.sseSlowDisconnects.inc();
    },
    onError: (error, context) => logger.warn({ err: error, context }, 'sse error'),
  });
  deps.http.lifecycle.onDrain(() => hub.drain());

  const ctx = deps.http;
  // The SSE endpoint also takes the SSE token from `?access_token=` or the cookie.
  const eventsAuthenticate = chainHandlers(
    deps.auth.authenticate({ allowQueryToken: true, allowCookie: true }),
    createRateLimit(ctx),
  );
  return {
    name: 'events',
    routers: [
      {
        path: '/v1/events/cookie',
        router: createEventsCookieRouter({ ctx, authenticate: deps.authenticated }),
      },
      { path: '/', router: createEventsRouter({ ctx, hub, authenticate: eventsAuthenticate }) },
    ],
    fastRoutes: [
      {
        path: '/v1/events',
        handlers: [eventsAuthenticate, createEventsHandler({ ctx, hub })],
      },
    ],
    closeStreams: async () => hub.close(),
    close: async () => hub.close(),
  };
}
