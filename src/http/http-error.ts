/**
 * Whatever reaches the error handler, as a `GatewayError`: the one place a thrown value becomes
 * an HTTP answer. Ours pass through; the errors Express and its body parser raise (http-errors
 * with a `status`, and a `type` for the body parser) get their gateway code here; everything
 * else goes through `mapUpstreamError` (src/rocketchat/errors.ts), so a DDP timeout that escapes
 * a route is a 504 and a dropped line a 503, and only what nobody recognises is a 500.
 *
 * The body parser's errors are rebuilt without `cause`: they carry the raw body (`err.body`),
 * which may hold a password, and the cause is what gets logged.
 */
import { createError, type GatewayError, isGatewayError } from '../errors.js';
import { mapUpstreamError } from '../rocketchat/errors.js';

export interface ToHttpErrorOptions {
  /** The body limit, to name in the 413 message. */
  readonly bodyLimitBytes: number;
}

export function toHttpError(err: unknown, options: ToHttpErrorOptions): GatewayError {
  if (isGatewayError(err)) return err;
  const status = statusOf(err);
  if (status === undefined || status >= 500) return mapUpstreamError(err);
  switch (typeOf(err)) {
    case 'entity.too.large':
      return createError(
        'GW_ERR_PAYLOAD_TOO_LARGE',
        `The request body is larger than the limit of ${limitOf(err) ?? options.bodyLimitBytes} bytes`,
      );
    case 'entity.parse.failed':
      return createError('GW_ERR_VALIDATION', 'The request body is not valid JSON');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return createError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON in UTF-8');
    case 'request.aborted':
      return createError('GW_ERR_VALIDATION', 'The request was aborted before its body was complete');
    case 'request.size.invalid':
      return createError('GW_ERR_VALIDATION', 'The request body does not match its Content-Length');
  }
  if (status === 404) return createError('GW_ERR_NOT_FOUND');
  if (status === 413) return createError('GW_ERR_PAYLOAD_TOO_LARGE');
  if (status === 415) return createError('GW_ERR_UNSUPPORTED_MEDIA_TYPE');
  // Other 4xx from Express (a path parameter that cannot be decoded...): the request is at fault,
  // but its own message may quote the input, so the registry's text is shown.
  return createError('GW_ERR_VALIDATION');
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599
    ? value
    : undefined;
}

function typeOf(err: unknown): string | undefined {
  const type = (err as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/** The limit a body parser refused the body at (a router may set a lower one than the app's). */
function limitOf(err: unknown): number | undefined {
  const limit = (err as { limit?: unknown }).limit;
  return typeof limit === 'number' && Number.isSafeInteger(limit) ? limit : undefined;
}
