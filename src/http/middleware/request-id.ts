/**
 * Gives every request an id: the caller's `X-Request-Id` when it is sane (an ingress or the
 * client set it, and tracing across hops wants it kept), else a new UUID. It is echoed in the
 * response and carried on every log line of the request.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';

// Echoed into a response header and into logs: no CR/LF (header injection) or other control
// characters, and bounded so a client cannot bloat every log line.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function requestId(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    req.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    next();
  };
}
