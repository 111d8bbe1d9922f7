/**
 * The client's types are the gateway's OpenAPI document, not a copy of it: the committed
 * src/generated/openapi-types.ts must equal a fresh rendering of the document the gateway serves.
 * When src/openapi/ changes, this fails until `npm run generate --prefix packages/client`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_TYPES_FILE, gatewayDocument } from '../scripts/gateway-document.js';
import { renderTypes } from '../scripts/render-types.js';
import { OPERATIONS } from '../src/index.js';

describe('generated types', () => {
  it('equal a fresh rendering of the OpenAPI document (run `npm run generate --prefix packages/client`)', () => {
    expect(readFileSync(GENERATED_TYPES_FILE, 'utf8')).toBe(renderTypes(gatewayDocument()));
  });

  it('name every operation of the document with its method and path', () => {
    const paths = gatewayDocument()['paths'] as Record<string, Record<string, { operationId?: string }>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!operation.operationId) continue;
        expect(OPERATIONS[operation.operationId as keyof typeof OPERATIONS]).toEqual({
          method: method.toUpperCase(),
          path,
        });
      }
    }
    expect(OPERATIONS.sendMessage).toEqual({ method: 'POST', path: '/v1/messages' });
  });

  it('render the schema constructs the document uses', () => {
    const rendered = renderTypes({
      components: {
        schemas: {
          Thing: {
            type: 'object',
            description: 'A thing',
            required: ['id'],
            properties: {
              id: { type: 'string' },
              kind: { enum: ['a', 'b'] },
              tags: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'null' }] } },
              'odd-name': { type: ['string', 'number'] },
              other: { $ref: '#/components/schemas/Other' },
              free: {},
            },
            additionalProperties: false,
          },
          Other: {
            allOf: [
              { $ref: '#/components/schemas/Thing' },
              { type: 'object', additionalProperties: { type: 'integer' } },
            ],
          },
        },
      },
      paths: {},
    });
    expect(rendered).toContain('/** A thing */\nexport type Thing = {');
    expect(rendered).toContain('  id: string;');
    expect(rendered).toContain('  kind?: "a" | "b";');
    expect(rendered).toContain('  tags?: (string | null)[];');
    expect(rendered).toContain('  "odd-name"?: string | number;');
    expect(rendered).toContain('  other?: Other;');
    expect(rendered).toContain('  free?: unknown;');
    expect(rendered).toContain('export type Other = Thing & {\n  [key: string]: number;\n};');
  });

  it('render tuples (`prefixItems`, what zod makes of method params): closed, open and shorter', () => {
    const rendered = renderTypes({
      components: {
        schemas: {
          Closed: {
            type: 'array',
            prefixItems: [{ $ref: '#/components/schemas/Id' }, { type: 'boolean' }],
            items: false,
            minItems: 2,
          },
          Open: { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'integer' }, minItems: 1 },
          Shorter: {
            type: 'array',
            prefixItems: [{ type: 'string' }, { oneOf: [{ type: 'integer' }, { type: 'null' }] }],
            items: false,
            minItems: 1,
          },
          Empty: { type: 'array', prefixItems: [], items: false },
        },
      },
      paths: {},
    });
    expect(rendered).toContain('export type Closed = [Id, boolean];');
    expect(rendered).toContain('export type Open = [string, ...number[]];');
    expect(rendered).toContain('export type Shorter = [string, (number | null)?];');
    expect(rendered).toContain('export type Empty = [];');
  });
});
