/**
 * `GET /v1/event-types`: every event type the gateway emits, with a description and the JSON
 * Schema of its envelope, generated from the zod schemas the OpenAPI document uses too
 * (src/events/event-schemas.ts). Unauthenticated like `/openapi.json`: it describes the gateway,
 * not a user's data.
 */
import express, { type Request, type Response, type Router } from 'express';
import { eventCatalogue } from '../../events/event-schemas.js';

export function createEventTypesRouter(): Router {
  // Built once: it depends on nothing that changes while the process runs.
  const body = JSON.stringify({ eventTypes: eventCatalogue() });
  const router = express.Router();
  router.get('/v1/event-types', (_req: Request, res: Response) => {
    res.type('application/json').setHeader('Cache-Control', 'no-cache');
    res.status(200).send(body);
  });
  return router;
}
