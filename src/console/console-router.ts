/**
 * The browser console at `/console`: a few static files (HTML, CSS, ES modules) served by the
 * gateway itself, no framework and no CDN. It talks to the same origin's public API only
 * (`/v1/sessions`, `/v1/events`, `/v1/messages`, `/v1/webhooks`), so it can do nothing a
 * client with the user's token could not.
 *
 * Its own Content-Security-Policy, stricter than the app-wide helmet one: everything from
 * `'self'`, no inline script or style at all (`script-src-attr 'none'`, no `'unsafe-inline'`),
 * no plugins, not framable. The page renders untrusted text (messages) with `textContent` only;
 * the CSP is the second line of defence if that ever slips.
 *
 * Switched off by `CONSOLE_ENABLED` (off in production unless set): the router is then empty and
 * `/console` is the app's ordinary JSON 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import helmet from 'helmet';
import type { GatewayConfig } from '../config/index.js';

export interface ConsoleRouterOptions {
  /** The folder holding `index.html` and its assets. @defaultValue the first of `consoleAssetDirs()` that exists */
  readonly assetsDir?: string;
}

/** The console's Content-Security-Policy directives (helmet syntax). */
export const CONSOLE_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  // Not `upgrade-insecure-requests`: the console is also served over plain http (the demo, a
  // port-forward), where upgrading its own script requests to https would break the page.
  upgradeInsecureRequests: null,
} as const;

/**
 * Where the assets may be, relative to this module: beside it when run from source (tsx,
 * vitest), and back in `src/console/static` when run from `dist/src/console` after `tsc`, which
 * compiles TypeScript only and copies no other file. A container image must therefore ship
 * `src/console/static` next to `dist/` (see the Dockerfile) for the console to be served.
 */
export function consoleAssetDirs(moduleUrl: string = import.meta.url): readonly string[] {
  return [
    fileURLToPath(new URL('./static/', moduleUrl)),
    fileURLToPath(new URL('../../../src/console/static/', moduleUrl)),
  ];
}

/** The first candidate folder that holds an `index.html`, or undefined. */
export function findConsoleAssets(candidates: readonly string[] = consoleAssetDirs()): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/**
 * The `/console` router. Mount it at `/console`. With the console enabled and its assets missing
 * it throws at once (a broken install should fail at start, not with a 404 later).
 */
export function createConsoleRouter(
  config: Pick<GatewayConfig, 'http'>,
  options: ConsoleRouterOptions = {},
): Router {
  const router = express.Router();
  if (!config.http.isConsoleEnabled) return router;

  const candidates = options.assetsDir === undefined ? consoleAssetDirs() : [options.assetsDir];
  const assetsDir = findConsoleAssets(candidates);
  if (assetsDir === undefined) {
    throw new Error(
      `CONSOLE_ENABLED is on but the console's files are missing (looked in ${candidates.join(', ')}): ` +
        'ship src/console/static with the build, or set CONSOLE_ENABLED=false',
    );
  }

  router.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP_DIRECTIVES },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  // `/console` and `/console/` both reach this router with path `/`; the page's relative URLs
  // (`console.css`, `../v1/...`) need the trailing slash. The relative Location also keeps a
  // path prefix added by an ingress.
  router.get('/', (req, res, next) => {
    const path = req.originalUrl.split('?')[0] ?? '';
    if (path.endsWith('/')) return next();
    const query = req.originalUrl.slice(path.length);
    res.redirect(301, `${path.slice(path.lastIndexOf('/') + 1)}/${query}`);
  });
  router.use(
    express.static(assetsDir, {
      index: 'index.html',
      dotfiles: 'ignore',
      redirect: false,
      fallthrough: true,
      // Small files, always revalidated: a gateway upgrade must not leave a stale page behind.
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return router;
}
