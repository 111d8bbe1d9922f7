/**
 * `/v1/webhooks`: the registry API. Mount it at `/v1/webhooks`; it runs the given authentication
 * middleware on every request it serves and takes the user id from `req.principal` only.
 *
 *   POST   /                      create          201 { ...webhook, secret, token? }  (shown once)
 *   GET    /                      list            200 { webhooks: [...], nextCursor }  (?limit, ?cursor)
 *   GET    /:id                   read            200 webhook
 *   PATCH  /:id                   change          200 webhook (`enabled: true` re-enables and resets failures)
 *   DELETE /:id                   delete          204
 *   POST   /:id/rotate-secret     new secret      200 { secret, previousSecretExpiresAt }
 *   POST   /:id/test              webhook.test    202 { eventId }
 *   GET    /:id/deliveries        attempts        200 { deliveries: [...], nextCursor }
 *                                                 (?limit=1..100, cursor, status, event, since, until)
 *   GET    /:id/stats             statistics      200 { attempts, successRate, lastSuccessAt, lastError, backlog }
 *   POST   /:id/replay            dead letters    202 { enqueued }  body { since, until? }
 *   POST   /:id/resend            one event       202 { eventId, jobId }  body { eventId }
 *
 * Errors are passed to `next()` as `GatewayError`s; the app's error handler renders them.
 */
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from 'express';
import { createError } from '../errors.js';
import { toHttpError } from '../http/http-error.js';
import {
  parseCreateBody,
  parseDeliveriesQuery,
  parseListQuery,
  parseReplayBody,
  parseResendBody,
  parseUpdateBody,
} from './webhook-schemas.js';
import type { WebhookService } from './webhook-service.js';

export interface WebhookRouterDeps {
  /** Sets `req.principal` or fails the request (src/http/auth in the gateway; a stub in tests). */
  readonly authenticate: RequestHandler;
  readonly webhooks: WebhookService;
  /** JSON body limit in bytes. @defaultValue 65536 */
  readonly bodyLimitBytes?: number;
}

const WEBHOOK_ID = /^wh_[A-Za-z0-9_-]{16}$/;

export function createWebhookRouter(deps: WebhookRouterDeps): Router {
  const { webhooks } = deps;
  const router = express.Router();
  router.use(deps.authenticate);
  const bodyLimitBytes = deps.bodyLimitBytes ?? 64 * 1024;
  router.use(express.json({ limit: bodyLimitBytes }));

  const userOf = (req: Request): string => {
    const userId = req.principal?.userId;
    if (!userId) throw createError('GW_ERR_UNAUTHENTICATED');
    return userId;
  };
  /** The route's webhook id; a malformed one is as absent as a missing one. */
  const idOf = (req: Request): string => {
    const id = req.params['id'];
    if (typeof id !== 'string' || !WEBHOOK_ID.test(id))
      throw createError('GW_ERR_NOT_FOUND', 'No such webhook');
    return id;
  };

  router.post('/', async (req, res) => {
    const userId = userOf(req);
    const { webhook, secret, token } = await webhooks.create(userId, parseCreateBody(req.body));
    res
      .status(201)
      .location(`${req.baseUrl}/${webhook.id}`)
      .set('cache-control', 'no-store')
      .json({ ...webhook, secret, ...(token === undefined ? {} : { token }) });
  });

  router.get('/', async (req, res) => {
    const userId = userOf(req);
    const page = await webhooks.list(userId, parseListQuery(req.query));
    res.json({ webhooks: page.items, nextCursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    res.json(await webhooks.get(userOf(req), idOf(req)));
  });

  router.patch('/:id', async (req, res) => {
    const userId = userOf(req);
    const id = idOf(req);
    const { webhook, token } = await webhooks.update(userId, id, parseUpdateBody(req.body));
    if (token !== undefined) res.set('cache-control', 'no-store');
    res.json({ ...webhook, ...(token === undefined ? {} : { token }) });
  });

  router.delete('/:id', async (req, res) => {
    await webhooks.remove(userOf(req), idOf(req));
    res.status(204).end();
  });

  router.post('/:id/rotate-secret', async (req, res) => {
    const rotated = await webhooks.rotateSecret(userOf(req), idOf(req));
    res.set('cache-control', 'no-store').json(rotated);
  });

  router.post('/:id/test', async (req, res) => {
    res.status(202).json(await webhooks.sendTest(userOf(req), idOf(req)));
  });

  router.get('/:id/deliveries', async (req, res) => {
    const userId = userOf(req);
    const id = idOf(req);
    const page = await webhooks.deliveriesPage(userId, id, parseDeliveriesQuery(req.query));
    res.json({ deliveries: page.items, nextCursor: page.nextCursor });
  });

  router.get('/:id/stats', async (req, res) => {
    res.json(await webhooks.stats(userOf(req), idOf(req)));
  });

  router.post('/:id/resend', async (req, res) => {
    const userId = userOf(req);
    const id = idOf(req);
    res.status(202).json(await webhooks.resend(userId, id, parseResendBody(req.body).eventId));
  });

  router.post('/:id/replay', async (req, res) => {
    const userId = userOf(req);
    const id = idOf(req);
    const { sinceMs, untilMs } = parseReplayBody(req.body);
    res.status(202).json(await webhooks.replay(userId, id, sinceMs, untilMs));
  });

  // Last: the body parser's errors (with this router's limit) and the router's own (a `:id` that
  // is not valid percent-encoding), as the app's handler would map them.
  router.use((err: unknown, _req: Request, _res: Response, next: NextFunction) =>
    next(toHttpError(err, { bodyLimitBytes })),
  );
  return router;
}
