/**
 * Probes for Kubernetes. `/healthz` (liveness) says only that the process answers HTTP: it must
 * not depend on Redis, or a Redis outage would get every replica restarted for nothing.
 * `/readyz` (readiness) says whether this replica should get traffic: Redis answers and the
 * replica is not draining.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Clock, TimerHandle } from '../../clock.js';
import type { RedisClient } from '../../redis/connection.js';
import { clockOf, type HttpContext } from '../context.js';

export interface HealthRouterOptions {
  /** How long `/readyz` waits for Redis to answer PING. @defaultValue 1000 */
  readonly redisTimeoutMs?: number;
}

export function createHealthRouter(ctx: HttpContext, options: HealthRouterOptions = {}): Router {
  const redisTimeoutMs = options.redisTimeoutMs ?? 1000;
  const clock = clockOf(ctx);
  const router = express.Router();

  router.get('/healthz', (_req: Request, res: Response) => {
    res.status(200).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req: Request, res: Response) => {
    const reason = ctx.lifecycle.isDraining()
      ? 'draining: the gateway is shutting down'
      : await redisProblem(ctx.redis, clock, redisTimeoutMs);
    res.setHeader('Cache-Control', 'no-store');
    if (reason === undefined) res.status(200).json({ status: 'ok' });
    else res.status(503).json({ status: 'unavailable', reason });
  });

  return router;
}

/** Why Redis is not usable, or undefined when it answered PING in time. */
async function redisProblem(
  redis: RedisClient,
  clock: Clock,
  timeoutMs: number,
): Promise<string | undefined> {
  // A client that is not connected would queue the PING until it reconnects: answer at once.
  if (redis.status !== 'ready') return `redis: connection is ${redis.status}`;
  let timer: TimerHandle | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = clock.setTimeout(() => resolve(`redis: no answer to PING within ${timeoutMs} ms`), timeoutMs);
  });
  const pinged = redis.ping().then(
    () => undefined,
    (err: unknown) => `redis: ${err instanceof Error ? err.message : 'PING failed'}`,
  );
  try {
    return await Promise.race([pinged, timedOut]);
  } finally {
    clock.clearTimeout(timer);
  }
}
