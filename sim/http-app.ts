/**
 * The Express application: Rocket.Chat REST under `/api`, the control API under `/sim`.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type { SimContext } from './context.js';
import type { SimControl } from './control.js';
import { controlRouter } from './control-routes.js';
import { addAuthRoutes } from './rest-auth.js';
import { addChatRoutes } from './rest-chat.js';
import { RestRateLimits } from './rest-rate-limit.js';

export function createHttpApp(ctx: SimContext, control: SimControl): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '10mb' }));
  app.use(express.urlencoded({ extended: false }));
  app.use('/sim', controlRouter(control));

  const api = Router();
  const limits = new RestRateLimits(ctx.options.restRateLimit);
  addAuthRoutes(api, ctx, limits);
  addChatRoutes(api, ctx, limits);
  app.use('/api', api);

  app.use((_req, res) => {
    res.status(404).json({ success: false, error: 'Resource not found' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser errors (bad JSON) and anything unexpected.
    const status =
      typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    res.status(status).json({ success: false, error: err instanceof Error ? err.message : String(err) });
  });
  return app;
}
