/**
 * Request input through a zod schema, failing as `GW_ERR_VALIDATION` that names the field.
 * Messages come from the schema's issues, which describe the expectation, never the input: a
 * rejected password must not be echoed back or logged.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import { createError, type GatewayError } from '../errors.js';

/** One field that failed validation: the shape of every `details.fields` entry (docs/errors.md). */
export interface FieldProblem {
  /** The dotted path into the input (`topics.0`), or `(body)` for the input as a whole. */
  readonly field: string;
  readonly message: string;
}

/** At most this many problems are listed: the answer to a hostile body stays small. */
const MAX_FIELD_PROBLEMS = 10;

/** The parsed value, or throws `GW_ERR_VALIDATION` naming the first bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationError(result.error);
}

/**
 * A zod failure as `GW_ERR_VALIDATION` with `details.fields`: the one shape of a validation error,
 * whichever route or feature checked the input.
 */
export function validationError(error: z.ZodError): GatewayError {
  const fields: FieldProblem[] = error.issues.slice(0, MAX_FIELD_PROBLEMS).map((issue) => ({
    field: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  const first = fields[0] ?? { field: '(body)', message: 'is invalid' };
  return createError('GW_ERR_VALIDATION', `${first.field}: ${first.message}`, { details: { fields } });
}

/**
 * The parsed JSON body as a plain object. Throws `GW_ERR_UNSUPPORTED_MEDIA_TYPE` for a body that
 * is not JSON (the JSON parser leaves those alone) and `GW_ERR_VALIDATION` for JSON that is not
 * an object.
 */
export function jsonObjectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined && req.headers['content-type'] !== undefined && !req.is('application/json')) {
    throw createError('GW_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notAnObject();
  return body as Record<string, unknown>;
}

/**
 * Like `jsonObjectBody`, but `undefined` for a request that carries no body at all (an empty
 * POST), for routes whose body is optional. A body that is there must still be a JSON object:
 * a `text/plain` or form body is 415, never silently taken for "no body".
 */
export function optionalJsonObjectBody(req: Request): Record<string, unknown> | undefined {
  if (req.body === undefined && !hasBody(req)) return undefined;
  return jsonObjectBody(req);
}

/** Whether the request says it carries a body (type-is's `hasBody`, which Express 5 does not expose). */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && Number(length) !== 0;
}

function notAnObject(): GatewayError {
  return createError('GW_ERR_VALIDATION', 'The request body must be a JSON object');
}
