/**
 * `gateway_http_requests_total` and `gateway_http_request_duration_seconds` for every request,
 * labelled by the route template that answered (`/v1/webhooks/:id`), never the raw path: raw
 * paths carry ids and hook tokens, and would grow the series without bound.
 *
 * Express keeps `req.route` (the matched route, relative to its router) but resets `req.baseUrl`
 * when a request leaves a router, e.g. for the error handler; so `routeBase()` remembers the
 * mount path when the request enters each router.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../../metrics/index.js';

/** Requests that no route matched (404s, probes of random paths): one series, not one per path. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The client went away before any response was sent (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

const mountPaths = new WeakMap<Request, string>();

/** Put before a router mounted at `path`: requests entering it carry its template. */
export function routeBase(path: string): RequestHandler {
  const base = path === '/' ? '' : path.replace(/\/$/, '');
  return (req: Request, _res: Response, next: NextFunction): void => {
    mountPaths.set(req, base);
    next();
  };
}

/** The route template of a finished request. */
const fixedTemplates = new WeakMap<Request, string>();

/** For a handler served outside the app's router (the fast path): its route, as the router would name it. */
export function fixedRoute(template: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction): void => {
    fixedTemplates.set(req, template);
    next();
  };
}

export function routeTemplate(req: Request, status: number): string {
  const fixed = fixedTemplates.get(req);
  if (fixed !== undefined) return fixed;
  const base = mountPaths.get(req) ?? '';
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof routePath === 'string') return `${base}${routePath === '/' && base ? '' : routePath}` || '/';
  // Refused inside a router before a route matched (authentication, rate limit, body parser):
  // counted under the router's mount path. A 404 matched nothing at all.
  if (base && status !== 404) return `${base}/*`;
  return UNMATCHED_ROUTE;
}

export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const startedAt = performance.now();
    // `close` comes on every ending: finished, failed, or the client went away (an SSE stream's
    // normal end). `on` rather than `once`: it comes once, and an open stream keeps no wrapper.
    res.on('close', () => {
      const status = res.headersSent ? res.statusCode : CLIENT_CLOSED_STATUS;
      const seconds = (performance.now() - startedAt) / 1000;
      metrics.httpRequests.observe(req.method, routeTemplate(req, status), status, seconds);
    });
    next();
  };
}
