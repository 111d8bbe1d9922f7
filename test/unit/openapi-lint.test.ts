/**
 * `/openapi.json` through Redocly's linter (`@redocly/cli lint`, its recommended rules: license,
 * servers, a 4xx on every operation, examples valid against their schemas...), with PUBLIC_URL
 * unset and set: not one problem. And every request and response body shows an example.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOpenApiDocument, type OpenApiDocument } from '../../src/openapi/index.js';

type Json = Record<string, unknown>;

const CLI = join(
  dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin',
  'cli.js',
);
const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LintReport {
  readonly totals: { errors: number; warnings: number };
  readonly problems: readonly { ruleId: string; message: string; location?: { pointer?: string }[] }[];
}

let lintCount = 0;
function redoclyLint(doc: OpenApiDocument): LintReport {
  const file = join(dir, `openapi-${++lintCount}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const result = spawnSync(process.execPath, [CLI, 'lint', file, '--format=json'], {
    encoding: 'utf8',
    // Offline: no telemetry, no update check.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    timeout: 60_000,
  });
  expect(result.error, 'redocly did not run').toBeUndefined();
  return JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as LintReport;
}

const summary = (report: LintReport): string[] =>
  report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer ?? '?'}`);

describe('redocly lint /openapi.json', () => {
  it.each([
    ['PUBLIC_URL unset (the localhost default)', 'http://localhost:3000'],
    ['PUBLIC_URL set', 'https://gateway.example.org'],
  ])('finds nothing with %s', (_, publicUrl) => {
    const report = redoclyLint(createOpenApiDocument({ publicUrl }));
    expect(summary(report)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('serves a relative server, not localhost, while PUBLIC_URL is unset', () => {
    expect(createOpenApiDocument({ publicUrl: 'http://localhost:3000' })['servers']).toEqual([
      { url: '/', description: expect.any(String) },
    ]);
    expect(createOpenApiDocument({ publicUrl: 'https://gateway.example.org/chat' })['servers']).toEqual([
      { url: 'https://gateway.example.org/chat' },
    ]);
  });

  it('checks the examples against their schemas (the lint is not a formality)', () => {
    const doc = structuredClone(createOpenApiDocument({ publicUrl: 'https://gateway.example.org' })) as Json;
    const post = (doc['paths'] as Json)['/v1/messages'] as Json;
    const media = (((post['post'] as Json)['requestBody'] as Json)['content'] as Json)[
      'application/json'
    ] as Json;
    media['example'] = { roomId: 'GENERAL', text: 42 };
    expect(summary(redoclyLint(doc)).join('\n')).toContain('no-invalid-media-type-examples');
  });
});

describe('examples', () => {
  it('every request and response body of every operation, webhook and shared response has one', () => {
    const doc = createOpenApiDocument({ publicUrl: 'https://gateway.example.org' }) as Json;
    const components = doc['components'] as Json;
    const resolve = (node: Json): Json => {
      const target = node['$ref'];
      if (typeof target !== 'string') return node;
      const [, , kind, name] = target.split('/');
      return (components[kind as string] as Json)[name as string] as Json;
    };
    const missing: string[] = [];
    let bodies = 0;
    const checkContent = (where: string, holder: Json | undefined): void => {
      const content = holder ? (resolve(holder)['content'] as Json | undefined) : undefined;
      for (const [type, media] of Object.entries(content ?? {})) {
        bodies += 1;
        const m = media as Json;
        if (m['example'] === undefined && m['examples'] === undefined) missing.push(`${where} ${type}`);
      }
    };
    const operations = [
      ...Object.entries(doc['paths'] as Json),
      ...Object.entries(doc['webhooks'] as Json).map(([name, item]) => [`webhook ${name}`, item] as const),
    ];
    for (const [path, item] of operations) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (method === 'parameters') continue;
        const op = operation as Json;
        checkContent(`${method} ${path} request`, op['requestBody'] as Json | undefined);
        for (const [status, response] of Object.entries((op['responses'] ?? {}) as Json))
          checkContent(`${method} ${path} ${status}`, response as Json);
      }
    }
    expect(missing).toEqual([]);
    expect(bodies).toBeGreaterThan(100);
  });
});
