import { describe, expect, it } from 'vitest';
import {
  createError,
  ERROR_CODES,
  GatewayError,
  isGatewayError,
  toErrorBody,
  toGatewayError,
} from '../../src/errors.js';

describe('GatewayError', () => {
  it('takes status and default message from the registry', () => {
    const error = createError('GW_ERR_SESSION_CAPACITY');
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'GatewayError',
      code: 'GW_ERR_SESSION_CAPACITY',
      status: 503,
      message: ERROR_CODES.GW_ERR_SESSION_CAPACITY.message,
      retryAfterMs: undefined,
      details: undefined,
    });
    expect('cause' in error).toBe(false);
  });

  it('carries message, cause, retryAfterMs and details', () => {
    const cause = new Error('ECONNRESET');
    const error = createError('GW_ERR_RATE_LIMITED', 'Slow down', {
      cause,
      retryAfterMs: 3000,
      details: { scope: 'user' },
    });
    expect(error).toMatchObject({
      status: 429,
      message: 'Slow down',
      retryAfterMs: 3000,
      details: { scope: 'user' },
    });
    expect(error.cause).toBe(cause);
  });

  it('keeps the subclass name and is recognized across module copies', () => {
    class LeaseLostError extends GatewayError {}
    const error = new LeaseLostError('GW_ERR_CONFLICT');
    expect(error.name).toBe('LeaseLostError');
    expect(isGatewayError(error)).toBe(true);
    // A copy of the class from a second instance of the module has its own prototype but the
    // same registered symbol.
    const lookalike = Object.create({ [Symbol.for('rocketchat-gateway.GatewayError')]: true });
    expect(isGatewayError(lookalike)).toBe(true);
    expect(isGatewayError(new Error('x'))).toBe(false);
    expect(isGatewayError(undefined)).toBe(false);
    expect(isGatewayError({ code: 'GW_ERR_INTERNAL', status: 500 })).toBe(false);
  });

  it('defines every code with a 4xx or 5xx status and a message', () => {
    for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^GW_ERR_[A-Z_]+$/);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
      expect(message).not.toBe('');
    }
  });
});

describe('toGatewayError', () => {
  it('passes gateway errors through and wraps anything else as internal', () => {
    const ours = createError('GW_ERR_NOT_FOUND');
    expect(toGatewayError(ours)).toBe(ours);
    const thrown = new TypeError('x is undefined');
    const wrapped = toGatewayError(thrown);
    expect(wrapped).toMatchObject({ code: 'GW_ERR_INTERNAL', status: 500 });
    expect(wrapped.cause).toBe(thrown);
  });
});

describe('toErrorBody', () => {
  it('renders code and message, with retryAfterMs and details when set', () => {
    expect(toErrorBody(createError('GW_ERR_NOT_FOUND', 'No webhook wh_1'))).toEqual({
      error: 'GW_ERR_NOT_FOUND',
      message: 'No webhook wh_1',
    });
    expect(
      toErrorBody(
        createError('GW_ERR_VALIDATION', 'Bad body', { retryAfterMs: 10, details: { field: 'text' } }),
      ),
    ).toEqual({
      error: 'GW_ERR_VALIDATION',
      message: 'Bad body',
      retryAfterMs: 10,
      details: { field: 'text' },
    });
  });

  it('never leaks internals of a 500', () => {
    const body = toErrorBody(
      createError('GW_ERR_INTERNAL', 'WRONGTYPE at gw:{u:1}:events', {
        details: { stack: 'at foo' },
        cause: new Error('redis'),
      }),
    );
    expect(body).toEqual({ error: 'GW_ERR_INTERNAL', message: 'Internal error' });
    expect(toErrorBody(new Error('secret path /etc/x'))).toEqual({
      error: 'GW_ERR_INTERNAL',
      message: 'Internal error',
    });
    expect(toErrorBody('a string')).toEqual({ error: 'GW_ERR_INTERNAL', message: 'Internal error' });
    expect(JSON.stringify(toErrorBody(createError('GW_ERR_CONFIG', 'JWT_SECRET: ...')))).not.toContain(
      'JWT_SECRET',
    );
  });

  it('shows the message of upstream 5xx errors, which are ours to write', () => {
    expect(toErrorBody(createError('GW_ERR_UPSTREAM_TIMEOUT', 'No answer within 30000 ms'))).toEqual({
      error: 'GW_ERR_UPSTREAM_TIMEOUT',
      message: 'No answer within 30000 ms',
    });
  });
});
