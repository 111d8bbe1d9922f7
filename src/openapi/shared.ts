/**
 * The building blocks every part of the OpenAPI document uses: references, bodies, the security
 * and error responses of authenticated routes. A part (one per feature: sessions.ts, webhooks.ts,
 * ...) is its paths, the component schemas only it defines, and their examples; index.ts puts
 * the parts together.
 */

/** A JSON Schema or any other object of the document. */
export type Schema = Record<string, unknown>;

/** What one feature adds to the document. */
export interface OpenApiPart {
  readonly paths: Readonly<Record<string, Schema>>;
  /** Hand-written component schemas (responses, mostly); request bodies come from zod (request-schemas.ts). */
  readonly schemas?: Readonly<Record<string, Schema>>;
  /**
   * One example body per component schema, shown with every request and response that uses the
   * schema (index.ts), so a reader of any operation sees a real body. Checked against the schemas
   * by `redocly lint` (no-invalid-media-type-examples) in the tests.
   */
  readonly examples?: Readonly<Record<string, unknown>>;
}

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** A JSON body; the schema's example (`OpenApiPart.examples`) is added by index.ts unless one is given. */
export const jsonContent = (schema: Schema, example?: unknown): Schema => ({
  'application/json': { schema, ...(example === undefined ? {} : { example }) },
});

export const jsonResponse = (
  description: string,
  schema: Schema,
  headers?: Schema,
  example?: unknown,
): Schema => ({
  description,
  content: jsonContent(schema, example),
  ...(headers ? { headers } : {}),
});

/** A required JSON request body of component `name`. */
export const jsonBody = (name: string): Schema => ({ required: true, content: jsonContent(ref(name)) });

/** An object with exactly `properties`, each required unless `optional` names it. */
export function closedObject(
  properties: Schema,
  optional: readonly string[] = [],
  extra: Schema = {},
): Schema {
  const required = Object.keys(properties).filter((name) => !optional.includes(name));
  return { type: 'object', ...extra, required, properties, additionalProperties: false };
}

/** The fields of a resource, each required unless `optional` names it; `shownAs` closes it. */
export const fieldsOf = (properties: Schema, optional: readonly string[] = []): Schema => ({
  type: 'object',
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  properties,
});

/** A page of a listing: `{ <key>: [items], nextCursor }`. */
export const pageOf = (key: string, item: string): Schema =>
  closedObject({ [key]: { type: 'array', items: ref(item) }, nextCursor: ref('NextCursor') });

/** A resource as one answer shows it: its fields (`<Name>Fields`), and `extra` when given, nothing else. */
export const shownAs = (fields: string, description: string, extra?: Schema): Schema => ({
  description,
  allOf: [ref(fields), ...(extra ? [extra] : [])],
  unevaluatedProperties: false,
});

export const errorRef = (name: string): Schema => ({ $ref: `#/components/responses/${name}` });
export const param = (name: string): Schema => ({ $ref: `#/components/parameters/${name}` });
export const isoDateTime: Schema = { type: 'string', format: 'date-time' };
export const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });

/** The errors every authenticated, rate-limited route may answer. */
export const AUTHENTICATED_ERRORS: Schema = {
  '401': errorRef('Unauthenticated'),
  '429': errorRef('RateLimited'),
  '503': errorRef('Unavailable'),
  default: errorRef('Error'),
};

/** Gateway JWT, or Rocket.Chat's own `X-User-Id` + `X-Auth-Token` pair. */
export const AUTHENTICATED: readonly Schema[] = [
  { bearerAuth: [] },
  { rocketchatUserId: [], rocketchatAuthToken: [] },
];

/**
 * An operation behind authentication and the per-user rate limit: the gateway's credentials,
 * and after its own responses the errors every such route may answer.
 */
export function authenticated(operation: Schema & { readonly responses: Schema }): Schema {
  return {
    ...operation,
    security: AUTHENTICATED,
    responses: { ...operation.responses, ...AUTHENTICATED_ERRORS },
  };
}

/**
 * What the probes, metrics and this document can refuse: they take no input, but Node.js refuses
 * request headers beyond its limit before the gateway sees the request.
 */
export const HEADERS_TOO_LARGE: Schema = {
  description: 'Request headers larger than Node.js accepts (16 KiB by default); answered without a body',
};

/** `?limit&cursor` of a paged listing: `limit` is 1..100, `limit` its default or its own schema. */
export function pageParameters(limit: number | Schema): Schema[] {
  const limitSchema =
    typeof limit === 'number' ? { type: 'integer', minimum: 1, maximum: 100, default: limit } : limit;
  return [
    { name: 'limit', in: 'query', schema: limitSchema },
    {
      name: 'cursor',
      in: 'query',
      description: '`nextCursor` of the previous page (400 when it is not one).',
      schema: { type: 'string' },
    },
  ];
}

export const EXAMPLE_TIME = '2026-01-15T09:30:00.000Z';
