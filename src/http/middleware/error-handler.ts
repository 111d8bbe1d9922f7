/**
 * The one place errors become responses: `{ "error": code, "message": text }` with the error's
 * status, and `Retry-After` (seconds) when waiting helps. Server-side failures (5xx) are logged
 * with their cause; the caller only sees the registry's text for them (`toErrorBody`).
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { createError, toErrorBody } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { toHttpError } from '../http-error.js';
import { ERROR_CODE_LOCAL } from './request-logger.js';

export interface ErrorHandlerOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
}

export function errorHandler(options: ErrorHandlerOptions): ErrorRequestHandler {
  const { logger, bodyLimitBytes } = options;
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const error = toHttpError(err, { bodyLimitBytes });
    if (error.status >= 500) logger.error({ err: error, requestId: req.requestId }, 'request failed');
    if (res.headersSent) {
      // Part of a response (a stream) is out: a JSON body cannot follow. Cutting the connection
      // is the only way left to tell the client the response is incomplete.
      res.destroy();
      return;
    }
    res.locals[ERROR_CODE_LOCAL] = error.code;
    if (error.retryAfterMs !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    }
    res.status(error.status).json(toErrorBody(error));
  };
}

/** The JSON 404 for every path no router answered. */
export function notFound(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction): void => {
    // Bounded: the path is the caller's own input, echoed back.
    const path = req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path;
    next(createError('GW_ERR_NOT_FOUND', `No route for ${req.method} ${path}`));
  };
}
