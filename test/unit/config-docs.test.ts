/** The README's configuration table and the schema must name the same variables (fastify's errors-docs check). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../src/config/index.js';

const doc = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// Table rows only; biome pads the cells, so spaces around them vary.
const documented = [...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((match) => match[1] ?? '');

describe('the configuration table in README.md', () => {
  it('documents every variable of the schema', () => {
    expect(ENV_VARIABLES.filter((variable) => !documented.includes(variable))).toEqual([]);
  });

  it('documents no variable the schema does not read', () => {
    expect(documented.filter((variable) => !(ENV_VARIABLES as readonly string[]).includes(variable))).toEqual(
      [],
    );
  });

  it('lists each variable once, in schema order', () => {
    expect(documented).toEqual(ENV_VARIABLES);
  });
});
