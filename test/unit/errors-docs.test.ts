/** docs/errors.md and the registry must list the same codes with the same statuses (fastify). */
import { readFileSync } from 'node:fs';
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
