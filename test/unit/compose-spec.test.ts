/**
 * deploy/docker-compose.yml as `docker compose config` reads it, without a Docker engine: YAML
 * merge keys resolved, `${...}` interpolated from the environment Compose would see (none, on a
 * fresh clone without deploy/.env; or deploy/.env.example's values), then validated against the
 * Compose Specification's JSON schema (as the npm package `dclint` ships it).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const composeText = readFileSync(join(ROOT, 'deploy', 'docker-compose.yml'), 'utf8');

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`. */
function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (match, dollar: string, braced?: string, op?: string, arg = '', bare?: string) => {
      if (dollar === '$') return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const unsetOrEmpty = value === undefined || (op?.startsWith(':') === true && value === '');
      switch (op) {
        case ':-':
        case '-':
          return unsetOrEmpty ? interpolate(arg, env) : (value as string);
        case ':?':
        case '?':
          if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg}`);
          return value as string;
        case ':+':
        case '+':
          return unsetOrEmpty ? '' : interpolate(arg, env);
        default:
          void match;
          return value ?? '';
      }
    },
  );
}

function interpolateTree(node: unknown, env: Readonly<Record<string, string>>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((item) => interpolateTree(item, env));
  if (node !== null && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)]));
  return node;
}

/** What `docker compose -f deploy/docker-compose.yml config` validates, given `env`. */
function composeConfig(env: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw = parse(composeText, { merge: true }) as unknown;
  return interpolateTree(raw, env) as Record<string, unknown>;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
// The Compose Specification's schema as the npm package `dclint` (a Compose linter) ships it.
const schemaPath = join(dirname(createRequire(import.meta.url).resolve('dclint/package.json')), 'schemas');
// Its `$schema` is draft-07 under an https URL that Ajv does not register (it knows the http one).
const { $schema: _draft07, ...schema } = JSON.parse(
  readFileSync(join(schemaPath, 'compose.schema.json'), 'utf8'),
) as Record<string, unknown>;
const validate = ajv.compile(schema);

function envExample(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'deploy', '.env.example'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^#?\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) env[match[1]] = match[2] ?? '';
  }
  return env;
}

describe('deploy/docker-compose.yml against the Compose Specification', () => {
  // biome-ignore-start lint/suspicious/noTemplateCurlyInString: Compose's syntax, not a JS template
  it('interpolates like Compose', () => {
    const env = { A: 'a', EMPTY: '' };
    expect(interpolate('${A} $A $$A ${B:-x} ${EMPTY:-d} ${EMPTY-d} ${A:+y}', env)).toBe('a a $A x d  y');
    expect(() => interpolate('${B:?set B}', env)).toThrow(/B is missing a value: set B/);
    expect(() => interpolate('${EMPTY:?set it}', env)).toThrow(/EMPTY/);
  });
  // biome-ignore-end lint/suspicious/noTemplateCurlyInString: Compose's syntax, not a JS template

  it('is valid as is, on a fresh clone without deploy/.env', () => {
    const config = composeConfig({});
    expect(validate(config), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('is valid with the settings of deploy/.env.example filled in', () => {
    const env = { ...envExample(), JWT_SECRET: 'x'.repeat(64), GATEWAY_ENCRYPTION_KEY: 'k' };
    const config = composeConfig(env);
    expect(validate(config), ajv.errorsText(validate.errors)).toBe(true);
    const services = config['services'] as Record<string, Record<string, Record<string, string>>>;
    expect(services['gateway-api']?.['environment']?.['JWT_SECRET']).toBe('x'.repeat(64));
  });

  it('refuses what Compose refuses: the schema is not a formality', () => {
    const config = composeConfig({});
    const services = config['services'] as Record<string, Record<string, unknown>>;
    const broken = {
      ...config,
      services: { ...services, redis: { ...services['redis'], restart: 7, portz: [] } },
    };
    expect(validate(broken)).toBe(false);
  });

  it('pins Rocket.Chat and MongoDB to released versions, not latest', () => {
    const services = composeConfig({})['services'] as Record<string, Record<string, unknown>>;
    expect(services['rocketchat']?.['image']).toMatch(/^rocketchat\/rocket\.chat:\d+\.\d+\.\d+$/);
    expect(services['mongodb']?.['image']).toMatch(/:\d+\.\d+-ubi8$/);
    for (const service of Object.values(services))
      if (typeof service['image'] === 'string') expect(service['image']).not.toMatch(/:latest$|^[^:]+$/);
  });
});
