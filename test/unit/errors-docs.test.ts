/**
 * docs/errors.md and the registry must list the same codes with the same statuses (fastify),
 * and every code must be raised somewhere: a documented code nothing creates is a promise the
 * gateway does not keep (GW_ERR_FORWARD_TIMEOUT was one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RETIRED_ERROR_CODES } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\|\s*`(GW_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((match) => ({
  code: match[1] as string,
  status: Number(match[2]),
}));
const codes = Object.keys(ERROR_CODES);

describe('docs/errors.md', () => {
  it('documents every code', () => {
    expect(codes.filter((code) => !rows.some((row) => row.code === code))).toEqual([]);
  });

  it('documents no code that is gone', () => {
    expect(rows.filter((row) => !codes.includes(row.code)).map((row) => row.code)).toEqual([]);
  });

  it('gives each code the status it renders with', () => {
    const statuses = Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]),
    );
    expect(Object.fromEntries(rows.map((row) => [row.code, row.status]))).toEqual(statuses);
    expect(rows).toHaveLength(codes.length);
  });

  it('never reuses a retired code', () => {
    expect(RETIRED_ERROR_CODES.filter((code) => codes.includes(code))).toEqual([]);
  });
});

/** Every `.ts` file under `src/`, as text. */
function sourceFiles(dir = new URL('../../src', import.meta.url).pathname): { path: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [{ path, text: readFileSync(path, 'utf8') }] : [];
  });
}

/**
 * Where a code is produced: the quoted code anywhere but in the registry's own table and in a
 * comparison (`=== 'GW_ERR_X'`, `case 'GW_ERR_X':`), which only reads a code someone else made.
 */
function producers(code: string, files: readonly { path: string; text: string }[]): string[] {
  const literal = new RegExp(`(===|!==|case)?\\s*'${code}'`, 'g');
  return files
    .filter(({ text }) => [...text.matchAll(literal)].some((match) => match[1] === undefined))
    .map(({ path }) => path);
}

describe('the registry', () => {
  const files = sourceFiles();

  it('has a producer in src/ for every code', () => {
    expect(codes.filter((code) => producers(code, files).length === 0)).toEqual([]);
  });

  it('would notice a code that is only compared against', () => {
    const reader = [{ path: 'x.ts', text: "if (error.code === 'GW_ERR_X') retry();\ncase 'GW_ERR_X':" }];
    expect(producers('GW_ERR_X', reader)).toEqual([]);
    const maker = [{ path: 'y.ts', text: "throw createError('GW_ERR_X', 'no');" }];
    expect(producers('GW_ERR_X', maker)).toEqual(['y.ts']);
  });
});
