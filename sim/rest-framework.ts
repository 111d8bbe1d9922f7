/**
 * The REST route wrapper (RC api.ts `_internalRouteActionHandler`): authentication by
 * `X-User-Id`/`X-Auth-Token`, rate limiting, and Rocket.Chat's response shapes:
 * success bodies get `"success": true`; a thrown Meteor.Error becomes
 * 400 `{"success":false,"error":"<reason> [<code>]","errorType":"<code>","details"?}`.
 */
import type { Request, Response, Router } from 'express';
import type { SimContext } from './context.js';
import { MeteorError } from './meteor-error.js';
import type { RestRateLimits } from './rest-rate-limit.js';
import type { SimUser } from './types.js';

export interface RestCall {
  readonly ctx: SimContext;
  readonly user: SimUser | undefined;
  readonly token: string | undefined;
  readonly body: Record<string, unknown>;
  readonly query: Record<string, string>;
  readonly ip: string;
  /** `http://host:port` as the client addressed the server. */
  readonly baseUrl: string;
}

export interface RestReply {
  status?: number;
  /** Objects get `success: true` added unless `raw` is set. */
  body: Record<string, unknown>;
  raw?: boolean;
}

export type RestHandler = (call: RestCall) => RestReply | Promise<RestReply>;

export interface RouteSpec {
  method: 'get' | 'post';
  /** Route name under /api/v1, e.g. `chat.syncMessages`. */
  name: string;
  authRequired: boolean;
}

const NOT_LOGGED_IN = 'You must be logged in to do this.';

/** The socket's address (for the control API: never a forwarded one). */
export function clientIp(req: Request): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Meteor's client address with `HTTP_FORWARDED_COUNT` proxies in front: the entry that many
 * places from the right of `X-Forwarded-For`, or the socket's address when there are fewer.
 */
export function forwardedClientIp(req: Request, forwardedCount: number): string {
  const header = req.get('x-forwarded-for');
  if (forwardedCount <= 0 || !header) return clientIp(req);
  const hops = header.split(',').map((hop) => hop.trim());
  if (forwardedCount > hops.length) return clientIp(req);
  return hops[hops.length - forwardedCount] ?? clientIp(req);
}

function stringQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (typeof value === 'string') {
      out[key] = value;
    }
  }
  return out;
}

function authenticate(ctx: SimContext, req: Request): { user: SimUser; token: string } | undefined {
  const userId = req.get('x-user-id');
  const token = req.get('x-auth-token');
  if (!userId || !token) {
    return undefined;
  }
  const found = ctx.auth.lookup(token);
  // Expired tokens are treated as swept (Meteor deletes them periodically).
  if (found.status !== 'valid' || found.user._id !== userId) {
    return undefined;
  }
  return { user: found.user, token };
}

function countClient(ctx: SimContext, ip: string, isRefused: boolean): void {
  const counts = ctx.stats.restClients.get(ip) ?? { calls: 0, refused: 0 };
  counts.calls += 1;
  if (isRefused) counts.refused += 1;
  ctx.stats.restClients.set(ip, counts);
}

/** RC `API.v1.failure(e.message, e.error, …, e)` for a thrown error. */
export function failureBody(err: unknown): Record<string, unknown> {
  if (err instanceof MeteorError) {
    return {
      success: false,
      error: err.message,
      errorType: err.error,
      ...(err.details !== undefined && { details: err.details }),
    };
  }
  return { success: false, error: err instanceof Error ? err.message : String(err) };
}

export function addRoute(
  router: Router,
  ctx: SimContext,
  limits: RestRateLimits,
  spec: RouteSpec,
  handler: RestHandler,
): void {
  router[spec.method](`/v1/${spec.name}`, async (req: Request, res: Response) => {
    const auth = authenticate(ctx, req);
    if (spec.authRequired && !auth) {
      res.status(401).json({ success: false, error: NOT_LOGGED_IN, status: 'error', message: NOT_LOGGED_IN });
      return;
    }
    const ip = forwardedClientIp(req, ctx.options.httpForwardedCount);
    const limit = limits.check(spec.name, spec.method, ip, auth?.user._id);
    countClient(ctx, ip, limit?.tooManyRequests !== undefined);
    if (limit) {
      res.set(limit.headers);
      if (limit.tooManyRequests) {
        const { seconds } = limit.tooManyRequests;
        res.status(429).json({
          success: false,
          error: `Error, too many requests. Please slow down. You must wait ${seconds} seconds before trying this endpoint again. [error-too-many-requests]`,
        });
        return;
      }
    }
    const call: RestCall = {
      ctx,
      user: auth?.user,
      token: auth?.token,
      body: req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {},
      query: stringQuery(req),
      ip,
      baseUrl: `${req.protocol}://${req.get('host') ?? ''}`,
    };
    try {
      const reply = await handler(call);
      res.status(reply.status ?? 200).json(reply.raw ? reply.body : { ...reply.body, success: true });
    } catch (err) {
      if (!(err instanceof MeteorError)) {
        ctx.stats.internalErrors += 1;
        ctx.stats.lastInternalError = err instanceof Error ? (err.stack ?? err.message) : String(err);
      }
      res.status(400).json(failureBody(err));
    }
  });
}
