/**
 * `/v1/events/cookie`: the SSE cookie for browsers (auth/events-cookie.ts explains its defences).
 *
 * - `POST` (bearer or Rocket.Chat headers, never the cookie itself) sets the cookie to a fresh SSE
 *   token and answers `{ expiresAt }`: call it again before then to keep a page's stream
 *   authorized across reconnects.
 * - `DELETE` clears it. It needs no authentication: dropping a cookie grants nothing, and a page
 *   whose token already expired must still be able to clear it.
 */
import { type RequestHandler, Router } from 'express';
import { clearEventsCookie, issueSseToken, setEventsCookie } from '../auth/index.js';
import { clockOf, type HttpContext } from '../context.js';

export interface EventsCookieRouterOptions {
  readonly ctx: HttpContext;
  /** The normal authentication middleware (no query token, no cookie). */
  readonly authenticate: RequestHandler;
}

export function createEventsCookieRouter({ ctx, authenticate }: EventsCookieRouterOptions): Router {
  const router = Router();
  router.post('/', authenticate, async (req, res) => {
    const principal = req.principal!;
    // A caller proven by X-Auth-Token has no generation yet: the stored one is current.
    const generation = principal.generation ?? (await ctx.credentials.access(principal.userId)).generation;
    const clock = clockOf(ctx);
    const issued = issueSseToken(ctx.config.jwt, { ...principal, generation }, clock);
    setEventsCookie(
      { req, publicUrl: ctx.config.http.publicUrl },
      res,
      issued.token,
      issued.expiresAt,
      clock.now(),
    );
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ expiresAt: issued.expiresAt.toISOString() });
  });
  router.delete('/', (req, res) => {
    clearEventsCookie({ req, publicUrl: ctx.config.http.publicUrl }, res);
    res.status(204).end();
  });
  return router;
}
