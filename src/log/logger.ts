/**
 * The gateway's logger: pino, JSON lines, with secrets removed by pino's own `redact` (never by
 * hand-scrubbing at call sites) and URLs passed through `redactUrl`. Parts receive a logger and
 * make children carrying `userId`, `sessionId` or `jobId`; nothing imports a global one.
 */
import { hostname } from 'node:os';
import { type DestinationStream, type LevelWithSilent, type Logger, pino, stdSerializers } from 'pino';
import type { Clock } from '../clock.js';
import { REDACT_PATHS } from './redact-paths.js';
import { REDACTED, redactUrl } from './redact-url.js';

export type { Logger };

export interface LoggerOptions {
  /** @defaultValue 'info' */
  readonly level?: LevelWithSilent;
  /** Where JSON lines go. @defaultValue standard output */
  readonly destination?: DestinationStream;
  /** Fields on every line besides `pid` and `hostname`, e.g. `{ role, workerId }`. */
  readonly base?: Readonly<Record<string, unknown>>;
  /** Source of the `time` field (epoch ms), so tests get deterministic lines. @defaultValue Date.now */
  readonly clock?: Clock;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const { clock } = options;
  const loggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, hostname: hostname(), ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      req: serializeRequest,
      url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
      err: stdSerializers.errWithCause,
    },
    // Level names rather than numbers: log pipelines (Loki, Cloud Logging) filter on them as-is.
    formatters: { level: (label: string) => ({ level: label }) },
    ...(clock ? { timestamp: () => `,"time":${clock.now()}` } : {}),
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}

/**
 * pino's standard request serializer, with the URL redacted. Express keeps the full URL, query
 * included, in `originalUrl`, which is what the standard serializer logs.
 */
function serializeRequest(req: unknown): unknown {
  if (typeof req !== 'object' || req === null) return req;
  const serialized = stdSerializers.req(req as Parameters<typeof stdSerializers.req>[0]);
  if (typeof serialized.url === 'string') serialized.url = redactUrl(serialized.url);
  return serialized;
}
