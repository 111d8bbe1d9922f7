/**
 * `GET /metrics`: the Prometheus registry from `createMetrics()` in the text exposition format.
 * Served on `PORT`, or alone on `METRICS_PORT` (`createMetricsApp`) so that the scrape port is
 * not reachable through the ingress that exposes the API.
 *
 * Not rate limited and not authenticated, like `/healthz`: Prometheus scrapes from inside the
 * cluster, and a NetworkPolicy (helm `networkPolicy`) is the place to restrict who may.
 */
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type Response,
  type Router,
} from 'express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import { createError, toErrorBody, toGatewayError } from '../../errors.js';
import type { Logger } from '../../log/index.js';

export interface MetricsRouterOptions {
  /** The registry to expose: `createMetrics().registry`. */
  readonly registry: Registry;
  /** @defaultValue '/metrics' */
  readonly path?: string;
}

export interface MetricsAppOptions extends MetricsRouterOptions {
  /** Where a failing collection is logged (the app on `PORT` has its own error handler). */
  readonly logger: Logger;
}

export function createMetricsRouter(options: MetricsRouterOptions): Router {
  const { registry } = options;
  const router = express.Router();
  router.get(options.path ?? '/metrics', async (_req: Request, res: Response) => {
    // Collected before any header is set, so a failing collector still gets a JSON error.
    const body = await registry.metrics();
    res.setHeader('Content-Type', registry.contentType);
    // A scrape must see the value of now, never a cached one.
    res.setHeader('Cache-Control', 'no-store');
    res.status(200).send(body);
  });
  return router;
}

/**
 * The whole app of the separate metrics port (`METRICS_PORT`): `/metrics` and a JSON 404.
 * Nothing else is served there, so the port can be opened to Prometheus alone.
 */
export function createMetricsApp(options: MetricsAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(createMetricsRouter(options));
  app.use((_req: Request, _res: Response, next: NextFunction) => {
    next(createError('GW_ERR_NOT_FOUND', 'Only GET /metrics is served on this port'));
  });
  const renderError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const error = toGatewayError(err);
    if (error.status >= 500) options.logger.error({ err: error }, 'metrics collection failed');
    res.status(error.status).json(toErrorBody(error));
  };
  app.use(renderError);
  return app;
}
