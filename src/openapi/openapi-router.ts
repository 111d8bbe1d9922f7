/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of the HTTP surface (document.ts),
 * unauthenticated like the probes, so tools and people can read the contract of a running
 * gateway.
 */
import express, { type Request, type Response, type Router } from 'express';
import { createOpenApiDocument, type OpenApiDocument } from './document.js';

export interface OpenApiRouterOptions {
  /** `PUBLIC_URL` (config.http.publicUrl): the server the document names. */
  readonly publicUrl: string;
  /** The gateway's version. @defaultValue '0.1.0' */
  readonly version?: string;
}

export function createOpenApiRouter(options: OpenApiRouterOptions): Router {
  // Built once: it depends on nothing that changes while the process runs.
  const body = JSON.stringify(createOpenApiDocument(options));
  const router = express.Router();
  router.get('/openapi.json', (_req: Request, res: Response) => {
    res.type('application/json').setHeader('Cache-Control', 'no-cache');
    res.status(200).send(body);
  });
  return router;
}

export type { OpenApiDocument };
