/**
 * The HTTP contract: the OpenAPI document (document.ts, one part per feature) and the route that
 * serves it.
 */
export { createOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from './document.js';
export { createOpenApiRouter, type OpenApiRouterOptions } from './openapi-router.js';
export { methodParamsName, REQUEST_SCHEMAS } from './request-schemas.js';
