/**
 * `mapUpstreamError`: Rocket.Chat's failures (DDP remote errors, dropped lines, timeouts, REST
 * errors, ephemeral refusals) as gateway errors, in the one place that maps them.
 */
import { describe, expect, it } from 'vitest';
import {
  DdpClosedError,
  DdpDisconnectedError,
  DdpFatalError,
  DdpQueueFullError,
  DdpRemoteError,
  DdpTimeoutError,
} from '../../src/ddp/index.js';
import { createError, toErrorBody } from '../../src/errors.js';
import { toHttpError } from '../../src/http/http-error.js';
import {
  isPermanentError,
  isUnknownOutcome,
  mapCredentialCheckError,
  mapEphemeralRefusal,
  mapUpstreamError,
} from '../../src/rocketchat/errors.js';
import { RocketChatRestError } from '../../src/rocketchat/rest-client.js';

function remote(error: string | number, reason?: string, details?: unknown): DdpRemoteError {
  return new DdpRemoteError(
    { error, ...(reason ? { reason } : {}), ...(details ? { details } : {}) },
    'method x',
  );
}

describe('mapUpstreamError', () => {
  it('maps Meteor.Error codes to statuses and keeps the upstream code and reason', () => {
    const cases: [string | number, string, number][] = [
      ['error-not-allowed', 'GW_ERR_FORBIDDEN', 403],
      ['not-authorized', 'GW_ERR_FORBIDDEN', 403],
      ['error-action-not-allowed', 'GW_ERR_FORBIDDEN', 403],
      [403, 'GW_ERR_FORBIDDEN', 403],
      ['error-invalid-room', 'GW_ERR_NOT_FOUND', 404],
      ['error-room-not-found', 'GW_ERR_NOT_FOUND', 404],
      [404, 'GW_ERR_NOT_FOUND', 404],
      [400, 'GW_ERR_VALIDATION', 400],
      ['error-message-size-exceeded', 'GW_ERR_VALIDATION', 400],
      ['error-invalid-name', 'GW_ERR_VALIDATION', 400],
      ['error-invalid-anything-new', 'GW_ERR_VALIDATION', 400],
      ['error-you-are-last-owner', 'GW_ERR_CONFLICT', 409],
      ['error-duplicate-channel-name', 'GW_ERR_CONFLICT', 409],
      [500, 'GW_ERR_UPSTREAM', 502],
      ['something-new', 'GW_ERR_UPSTREAM', 502],
    ];
    for (const [upstream, code, status] of cases) {
      const error = mapUpstreamError(remote(upstream, 'Because'));
      expect([error.code, error.status], String(upstream)).toEqual([code, status]);
      expect(error.details).toEqual({ upstreamError: upstream, upstreamReason: 'Because' });
    }
  });

  it('turns too-many-requests into 429 with the wait Rocket.Chat named', () => {
    const error = mapUpstreamError(
      remote('too-many-requests', 'Error, too many requests.', { timeToReset: 2710 }),
    );
    expect(error.code).toBe('GW_ERR_RATE_LIMITED');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(2710);
  });

  it('maps the line, not the request: timeouts 504, drops and closed clients 503, fatal logins 401', () => {
    expect(mapUpstreamError(new DdpTimeoutError('method x', 10)).code).toBe('GW_ERR_UPSTREAM_TIMEOUT');
    expect(mapUpstreamError(new DdpDisconnectedError('method x', true)).code).toBe(
      'GW_ERR_UPSTREAM_UNAVAILABLE',
    );
    expect(mapUpstreamError(new DdpClosedError('method x')).code).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(mapUpstreamError(new DdpQueueFullError(10)).code).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(mapUpstreamError(new DdpFatalError('no')).code).toBe('GW_ERR_CREDENTIALS_INVALID');
  });

  it('maps REST errors by Rocket.Chat code first, then by status', () => {
    expect(mapUpstreamError(new RocketChatRestError(429, undefined, 'slow', 5000))).toMatchObject({
      code: 'GW_ERR_RATE_LIMITED',
      retryAfterMs: 5000,
    });
    expect(mapUpstreamError(new RocketChatRestError(400, 'error-not-allowed', 'no')).code).toBe(
      'GW_ERR_FORBIDDEN',
    );
    expect(mapUpstreamError(new RocketChatRestError(400, undefined, 'bad')).code).toBe('GW_ERR_VALIDATION');
    expect(mapUpstreamError(new RocketChatRestError(401, undefined, 'who')).code).toBe(
      'GW_ERR_CREDENTIALS_INVALID',
    );
    expect(mapUpstreamError(new RocketChatRestError(503, undefined, 'down')).code).toBe(
      'GW_ERR_UPSTREAM_UNAVAILABLE',
    );
    expect(mapUpstreamError(new RocketChatRestError(504, undefined, 'slow')).code).toBe(
      'GW_ERR_UPSTREAM_TIMEOUT',
    );
    expect(mapUpstreamError(new RocketChatRestError(500, undefined, 'oops')).code).toBe(
      'GW_ERR_UPSTREAM_UNAVAILABLE',
    );
  });

  it('passes gateway errors through and hides anything else as internal', () => {
    const own = createError('GW_ERR_DRAINING');
    expect(mapUpstreamError(own)).toBe(own);
    expect(mapUpstreamError(new Error('boom')).code).toBe('GW_ERR_INTERNAL');
  });

  it('reads ephemeral refusals back to Rocket.Chat codes', () => {
    expect(mapEphemeralRefusal('Invalid room')).toMatchObject({
      code: 'GW_ERR_NOT_FOUND',
      details: { upstreamError: 'error-invalid-room', upstreamReason: 'Invalid room' },
    });
    expect(mapEphemeralRefusal('This room is archived').code).toBe('GW_ERR_FORBIDDEN');
    expect(mapEphemeralRefusal('Something we never saw').code).toBe('GW_ERR_UPSTREAM');
  });

  it('tells final errors from those worth retrying', () => {
    expect(isPermanentError(mapUpstreamError(remote('error-not-allowed')))).toBe(true);
    expect(isPermanentError(mapUpstreamError(remote(400)))).toBe(true);
    expect(isPermanentError(mapUpstreamError(remote('too-many-requests')))).toBe(false);
    expect(isPermanentError(mapUpstreamError(remote(500)))).toBe(false);
    expect(isPermanentError(mapUpstreamError(new DdpTimeoutError('x', 1)))).toBe(false);
  });
});

