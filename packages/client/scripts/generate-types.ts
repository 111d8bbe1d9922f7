/**
 * Writes src/generated/openapi-types.ts from the gateway's OpenAPI document (render-types.ts).
 * Run after changing src/openapi/: `npm run generate --prefix packages/client`;
 * test/generated-types.test.ts fails until then.
 */
import { writeFileSync } from 'node:fs';
import { GENERATED_TYPES_FILE, gatewayDocument } from './gateway-document.js';
import { renderTypes } from './render-types.js';

writeFileSync(GENERATED_TYPES_FILE, renderTypes(gatewayDocument()));
console.log(`wrote ${GENERATED_TYPES_FILE.pathname}`);
