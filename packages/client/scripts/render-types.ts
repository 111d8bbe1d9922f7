/**
 * Renders the client's types from the gateway's OpenAPI document: one `export type` per schema of
 * `components.schemas`, and `OPERATIONS` (operation id -> method and path). The document is the
 * contract (src/openapi/); the client never restates it by hand, and
 * test/generated-types.test.ts fails when the committed file differs from a fresh rendering.
 *
 * Only the JSON Schema the document uses is understood: `$ref`, `allOf`, `oneOf`/`anyOf`, `enum`,
 * `const`, `type` (one or a list), `properties`/`required`, `additionalProperties`, `items`,
 * `prefixItems` (tuples).
 * Anything else renders as `unknown`, so a new construct can loosen a type but never make it lie.
 */

type Schema = Readonly<Record<string, unknown>>;

const HTTP_METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function renderTypes(document: Schema): string {
  const components = (document['components'] ?? {}) as Schema;
  const schemas = (components['schemas'] ?? {}) as Record<string, Schema>;
  const out: string[] = [
    '/**',
    " * Generated from the gateway's OpenAPI document by packages/client/scripts/generate-types.ts.",
    ' * Do not edit: run `npm run generate --prefix packages/client` after changing src/openapi/.',
    ' */',
    '',
  ];
  for (const [name, schema] of Object.entries(schemas)) {
    out.push(...docComment(schema, ''));
    out.push(`export type ${name} = ${renderSchema(schema, '')};`, '');
  }
  out.push(...renderOperations(document));
  return `${out.join('\n')}\n`;
}

function renderOperations(document: Schema): string[] {
  const paths = (document['paths'] ?? {}) as Record<string, Schema>;
  const lines = [
    '/** Every operation of the document: its id, HTTP method and path template. */',
    'export const OPERATIONS = {',
  ];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Schema | undefined;
      const id = operation?.['operationId'];
      if (typeof id !== 'string') continue;
      lines.push(`  ${id}: { method: '${method.toUpperCase()}', path: ${JSON.stringify(path)} },`);
    }
  }
  lines.push('} as const;', '', 'export type OperationId = keyof typeof OPERATIONS;');
  return lines;
}

function renderSchema(schema: Schema, indent: string): string {
  const ref = schema['$ref'];
  if (typeof ref === 'string') return ref.replace(/^#\/components\/schemas\//, '');
  if ('const' in schema) return JSON.stringify(schema['const']);
  if (Array.isArray(schema['enum'])) return schema['enum'].map((value) => JSON.stringify(value)).join(' | ');
  const allOf = schema['allOf'];
  if (Array.isArray(allOf))
    return allOf.map((part) => wrap(renderSchema(part as Schema, indent))).join(' & ');
  const oneOf = schema['oneOf'] ?? schema['anyOf'];
  if (Array.isArray(oneOf))
    return oneOf.map((part) => wrap(renderSchema(part as Schema, indent))).join(' | ');
  const type = schema['type'];
  if (Array.isArray(type)) return type.map((one) => renderType(String(one), schema, indent)).join(' | ');
  if (typeof type === 'string') return renderType(type, schema, indent);
  return 'unknown';
}

function renderType(type: string, schema: Schema, indent: string): string {
  switch (type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const items = schema['items'];
      const prefixItems = schema['prefixItems'];
      if (Array.isArray(prefixItems)) return renderTuple(schema, indent);
      return `${wrap(items === undefined ? 'unknown' : renderSchema(items as Schema, indent))}[]`;
    }
    case 'object':
      return renderObject(schema, indent);
    default:
      return 'unknown';
  }
}

function renderObject(schema: Schema, indent: string): string {
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  const additional = schema['additionalProperties'];
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    lines.push(...docComment(property, inner));
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    lines.push(`${inner}${key}${required.has(name) ? '' : '?'}: ${renderSchema(property, inner)};`);
  }
  if (additional !== undefined && additional !== false) {
    const value = additional === true ? 'unknown' : renderSchema(additional as Schema, inner);
    lines.push(`${inner}[key: string]: ${value};`);
  }
  if (lines.length === 0) return 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/**
 * A tuple (`prefixItems`): closed when `items` is `false`, with a rest element otherwise. Items
 * at or past `minItems` are optional, as JSON Schema accepts a shorter array.
 */
function renderTuple(schema: Schema, indent: string): string {
  const prefixItems = schema['prefixItems'] as readonly Schema[];
  const items = schema['items'];
  const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
  const rendered = prefixItems.map((item, index) => {
    const type = renderSchema(item, indent);
    return index < minItems ? type : `${wrap(type)}?`;
  });
  if (items !== false) {
    const rest = items === undefined || items === true ? 'unknown' : renderSchema(items as Schema, indent);
    rendered.push(`...${wrap(rest)}[]`);
  }
  return `[${rendered.join(', ')}]`;
}

/** Parentheses where a union or intersection sits inside another construct. */
function wrap(rendered: string): string {
  let depth = 0;
  for (const char of rendered) {
    if (char === '{' || char === '(' || char === '[') depth++;
    else if (char === '}' || char === ')' || char === ']') depth--;
    else if (depth === 0 && (char === '|' || char === '&')) return `(${rendered})`;
  }
  return rendered;
}

function docComment(schema: Schema, indent: string): string[] {
  const description = schema['description'];
  if (typeof description !== 'string' || description === '') return [];
  const text = description.replace(/\*\//g, '*\\/');
  return [`${indent}/** ${text} */`];
}
