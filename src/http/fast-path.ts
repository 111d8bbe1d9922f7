/**
 * One route served in front of the Express app, with the app's own handlers but without its
 * router. Two routes pay for the router: `GET /v1/events` holds its request for hours, and
 * everything the router and the app-wide middleware leave on a request (layer closures, helmet's
 * dozen document headers in the kept response head) was most of what an idle stream cost;
 * `POST /v1/messages` is the busiest request there is, and the router, helmet and their closures
 * were more than half of its CPU (bench/RESULTS.md, issue 16). Requests are given the app's
 * request and response prototypes, as `app.handle` does, so the handlers (request id, log line,
 * CORS, drain, authentication, rate limit, the route, the error handler) are the very same
 * functions.
 *
 * Only the exact path with the route's method comes here; anything else (other methods,
 * preflights, `/v1/events/`) goes to the app, where the route is mounted too.
 */
import { IncomingMessage, type ServerOptions, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { createError } from '../errors.js';

/**
 * A route served without Express' router: `handlers` run after the front handlers every request
 * meets (request id, log, metrics, CORS, drain check); `path` is also its route label in the
 * HTTP metrics, as the router would name it.
 */
export interface FastRoute {
  /** @defaultValue 'GET' */
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly handlers: readonly RequestHandler[];
}

export interface FastPathOptions {
  readonly app: Express;
  /** @defaultValue 'GET' */
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  /** Run in order, each calling `next()` to go on or `next(err)` to answer with the error handler. */
  readonly handlers: readonly RequestHandler[];
  readonly errorHandler: ErrorRequestHandler;
  /** Headers set on every response of the path (what of the app-wide ones still applies). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request listener that answers the path and returns true, or returns false for the app. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The prototype of `res.locals`: empty and itself without one, so locals inherit nothing (as
 * Express's `Object.create(null)`), but the object starts in V8's fast mode instead of as a hash
 * table (~160 B of every open stream).
 */
const EMPTY_LOCALS: object = Object.freeze(Object.create(null));

export function createFastPath(options: FastPathOptions): FastPath {
  const { app, path, handlers, errorHandler } = options;
  const method = options.method ?? 'GET';
  const headers = Object.entries(options.headers ?? {});
  const withQuery = `${path}?`;
  return (rawReq, rawRes) => {
    const url = rawReq.url ?? '';
    if (rawReq.method !== method || (url !== path && !url.startsWith(withQuery))) return false;
    const req = rawReq as Request;
    const res = rawRes as Response;
    req.res = res;
    res.req = req;
    // Born with them when the server was made with `expressServerOptions` (no new shape).
    if (!Object.prototype.isPrototypeOf.call(app.request, req)) Object.setPrototypeOf(req, app.request);
    if (!Object.prototype.isPrototypeOf.call(app.response, res)) Object.setPrototypeOf(res, app.response);
    res.locals = Object.create(EMPTY_LOCALS) as Record<string, unknown>;
    req.originalUrl = url;
    // As if the route were `/` of a router mounted at the path (Location headers are built on it).
    req.baseUrl = path;
    for (const [name, value] of headers) res.setHeader(name, value);
    runChain(handlers, errorHandler, req, res);
    return true;
  };
}

/**
 * Server options under which requests and responses are created with the app's prototypes from
 * the start. Express otherwise swaps the prototypes of every request (`Object.setPrototypeOf`),
 * which gives each request and response object a hidden class of its own: about 2 KiB of heap
 * for every open SSE stream, measured with bench/support/heap-tally.ts.
 */
export function expressServerOptions(app: Express): ServerOptions {
  // Subclasses rather than bare functions: V8 sizes a derived class's objects from its base
  // constructors, so their fields stay in the object instead of a growing side array.
  class GatewayRequest extends IncomingMessage {}
  Object.setPrototypeOf(GatewayRequest.prototype, app.request);
  class GatewayResponse extends ServerResponse {}
  Object.setPrototypeOf(GatewayResponse.prototype, app.response);
  return {
    IncomingMessage: GatewayRequest,
    // node:http types the option as generic over the request type; ours is fixed.
    ServerResponse: GatewayResponse as unknown as typeof ServerResponse,
  };
}

function runChain(
  handlers: readonly RequestHandler[],
  errorHandler: ErrorRequestHandler,
  req: Request,
  res: Response,
): void {
  let index = 0;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    errorHandler(err, req, res, () => {});
  };
  const next: NextFunction = (err?: unknown) => {
    if (err) {
      fail(err);
      return;
    }
    const handler = handlers[index++];
    if (!handler) {
      // The chain ran out without answering: the app would have said 404 too.
      if (!res.headersSent) fail(createError('GW_ERR_NOT_FOUND'));
      return;
    }
    try {
      const result: unknown = handler(req, res, next);
      if (result instanceof Promise) result.catch(fail);
    } catch (caught) {
      fail(caught);
    }
  };
  next();
}
