/**
 * The one shape every feature of the gateway has (sessions, events, messages, methods, hooks,
 * webhooks, console, docs, metrics): a `createXxxFeature(core, deps)` in this folder builds its
 * services from the core's parts, and returns the routers to mount, what to start once the core
 * runs, and how to close. `src/gateway.ts` composes them per role (api | worker | all); a feature
 * never opens a connection of its own, it asks the core (`connection`, `subscriber`).
 */
import type { RequestHandler } from 'express';
import type { GatewayCore } from '../gateway-core.js';
import type { MountedRouter } from '../http/app.js';
import type { HttpAuth } from '../http/auth/index.js';
import type { HttpContext } from '../http/context.js';
import type { FastRoute } from '../http/fast-path.js';

export type { FastRoute } from '../http/fast-path.js';

export interface Feature {
  /** Names the feature in shutdown logs. */
  readonly name: string;
  /** Mounted in the order features are composed, then in the order given. */
  readonly routers: readonly MountedRouter[];
  readonly fastRoutes?: readonly FastRoute[];
  /** Runs once the core has started (call router, presence, pool), before the server listens. */
  start?(): Promise<void>;
  /**
   * Ends long-lived responses (SSE), before the HTTP server closes: it waits for open responses.
   */
  closeStreams?(): Promise<void>;
  /** Stops the feature's workers and services. Idempotent; runs even if `start` never did. */
  close(): Promise<void>;
}

/** What the composition root hands every feature besides the core. */
export interface FeatureDeps {
  /** The HTTP tier's context (shared by every route of the app). */
  readonly http: HttpContext;
  /** The app's one authentication (one login throttle, one `X-Auth-Token` cache). */
  readonly auth: HttpAuth;
  /** `auth.authenticate()` then the API rate limit: what an authenticated route puts first. */
  readonly authenticated: RequestHandler;
  /** This process serves the public API (role `api` or `all`); otherwise only health and docs. */
  readonly isApi: boolean;
}

/** A feature that only mounts routers. */
export function routersOnly(name: string, routers: readonly MountedRouter[]): Feature {
  return { name, routers, close: async () => undefined };
}

/** Whether this process holds sessions (role `worker` or `all`): it then runs the workers. */
export function isWorker(
  core: GatewayCore,
): core is GatewayCore & { readonly pool: NonNullable<GatewayCore['pool']> } {
  return core.pool !== undefined;
}

/**
 * Runs every step in order even when one fails (a feature's `close`); then throws the failure, or
 * all of them together.
 */
export async function runEvery(steps: readonly (() => Promise<unknown>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'several steps failed');
}
