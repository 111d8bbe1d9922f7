/** The API's description, served by every role: `/openapi.json` and the event-type catalogue. */
import type { GatewayCore } from '../gateway-core.js';
import { createEventTypesRouter } from '../http/routes/event-types.js';
import { createOpenApiRouter } from '../openapi/index.js';
import { type Feature, routersOnly } from './feature.js';

export function createDocsFeature(core: GatewayCore): Feature {
  return routersOnly('docs', [
    { path: '/', router: createOpenApiRouter({ publicUrl: core.config.http.publicUrl }) },
    { path: '/', router: createEventTypesRouter() },
  ]);
}
