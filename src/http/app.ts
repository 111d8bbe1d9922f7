/**
 * The Express app of the HTTP tier, in the order requests meet it:
 * request id -> request log line -> request metrics -> CORS -> security headers -> refuse while draining -> JSON body ->
 * health probes and the given routers -> JSON 404 -> the one error handler.
 *
 * No compression middleware, on purpose: it buffers writes, which holds SSE frames back (and
 * heartbeats with them) until a chunk fills. Compress at the ingress if at all.
 */
import express, { type Express, type Router } from 'express';
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
  const bodyLimitBytes = ctx.config.http.requestBodyLimitBytes;
  const app = express();
  const { trustProxy } = ctx.config.http;
  // A copy: the config is deeply frozen.
  app.set('trust proxy', Array.isArray(trustProxy) ? [...trustProxy] : trustProxy);

  app.use(requestId());
  app.use(requestLogger({ logger: ctx.logger, clock: clockOf(ctx) }));
  app.use(httpMetrics(ctx.metrics));
  // Before everything that can answer (draining 503, errors): browsers can read those answers too.
  app.use(cors(ctx.config.http.corsOrigins));
  app.use(helmet());
  app.use(refuseWhileDraining({ lifecycle: ctx.lifecycle }));
  for (const { path, router, readsOwnBody } of routers)
    if (readsOwnBody) app.use(path, routeBase(path), router);
  app.use(express.json({ limit: bodyLimitBytes }));

  app.use(routeBase('/'), createHealthRouter(ctx));
  for (const { path, router, readsOwnBody } of routers)
    if (!readsOwnBody) app.use(path, routeBase(path), router);

  app.use(notFound());
  app.use(errorHandler({ logger: ctx.logger, bodyLimitBytes }));
  return app;
}
