/**
 * `POST /v1/methods/<name>` `{"params": [...]}` -> `{"result": ...}`: a synchronous call of an
 * allowed Rocket.Chat method over the caller's pooled session (forwarded to the worker that owns
 * it). The name keeps Rocket.Chat's spelling, slashes and colons included
 * (`/v1/methods/rooms/get`, `/v1/methods/UserPresence:setDefaultStatus`).
 *
 * Only the catalogue's methods are callable (`src/rocketchat/method-catalogue.ts`; anything else
 * is 404 `GW_ERR_METHOD_NOT_ALLOWED`), and their params are validated before anything is sent.
 * Rocket.Chat's errors map to statuses in `src/rocketchat/errors.ts` (403, 404, 400, 429 with
 * `Retry-After`, 503, 504), its own code kept in `details.upstreamError`.
 *
 * Mount at `/v1/methods`.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { z } from 'zod';
import { createError } from '../../errors.js';
import { callWithDeadline } from '../../outbound/call-deadline.js';
import { explainUnavailable } from '../../outbound/unavailable.js';
import { mapUpstreamError } from '../../rocketchat/errors.js';
import { findMethod, type MethodDefinition, reportedResult } from '../../rocketchat/method-catalogue.js';
import type { CallRouter } from '../../sessions/call-router.js';
import type { CredentialStore } from '../../sessions/credential-store.js';
import { optionalJsonObjectBody, parseInput } from '../validation.js';

export interface MethodsRouterDeps {
  readonly calls: Pick<CallRouter, 'call'>;
  /** To tell "no credentials" from "Rocket.Chat unavailable" when no session can be had. */
  readonly credentials: CredentialStore;
  /** Authenticates the request and sets `req.principal` (src/http/auth in the gateway). */
  readonly authenticate: RequestHandler;
  /** One call, forwarding included; past it the answer is 504. @defaultValue 15000 */
  readonly callTimeoutMs?: number;
}

const bodySchema = z.object({ params: z.array(z.unknown()).max(100).default([]) }).strict();

// Wrapped so a bad field is named `params.<index>`. Built once per method, not per request: zod
// compiles an object schema on its first parse.
const wrappedParams = new WeakMap<MethodDefinition, z.ZodType<{ params: readonly unknown[] }>>();

function paramsSchemaOf(method: MethodDefinition): z.ZodType<{ params: readonly unknown[] }> {
  let schema = wrappedParams.get(method);
  if (!schema) {
    schema = z.object({ params: method.params });
    wrappedParams.set(method, schema);
  }
  return schema;
}

export function createMethodsRouter(deps: MethodsRouterDeps): Router {
  const { calls, credentials, authenticate } = deps;
  const timeoutMs = deps.callTimeoutMs ?? 15_000;
  const router = express.Router();
  router.use(authenticate);

  // `*name` matches across slashes: `rooms/get` arrives as ['rooms', 'get'].
  router.post('/*name', async (req: Request, res: Response) => {
    const principal = req.principal;
    if (!principal) throw createError('GW_ERR_UNAUTHENTICATED');
    const segments = (req.params as { name?: string | string[] }).name;
    const name = Array.isArray(segments) ? segments.join('/') : String(segments ?? '');
    const method = findMethod(name);
    if (!method) {
      throw createError('GW_ERR_METHOD_NOT_ALLOWED', undefined, { details: { method: name.slice(0, 100) } });
    }
    // No body at all is `{"params": []}`; a body that is not JSON is 415, never ignored.
    const body = parseInput(bodySchema, optionalJsonObjectBody(req) ?? {});
    const { params } = parseInput(paramsSchemaOf(method), { params: body.params });
    const refusal = method.authorize?.(params, { userId: principal.userId, username: principal.username });
    if (refusal) throw createError('GW_ERR_FORBIDDEN', refusal);
    let result: unknown;
    try {
      result = await callWithDeadline(calls, principal.userId, method.name, params, timeoutMs);
    } catch (err) {
      throw await explainUnavailable(mapUpstreamError(err), credentials, principal.userId);
    }
    // One answer for every falsy result: see `reportedResult` (and docs/simulator-protocol.md).
    res.json({ result: reportedResult(method, result) });
  });

  return router;
}
