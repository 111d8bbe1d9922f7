/**
 * The OpenAPI 3.1 description of the whole HTTP surface, served at `/openapi.json`: the HTTP
 * contract. One part per feature (sessions.ts, events.ts, webhooks.ts and webhook-deliveries.ts,
 * messages.ts, methods.ts, hooks.ts, operations.ts), put together here.
 *
 * What the gateway checks with zod is generated from those schemas with `z.toJSONSchema`, never
 * copied: request bodies, query parameters and method params (request-schemas.ts), the events
 * (src/events/event-schemas.ts, also served at `GET /v1/event-types`). Responses are written as
 * data, and lists that exist in code are taken from it: error codes (`src/errors.ts`), event types
 * (`src/events/types.ts`), callable methods (`src/rocketchat/method-catalogue.ts`). The tests keep
 * it honest: test/integration/openapi-responses.test.ts validates real responses against it,
 * test/unit/openapi-requests.test.ts request bodies, test/unit/openapi-lint.test.ts lints it.
 *
 * Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect).
 */
import { COMMON_COMPONENTS, commonPart } from './common.js';
import { EVENT_WEBHOOKS, eventsPart } from './events.js';
import { hooksPart } from './hooks.js';
import { messagesPart } from './messages.js';
import { methodsPart } from './methods.js';
import { operationsPart } from './operations.js';
import { requestJsonSchemas } from './request-schemas.js';
import { sessionsPart } from './sessions.js';
import { AUTHENTICATED, type OpenApiPart, type Schema } from './shared.js';
import { webhookDeliveriesPart } from './webhook-deliveries.js';
import { webhooksPart } from './webhooks.js';

/** A JSON value as OpenAPI documents hold them. */
export type OpenApiDocument = Readonly<Record<string, unknown>>;

export interface OpenApiOptions {
  /** `PUBLIC_URL`: the server clients reach. */
  readonly publicUrl: string;
  /** The gateway's version (package.json). @defaultValue '0.1.0' */
  readonly version?: string;
}

/** In the document's order: paths and tags read as the features do. */
const PARTS: readonly OpenApiPart[] = [
  commonPart,
  operationsPart,
  sessionsPart,
  eventsPart,
  webhooksPart,
  webhookDeliveriesPart,
  messagesPart,
  methodsPart,
  hooksPart,
];

/**
 * `PUBLIC_URL`, or, while it is the loopback default (PUBLIC_URL unset), the relative `/`: the
 * gateway serving this document, wherever clients reach it. A `localhost` server would send every
 * client of a shared document to its own machine.
 */
function serverOf(publicUrl: string): Schema {
  const host = new URL(publicUrl).hostname;
  const loopback = host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  return loopback
    ? { url: '/', description: 'The gateway serving this document (PUBLIC_URL is not set)' }
    : { url: publicUrl };
}

/**
 * Gives every JSON body whose schema is a plain `$ref` the example of that schema, unless it has
 * one: a reader of any operation sees a real body, written once per schema.
 */
function withExamples<T>(node: T, examples: Readonly<Record<string, unknown>>): T {
  if (Array.isArray(node)) return node.map((item) => withExamples(item, examples)) as T;
  if (node === null || typeof node !== 'object') return node;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(node)) copy[key] = withExamples(value, examples);
  const target = (copy['schema'] as Schema | undefined)?.['$ref'];
  if (typeof target === 'string' && copy['example'] === undefined && copy['examples'] === undefined) {
    const example = examples[target.slice(target.lastIndexOf('/') + 1)];
    if (example !== undefined && target.startsWith('#/components/schemas/')) copy['example'] = example;
  }
  return copy as T;
}

function assemble(): { paths: Schema; schemas: Schema; examples: Schema } {
  const paths: Schema = {};
  const schemas: Schema = { ...requestJsonSchemas() };
  const examples: Schema = {};
  for (const part of PARTS) {
    for (const [name, item] of Object.entries(part.paths)) {
      if (name in paths) throw new Error(`OpenAPI path ${name} is described twice`);
      paths[name] = item;
    }
    for (const [name, schema] of Object.entries(part.schemas ?? {})) {
      if (name in schemas) throw new Error(`OpenAPI schema ${name} is defined twice`);
      schemas[name] = schema;
    }
    Object.assign(examples, part.examples);
  }
  return { paths, schemas, examples };
}

/** The document for a gateway reachable at `publicUrl`. */
export function createOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const { paths, schemas, examples } = assemble();
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Rocket.Chat realtime gateway',
      version: options.version ?? '0.1.0',
      // package.json: UNLICENSED, i.e. no licence is granted (all rights reserved); SPDX has no
      // identifier for that, so a LicenseRef names it.
      license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
      description:
        'Rocket.Chat realtime events as Server-Sent Events and signed webhooks, and REST sending and method calls, without speaking DDP. Every error has the body `{error, message}` (docs/errors.md). Authenticated routes are rate limited per user (`RATE_LIMIT_PER_MINUTE`).',
    },
    servers: [serverOf(options.publicUrl)],
    security: AUTHENTICATED,
    tags: [
      { name: 'sessions', description: 'Register Rocket.Chat credentials, get tokens' },
      { name: 'events', description: 'The SSE stream' },
      { name: 'webhooks', description: 'Outgoing webhooks: events pushed to your URL' },
      { name: 'messages', description: 'Queued outbound messages' },
      { name: 'methods', description: 'Synchronous Rocket.Chat method calls' },
      { name: 'hooks', description: 'Incoming webhooks: post into a room from anywhere' },
      { name: 'operations', description: 'Probes, metrics, this document' },
    ],
    paths: withExamples(paths, examples),
    webhooks: withExamples(EVENT_WEBHOOKS, examples),
    components: { ...withExamples(COMMON_COMPONENTS, examples), schemas },
  };
}
