/**
 * One log line per request, written when the response is done (or the client went away, which
 * for an SSE stream is the normal end). What is logged is chosen field by field: method, URL with
 * its secrets redacted (`?access_token=`, hook tokens), status, duration, user id, error code.
 * Never headers (Authorization, X-Auth-Token) and never bodies (passwords).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Clock } from '../../clock.js';
import { type Logger, redactUrl } from '../../log/index.js';

export interface RequestLoggerOptions {
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * Paths logged at `debug` rather than `info`: probes that Kubernetes sends every few seconds.
   * @defaultValue ['/healthz', '/readyz']
   */
  readonly quietPaths?: readonly string[];
}

/** Set by the error handler so the request line says which error was returned. */
export const ERROR_CODE_LOCAL = 'errorCode';

export function requestLogger(options: RequestLoggerOptions): RequestHandler {
  const { logger, clock } = options;
  const quietPaths = new Set(options.quietPaths ?? ['/healthz', '/readyz']);
  return (req: Request, res: Response, next: NextFunction): void => {
    const startedAtMs = clock.now();
    // `on`: `close` comes once; `once` would keep a wrapper and its state on every open SSE stream.
    res.on('close', () => {
      const errorCode: unknown = res.locals[ERROR_CODE_LOCAL];
      const line = {
        requestId: req.requestId,
        method: req.method,
        url: redactUrl(req.originalUrl),
        status: res.statusCode,
        durationMs: clock.now() - startedAtMs,
        ...(req.principal ? { userId: req.principal.userId } : {}),
        ...(typeof errorCode === 'string' ? { error: errorCode } : {}),
        // The client closed the connection before the response was complete.
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.warn(line, 'request');
      else if (quietPaths.has(req.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}