describe('toHttpError (what the HTTP error handler renders)', () => {
  const options = { bodyLimitBytes: 1024 };

  it('answers a DDP error that escaped a route with its own status, not 500', () => {
    const timeout = toHttpError(new DdpTimeoutError('ensure-topics', 15_000), options);
    expect(timeout).toMatchObject({ code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504 });
    expect(toErrorBody(timeout)).toEqual({
      error: 'GW_ERR_UPSTREAM_TIMEOUT',
      message: 'Rocket.Chat did not answer in time',
    });
    expect(toHttpError(new DdpDisconnectedError('method x', true), options)).toMatchObject({
      code: 'GW_ERR_UPSTREAM_UNAVAILABLE',
      status: 503,
    });
    expect(toHttpError(remote('error-not-allowed', 'Not allowed'), options)).toMatchObject({
      code: 'GW_ERR_FORBIDDEN',
      status: 403,
      details: { upstreamError: 'error-not-allowed', upstreamReason: 'Not allowed' },
    });
  });

  it('keeps Express errors and unknown failures apart', () => {
    const tooLarge = Object.assign(new Error('too large'), {
      status: 413,
      type: 'entity.too.large',
      limit: 10,
    });
    expect(toHttpError(tooLarge, options)).toMatchObject({ code: 'GW_ERR_PAYLOAD_TOO_LARGE', status: 413 });
    expect(toHttpError(new TypeError('x is undefined'), options)).toMatchObject({
      code: 'GW_ERR_INTERNAL',
      status: 500,
    });
  });
});

describe('mapCredentialCheckError', () => {
  it('reads any refusal of the credentials as one answer, whichever part was wrong', () => {
    for (const status of [400, 401, 403]) {
      expect(mapCredentialCheckError(new RocketChatRestError(status, undefined, 'no'))).toMatchObject({
        code: 'GW_ERR_UNAUTHENTICATED',
        message: 'Rocket.Chat did not accept these credentials',
      });
    }
  });

  it.each([
    [503, 'GW_ERR_UPSTREAM_UNAVAILABLE'],
    [504, 'GW_ERR_UPSTREAM_TIMEOUT'],
    [500, 'GW_ERR_UPSTREAM'],
  ])('maps a REST %i like any upstream failure: %s', (status, code) => {
    expect(mapCredentialCheckError(new RocketChatRestError(status, undefined, 'x')).code).toBe(code);
  });

  it('keeps the wait Rocket.Chat asks for, and maps what is not a REST error as usual', () => {
    expect(mapCredentialCheckError(new RocketChatRestError(429, undefined, 'slow', 4000))).toMatchObject({
      code: 'GW_ERR_RATE_LIMITED',
      retryAfterMs: 4000,
    });
    const own = createError('GW_ERR_RATE_LIMITED');
    expect(mapCredentialCheckError(own)).toBe(own);
    expect(mapCredentialCheckError(new DdpTimeoutError('login', 1)).code).toBe('GW_ERR_UPSTREAM_TIMEOUT');
  });
});

describe('isUnknownOutcome', () => {
  it('is true only where the call may have run', () => {
    expect(isUnknownOutcome(new DdpDisconnectedError('method x', true))).toBe(true);
    expect(isUnknownOutcome(new DdpDisconnectedError('method x', false))).toBe(false);
    expect(isUnknownOutcome(new DdpTimeoutError('method x', 1))).toBe(true);
    expect(isUnknownOutcome(createError('GW_ERR_FORWARD_TIMEOUT'))).toBe(true);
    expect(isUnknownOutcome(createError('GW_ERR_UPSTREAM_TIMEOUT'))).toBe(true);
    expect(isUnknownOutcome(createError('GW_ERR_UPSTREAM_UNAVAILABLE'))).toBe(false);
    expect(isUnknownOutcome(remote('error-not-allowed'))).toBe(false);
  });
});
