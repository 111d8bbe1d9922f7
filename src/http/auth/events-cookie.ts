/**
 * The SSE cookie: how a browser's `EventSource` authenticates without a token in its URL (as
 * Mercure's `mercureAuthorization` cookie does). `POST /v1/events/cookie`, called with the normal
 * bearer token, sets it; `GET /v1/events` accepts it; `DELETE /v1/events/cookie` and a logout
 * clear it.
 *
 * What keeps a cookie from being a CSRF hole (a browser attaches it to requests a foreign page
 * starts):
 * - it holds an SSE token (tokens.ts, `typ: sse`), short-lived (`SSE_QUERY_TOKEN_TTL_SECONDS`) and
 *   accepted only by the read-only `GET /v1/events`: no route that changes state reads it;
 * - `SameSite=Strict`: browsers do not send it on requests started by another site at all;
 * - `HttpOnly`: page scripts (an XSS) cannot read it; `Path=/v1/events`: it travels nowhere else;
 *   `Secure` whenever the request came over HTTPS (directly or, with `TRUST_PROXY`, via a proxy)
 *   or `PUBLIC_URL` is https (an ingress whose `X-Forwarded-Proto` is not trusted);
 * - same-site but cross-origin pages (another port, a sibling subdomain) still get it sent, so a
 *   request that carries an `Origin` must name the gateway itself or an origin listed in
 *   `CORS_ORIGINS` (the `*` wildcard does not count, as the CORS spec forbids credentials with it).
 */
import type { Request, Response } from 'express';
import { createError } from '../../errors.js';

/** The cookie's name. No `__Host-` prefix: that prefix demands `Path=/`. */
export const EVENTS_COOKIE_NAME = 'gw_events';
/** Where the cookie is sent: the SSE route and its own management route, nothing else. */
export const EVENTS_COOKIE_PATH = '/v1/events';

/** The SSE token in the request's cookie, or undefined when it carries none. */
export function readEventsCookie(req: Pick<Request, 'headers'>): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  // RFC 6265 section 5.4: `name=value` pairs joined by "; ". The first with our name wins, as
  // browsers send the most specific path first.
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0) continue;
    if (pair.slice(0, separator).trim() !== EVENTS_COOKIE_NAME) continue;
    const value = pair.slice(separator + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/** Where the cookie is set: decides `Secure`. */
export interface CookieSite {
  readonly req: Request;
  /** `PUBLIC_URL`: an https one makes the cookie Secure whatever the request looked like. */
  readonly publicUrl: string;
}

/** Sets the cookie to `token`, living as long as the token does. */
export function setEventsCookie(
  site: CookieSite,
  res: Response,
  token: string,
  expiresAt: Date,
  now: number,
): void {
  const maxAgeSeconds = Math.max(0, Math.floor((expiresAt.getTime() - now) / 1000));
  res.append('Set-Cookie', serialize(site, token, maxAgeSeconds, expiresAt));
}

/** Tells the browser to drop the cookie (an expired one with the same name and path). */
export function clearEventsCookie(site: CookieSite, res: Response): void {
  res.append('Set-Cookie', serialize(site, '', 0, new Date(0)));
}

function serialize(site: CookieSite, value: string, maxAgeSeconds: number, expiresAt: Date): string {
  const attributes = [
    `${EVENTS_COOKIE_NAME}=${value}`,
    `Path=${EVENTS_COOKIE_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    // Max-Age wins where both are understood; Expires is for the rest.
    `Expires=${expiresAt.toUTCString()}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  // `req.secure` follows X-Forwarded-Proto only from hops TRUST_PROXY trusts. On plain HTTP a
  // Secure cookie would not be stored at all (local development).
  if (site.req.secure || site.publicUrl.startsWith('https:')) attributes.push('Secure');
  return attributes.join('; ');
}

/**
 * Refuses a cookie-authenticated request whose `Origin` is neither the gateway's own nor one of
 * `corsOrigins`. Without `Origin` (a same-origin GET, which browsers send without one, or a
 * non-browser client) the request passes: SameSite=Strict already kept other sites out.
 * @throws GatewayError `GW_ERR_FORBIDDEN`
 */
export function checkCookieOrigin(req: Request, corsOrigins: readonly string[]): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (origin !== 'null' && (origin === ownOrigin(req) || corsOrigins.includes(origin))) return;
  throw createError(
    'GW_ERR_FORBIDDEN',
    `the events cookie is not accepted from origin ${JSON.stringify(origin.slice(0, 200))}: list it in CORS_ORIGINS, or send Authorization: Bearer`,
  );
}

function ownOrigin(req: Request): string | undefined {
  const host = req.headers.host;
  return host === undefined ? undefined : `${req.protocol}://${host}`;
}
