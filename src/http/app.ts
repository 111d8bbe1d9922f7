/**
 * The Express app of the HTTP tier, in the order requests meet it:
 * request id -> request log line -> request metrics -> CORS -> security headers -> refuse while draining -> JSON body ->
 * health probes and the given routers -> JSON 404 -> the one error handler.
 *
 * No compression middleware, on purpose: it buffers writes, which holds SSE frames back (and
 * heartbeats with them) until a chunk fills. Compress at the ingress if at all.
 */
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { clockOf, type HttpContext } from './context.js';
import { cors } from './cors.js';
import { refuseWhileDraining } from './middleware/draining.js';
import { errorHandler, notFound } from './middleware/error-handler.js';
import { httpMetrics, routeBase } from './middleware/http-metrics.js';
import { requestId } from './middleware/request-id.js';
import { requestLogger } from './middleware/request-logger.js';
import { createHealthRouter } from './routes/health.js';

/** A router and the path it is mounted at, e.g. `{ path: '/v1/sessions', router }`. */
export interface MountedRouter {
  readonly path: string;
  readonly router: Router;
  /**
   * Mounted before the JSON body parser: the router reads the body itself (incoming hooks verify
   * signatures over the exact bytes, which a parsed-and-reserialized body would break; the
   * webhook registry parses with a lower limit than the app's).
   */
  readonly readsOwnBody?: boolean;
}

/** The app with `/healthz` and `/readyz`, and `routers` mounted in the order given. */
export function createApp(ctx: HttpContext, routers: readonly MountedRouter[] = []): Express {
  const app = express();
  const { trustProxy } = ctx.config.http;
  // A copy: the config is deeply frozen.
  app.set('trust proxy', Array.isArray(trustProxy) ? [...trustProxy] : trustProxy);

  const front = createFrontHandlers(ctx);
  app.use(front.requestId, front.requestLogger, front.httpMetrics, front.cors);
  app.use(helmet());
  app.use(front.refuseWhileDraining);
  for (const { path, router, readsOwnBody } of routers)
    if (readsOwnBody) app.use(path, routeBase(path), router);
  app.use(jsonBody(ctx));

  app.use(routeBase('/'), createHealthRouter(ctx));
  for (const { path, router, readsOwnBody } of routers)
    if (!readsOwnBody) app.use(path, routeBase(path), router);

  app.use(notFound());
  app.use(createErrorHandler(ctx));
  return app;
}

/**
 * What every request meets before its route, in this order; shared with the fast path
 * (fast-path.ts), which runs them without the app's router. Helmet sits between CORS and the
 * drain check in the app; its headers are for documents, which no fast-path response is.
 */
export function createFrontHandlers(ctx: HttpContext): {
  readonly requestId: RequestHandler;
  readonly requestLogger: RequestHandler;
  readonly httpMetrics: RequestHandler;
  readonly cors: RequestHandler;
  readonly refuseWhileDraining: RequestHandler;
} {
  return {
    requestId: requestId(),
    requestLogger: requestLogger({ logger: ctx.logger, clock: clockOf(ctx) }),
    httpMetrics: httpMetrics(ctx.metrics),
    // Before everything that can answer (draining 503, errors): browsers can read those answers too.
    cors: cors(ctx.config.http.corsOrigins),
    refuseWhileDraining: refuseWhileDraining({ lifecycle: ctx.lifecycle }),
  };
}

/** The app's JSON body parser, for a fast-path route that takes a body as the app would. */
export function jsonBody(ctx: HttpContext): RequestHandler {
  return express.json({ limit: ctx.config.http.requestBodyLimitBytes });
}

/** The one error handler, as the app and the fast path use it. */
export function createErrorHandler(ctx: HttpContext): ErrorRequestHandler {
  return errorHandler({ logger: ctx.logger, bodyLimitBytes: ctx.config.http.requestBodyLimitBytes });
}
