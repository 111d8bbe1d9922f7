/**
 * One shape for every validation error: `details.fields`, a list of `{ field, message }`, whether
 * the input was checked by a route (`parseInput`) or by a feature's own schemas (webhooks).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isGatewayError } from '../../src/errors.js';
import { parseInput } from '../../src/http/validation.js';
import { parseCreateBody, parseReplayBody } from '../../src/webhooks/webhook-schemas.js';

/** What `fn` threw; a function that returns fails the test. */
function thrownBy(fn: () => unknown): unknown {
  let thrown: unknown = new Error('expected a throw');
  expect(() => {
    try {
      fn();
    } catch (err) {
      thrown = err;
      throw err;
    }
  }).toThrow();
  return thrown;
}

describe('validation errors', () => {
  it('name each bad field by its path in details.fields, the first one also in the message', () => {
    const schema = z.object({ name: z.string(), tags: z.array(z.string()) });
    const error = thrownBy(() => parseInput(schema, { name: 1, tags: ['a', 2] }));
    expect(isGatewayError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'GW_ERR_VALIDATION',
      status: 400,
      details: {
        fields: [
          { field: 'name', message: expect.any(String) },
          { field: 'tags.1', message: expect.any(String) },
        ],
      },
    });
    expect((error as Error).message).toMatch(/^name: /);
  });

  it('have the same shape when a webhook body is refused', () => {
    const error = thrownBy(() => parseCreateBody({ url: '', topics: ['user'] }));
    expect(error).toMatchObject({
      code: 'GW_ERR_VALIDATION',
      details: { fields: [{ field: 'url', message: expect.any(String) }] },
    });
    expect(Object.keys((error as { details: object }).details)).toEqual(['fields']);
    const whole = thrownBy(() => parseReplayBody('not an object'));
    expect(whole).toMatchObject({ details: { fields: [{ field: '(body)' }] } });
  });

  it('list at most ten problems, however many a hostile body has', () => {
    const schema = z.object(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, z.string()])));
    const error = thrownBy(() => parseInput(schema, {}));
    expect((error as { details: { fields: unknown[] } }).details.fields).toHaveLength(10);
  });
});
