/**
 * CORS for browser clients on other origins (`CORS_ORIGINS`): no dependency, the rules are few.
 *
 * - no origins configured, no `Origin` header, or an origin not in the list: no CORS headers at
 *   all (the browser then refuses to expose the response; a preflight falls through to the
 *   routers and gets whatever they answer, without CORS headers, so the browser blocks it);
 * - an allowed origin (or any origin with `*`): `Access-Control-Allow-Origin` echoes the origin
 *   (also with `*`: one rule for every case), the headers browsers may read are exposed, and a
 *   preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here with 204.
 * Whenever origins are configured, `Vary: Origin`: the answer depends on the request's origin.
 * `Access-Control-Allow-Credentials: true` only under `/v1/events` and only for an origin listed
 * by name (never through `*`): that is where the SSE cookie (auth/events-cookie.ts) is set and
 * read; every other route authenticates with headers, not cookies.
 */
import type { RequestHandler } from 'express';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'Last-Event-ID',
  'X-User-Id',
  'X-Auth-Token',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
].join(', ');
const EXPOSED_HEADERS = [
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Location',
  'Idempotent-Replayed',
  'X-Request-Id',
].join(', ');
/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE_S = '600';

export function cors(origins: readonly string[]): RequestHandler {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    // Whatever the origin, the answer depends on it: caches must key on it.
    if (origins.length > 0) res.vary('Origin');
    const origin = req.headers.origin;
    if (!origin || !(anyOrigin || allowed.has(origin))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (allowed.has(origin) && isCookieRoute(req.path))
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
      res.status(204).end();
      return;
    }
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    next();
  };
}

/** `/v1/events` and `/v1/events/cookie`: the routes that set or read the SSE cookie. */
function isCookieRoute(path: string): boolean {
  return path === '/v1/events' || path === '/v1/events/cookie';
}
