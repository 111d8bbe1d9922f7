/** The browser console served at `/console`. */
export {
  CONSOLE_CSP_DIRECTIVES,
  type ConsoleRouterOptions,
  consoleAssetDirs,
  createConsoleRouter,
  findConsoleAssets,
} from './console-router.js';
