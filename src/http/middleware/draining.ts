/**
 * Once shutdown has begun, new requests are refused with 503 `GW_ERR_DRAINING` (fastify's
 * `return503OnClosing`), so clients and load balancers move to another replica while requests
 * already running finish. Probes and metrics stay answered: they report the drain.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createError } from '../../errors.js';
import type { Lifecycle } from '../context.js';

export interface RefuseWhileDrainingOptions {
  readonly lifecycle: Lifecycle;
  /** Paths still served while draining. @defaultValue ['/healthz', '/readyz', '/metrics'] */
  readonly exemptPaths?: readonly string[];
}

export function refuseWhileDraining(options: RefuseWhileDrainingOptions): RequestHandler {
  const { lifecycle } = options;
  const exemptPaths = new Set(options.exemptPaths ?? ['/healthz', '/readyz', '/metrics']);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!lifecycle.isDraining() || exemptPaths.has(req.path)) {
      next();
      return;
    }
    // Closing the kept-alive connection sends the client's retry through the load balancer,
    // to a replica that is not going away.
    res.setHeader('Connection', 'close');
    next(createError('GW_ERR_DRAINING'));
  };
}
