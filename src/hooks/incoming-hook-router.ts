/**
 * `POST /hooks/:id/:token`: the public endpoint of incoming hooks. Mount it at `/hooks`, ahead
 * of any JSON body parser: it reads the body itself, as bytes, because a Standard Webhooks
 * signature is over the bytes as sent (a re-serialized object would not verify).
 *
 * In order, each refusal before anything is queued (nothing is posted on any error):
 *   body over the limit                                    413
 *   unknown id, malformed id or token, wrong token         404, one body for all (no oracle)
 *   hook has a signing secret, post unsigned, badly
 *   signed, or its timestamp outside the tolerance         401
 *   hook disabled                                          403
 *   over the hook's rate limit                             429 + Retry-After
 *   payload malformed                                      400 naming the field (415: neither JSON nor a form)
 *   `channel` naming another room, hook without override   403
 *   `channel` the owner cannot see (Rocket.Chat says so)   403 / 404
 * then 202 `{id, messageId, status}` as soon as the outbound job is stored. A retry with the same
 * `Idempotency-Key`, or the same `webhook-id`, returns the same job (`Idempotent-Replayed: true`).
 * Every post after the URL check is added to the hook's recent requests.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { createError } from '../errors.js';
import { toHttpError } from '../http/http-error.js';
import type { Logger } from '../log/index.js';
import type { HookService } from './hook-service.js';
import type { HookRecord, HookRequestEntry } from './hook-store.js';
import { createPayloadParser } from './incoming-payload.js';
import { SignatureVerifier } from './signature-verifier.js';

export interface IncomingHookRouterDeps {
  readonly hooks: HookService;
  /**
   * The per-hook rate limit: `createRateLimit(ctx, { policy: 'hook', limit, subjectOf:
   * hookRateLimitSubject })`. It runs after the URL check, so only a valid URL is counted.
   */
  readonly rateLimit: RequestHandler;
  /** `config.http.requestBodyLimitBytes`. */
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
  /** Longest text accepted (Rocket.Chat's `Message_MaxAllowedSize`). @defaultValue 5000 */
  readonly maxTextLength?: number;
}

/** Printable ASCII without spaces, as the IETF idempotency-key draft's examples. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The rate limit subject of a hook post: the hook, whoever sends. */
export function hookRateLimitSubject(req: Request): string {
  return `hook:${String(req.params.id)}`;
}

export function createIncomingHookRouter(deps: IncomingHookRouterDeps): Router {
  const { hooks, logger } = deps;
  const parsePayload = createPayloadParser(deps.maxTextLength ?? 5000);
  const verifier = new SignatureVerifier();
  const router = express.Router();
  const readBody = express.raw({ type: () => true, limit: deps.bodyLimitBytes });
  const rateLimit = (req: Request, res: Response): Promise<void> =>
    new Promise((resolve, reject) => {
      Promise.resolve(deps.rateLimit(req, res, (err?: unknown) => (err ? reject(err) : resolve()))).catch(
        reject,
      );
    });

  router.post('/:id/:token', readBody, async (req: Request, res: Response) => {
    const hook = await hooks.authorize(String(req.params.id), String(req.params.token));
    const atMs = hooks.now();
    const record = (entry: Omit<HookRequestEntry, 'atMs'>): void => {
      hooks.record(hook.id, { atMs, ...entry }).catch((err: unknown) => {
        logger.warn({ err, hookId: hook.id }, 'could not record a hook request');
      });
    };
    try {
      const raw = rawBodyOf(req, hook);
      if (hook.signingSecret !== undefined) {
        verifier.verify(hook.signingSecret, raw, {
          'webhook-id': req.get('webhook-id'),
          'webhook-timestamp': req.get('webhook-timestamp'),
          'webhook-signature': req.get('webhook-signature'),
        });
      }
      if (!hook.isEnabled) throw createError('GW_ERR_FORBIDDEN', 'This hook is disabled');
      await rateLimit(req, res);
      const message = parsePayload(req.get('content-type'), raw);
      const result = await hooks.deliver(hook, message, idempotencyKeyOf(req));
      if (!result.isNew) res.setHeader('Idempotent-Replayed', 'true');
      res.status(202).json(result.view);
      record({ status: 202, jobId: result.view.id, messageId: result.view.messageId });
    } catch (err) {
      // Mapped as the error handler will, so the recorded answer is the one the caller gets.
      const error = toHttpError(err, { bodyLimitBytes: deps.bodyLimitBytes });
      record({ status: error.status, error: { code: error.code, message: error.message } });
      throw error;
    }
  });

  return router;
}

/**
 * The body as received. Should a JSON parser have run first (the router mounted after
 * `express.json`), an unsigned hook still works from the parsed object; a signed one cannot be
 * verified, which is a deployment mistake, reported as such.
 */
function rawBodyOf(req: Request, hook: HookRecord): Buffer {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined) return Buffer.alloc(0);
  if (hook.signingSecret !== undefined) {
    throw createError('GW_ERR_INTERNAL', 'the hook router must be mounted before the JSON body parser');
  }
  return Buffer.from(JSON.stringify(body));
}

function idempotencyKeyOf(req: Request): string | undefined {
  const header = req.get('idempotency-key') !== undefined ? 'Idempotency-Key' : 'webhook-id';
  // Standard Webhooks senders keep `webhook-id` across their retries: it is their own key.
  const key = req.get(header);
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw createError('GW_ERR_VALIDATION', `${header} must be 1 to 255 printable ASCII characters`, {
      details: { fields: [{ field: header, message: 'is not a valid key' }] },
    });
  }
  return key;
}
