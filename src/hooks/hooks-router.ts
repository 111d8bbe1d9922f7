/**
 * `/v1/hooks`: the incoming-hook registry. Mount it at `/v1/hooks`; it runs the given
 * authentication middleware on every request and takes the user id from `req.principal` only,
 * so a user sees and changes only its own hooks (another user's id is simply not found).
 *
 *   POST   /                      create          201 { ...hook, url }   (the URL's token is shown once)
 *   GET    /                      list            200 { hooks: [...], nextCursor }  (?limit=1..100, ?cursor)
 *   GET    /:id                   read            200 hook
 *   PATCH  /:id                   change          200 hook   (`enabled`, `signingSecret: null`...)
 *   DELETE /:id                   delete          204
 *   POST   /:id/rotate-token      new URL         200 { url } (the old URL stops working at once)
 *   GET    /:id/requests          recent posts    200 { requests: [...], nextCursor }  (?limit=1..100, ?cursor)
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { createError } from '../errors.js';
import { decodeCursor, parsePageLimit } from '../http/page-cursor.js';
import { jsonObjectBody, parseInput } from '../http/validation.js';
import { createHookSchema, requestsQuerySchema, updateHookSchema } from './hook-schemas.js';
import type { HookService } from './hook-service.js';

export interface HooksRouterDeps {
  readonly hooks: HookService;
  /** Sets `req.principal` or fails the request (src/http/auth in the gateway; a stub in tests). */
  readonly authenticate: RequestHandler;
}

export function createHooksRouter(deps: HooksRouterDeps): Router {
  const { hooks } = deps;
  const router = express.Router();
  router.use(deps.authenticate);

  router.post('/', async (req, res) => {
    const { hook, url } = await hooks.create(userOf(req), parseInput(createHookSchema, jsonObjectBody(req)));
    res
      .status(201)
      .location(`${req.baseUrl}/${hook.id}`)
      .set('cache-control', 'no-store')
      .json({ ...hook, url });
  });

  router.get('/', async (req, res) => {
    const userId = userOf(req);
    const page = await hooks.list(userId, {
      limit: parsePageLimit(req.query.limit, 100, 100),
      after: decodeCursor(req.query.cursor, 'hooks', ['integer', 'string']),
    });
    res.json({ hooks: page.items, nextCursor: page.nextCursor });
  });

  router.get('/:id', async (req, res) => {
    res.json(await hooks.get(userOf(req), idOf(req)));
  });

  router.patch('/:id', async (req, res) => {
    const userId = userOf(req);
    const patch = parseInput(updateHookSchema, jsonObjectBody(req));
    res.json(await hooks.update(userId, idOf(req), patch));
  });

  router.delete('/:id', async (req, res) => {
    await hooks.remove(userOf(req), idOf(req));
    res.status(204).end();
  });

  router.post('/:id/rotate-token', async (req, res) => {
    res.set('cache-control', 'no-store').json(await hooks.rotateToken(userOf(req), idOf(req)));
  });

  router.get('/:id/requests', async (req, res) => {
    const { limit } = parseInput(requestsQuerySchema, { limit: req.query.limit });
    const cursor = decodeCursor(req.query.cursor, 'hook-requests', ['integer']);
    const page = await hooks.requests(
      userOf(req),
      idOf(req),
      limit,
      cursor === undefined ? undefined : Number(cursor[0]),
    );
    res.json({ requests: page.items, nextCursor: page.nextCursor });
  });

  return router;
}

function userOf(req: Request): string {
  const userId = req.principal?.userId;
  if (!userId) throw createError('GW_ERR_UNAUTHENTICATED');
  return userId;
}

function idOf(req: Request): string {
  return String(req.params.id);
}
