/** The gateway's OpenAPI document the client's types come from, and where they are written. */
import { createOpenApiDocument } from '../../../src/openapi/index.js';

export const GENERATED_TYPES_FILE = new URL('../src/generated/openapi-types.ts', import.meta.url);

/** The document as the gateway serves it; the server URL plays no part in the types. */
export function gatewayDocument(): Readonly<Record<string, unknown>> {
  return createOpenApiDocument({ publicUrl: 'http://localhost:3000' });
}
