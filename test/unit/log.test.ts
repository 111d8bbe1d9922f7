import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createLogger, redactUrl } from '../../src/log/index.js';

/** A real stream collecting what pino writes (pino's own `sink()` helper in test/helper.js). */
function sink(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = (): string => chunks.join('');
  const lines = (): Record<string, unknown>[] =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines, text };
}

const SECRETS = {
  bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.secret-jwt',
  authToken: 'rc-auth-token-4f1b',
  cookie: 'rc_token=cookie-token-77',
  password: 'hunter2-password',
  resume: 'resume-token-9c2e',
  secret: 'whsec_webhook-secret',
  queryToken: 'query-access-token-55',
  hookToken: 'hook-token-a8b1',
};

describe('createLogger', () => {
  it('never writes a secret, wherever it sits', () => {
    const { stream, text, lines } = sink();
    const logger = createLogger({ level: 'trace', destination: stream });

    logger.info(
      {
        req: {
          method: 'GET',
          url: `/v1/events?topics=rooms&access_token=${SECRETS.queryToken}`,
          headers: {
            authorization: SECRETS.bearer,
            'x-auth-token': SECRETS.authToken,
            'x-user-id': 'user-1',
            cookie: SECRETS.cookie,
          },
          query: { topics: 'rooms', access_token: SECRETS.queryToken },
        },
      },
      'request',
    );
    logger.info({ url: `https://gw.example.com/hooks/h1/${SECRETS.hookToken}?x=1` }, 'hook');
    logger.info({ password: SECRETS.password, user: { password: SECRETS.password } }, 'login');
    logger.debug(
      { frame: { msg: 'method', method: 'login', params: [{ resume: SECRETS.resume }] } },
      'ddp out',
    );
    logger.debug({ frame: { msg: 'result', result: { token: SECRETS.resume, id: 'u1' } } }, 'ddp in');
    logger.info({ webhook: { id: 'wh1', secret: SECRETS.secret } }, 'webhook created');
    logger.info(
      { request: { headers: { 'X-Auth-Token': SECRETS.authToken, 'X-User-Id': 'u1' } } },
      'rest call',
    );
    logger.child({ authToken: SECRETS.authToken, userId: 'u1' }).warn('child');

    const output = text();
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(output, `${name} leaked`).not.toContain(secret);
    }
    const [request, hook] = lines();
    expect(request?.['req']).toMatchObject({
      url: '/v1/events?topics=rooms&access_token=[REDACTED]',
      headers: { authorization: '[REDACTED]', 'x-user-id': 'user-1', cookie: '[REDACTED]' },
      query: { topics: 'rooms', access_token: '[REDACTED]' },
    });
    expect(hook?.['url']).toBe('https://gw.example.com/hooks/h1/[REDACTED]?x=1');
    expect(output).toContain('"userId":"u1"');
    expect(output).toContain('"id":"u1"');
  });

  it('redacts the URL of a Node request through the request serializer', () => {
    const { stream, lines } = sink();
    const logger = createLogger({ destination: stream });
    const req = {
      method: 'POST',
      url: `/hooks/h1/${SECRETS.hookToken}`,
      originalUrl: `/hooks/h1/${SECRETS.hookToken}?access_token=${SECRETS.queryToken}`,
      headers: { 'content-type': 'application/json' },
      socket: { remoteAddress: '10.0.0.1', remotePort: 5555 },
    };
    logger.info({ req }, 'incoming');
    expect(lines()[0]?.['req']).toMatchObject({
      method: 'POST',
      url: '/hooks/h1/[REDACTED]?access_token=[REDACTED]',
      remoteAddress: '10.0.0.1',
    });
  });

  it('honours the level, names levels, takes time from the clock and adds base fields', () => {
    const { stream, lines } = sink();
    const clock = createManualClock(1_700_000_000_000);
    const logger = createLogger({ level: 'warn', destination: stream, clock, base: { role: 'worker' } });
    logger.info('dropped');
    logger.warn({ err: new Error('boom', { cause: new Error('root') }) }, 'kept');
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'warn',
      time: 1_700_000_000_000,
      role: 'worker',
      pid: process.pid,
      msg: 'kept',
    });
    expect(line?.['err']).toMatchObject({ message: expect.stringContaining('boom') });
  });
});

describe('redactUrl', () => {
  it.each([
    ['/v1/events?access_token=abc', '/v1/events?access_token=[REDACTED]'],
    ['/v1/events?topics=a&access_token=abc&x=1', '/v1/events?topics=a&access_token=[REDACTED]&x=1'],
    ['/v1/events?ACCESS_TOKEN=abc', '/v1/events?ACCESS_TOKEN=[REDACTED]'],
    ['/v1/events?access%5Ftoken=abc', '/v1/events?access%5Ftoken=[REDACTED]'],
    ['/file?rc_token=abc#frag', '/file?rc_token=[REDACTED]#frag'],
    ['/hooks/h1/tok', '/hooks/h1/[REDACTED]'],
    ['/hooks/h1/tok/slack?x=1', '/hooks/h1/[REDACTED]/slack?x=1'],
    ['/v1/hooks/h1', '/v1/hooks/h1'],
    ['/v1/events?topics=rooms', '/v1/events?topics=rooms'],
    ['/v1/events?access_token', '/v1/events?access_token'],
    ['/v1/events?%E0%A4%A=1', '/v1/events?%E0%A4%A=1'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
