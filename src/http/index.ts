export { createApp, type MountedRouter } from './app.js';
export {
  type AuthenticateOptions,
  authenticate,
  type IssuedToken,
  issueAccessToken,
  issueSseToken,
  type TokenSubject,
  verifyToken,
} from './auth/index.js';
export { clockOf, type HttpContext, type Lifecycle, type Principal } from './context.js';
export { createHealthRouter, type HealthRouterOptions } from './routes/health.js';
export { createSessionsRouter } from './routes/sessions.js';
