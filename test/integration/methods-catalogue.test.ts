/**
 * `POST /v1/methods/<name>` end to end against the simulator: every method of the catalogue
 * works over the user's pooled session; anything off the list is 404; params are validated
 * before anything goes upstream; Rocket.Chat's errors come back as 403/404/400/409/429/503/504
 * with its own code in `details.upstreamError`.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Simulator } from '../../sim/index.js';
import { METHOD_CATALOGUE } from '../../src/rocketchat/method-catalogue.js';
import { type OutboundHarness, startOutboundHarness } from '../helpers/outbound-harness.js';
import { startTestSimulator } from '../helpers/sim-flavor.js';
import { waitFor } from '../helpers/wait-for.js';

let sim: Simulator;
let h: OutboundHarness;
let bobId: string;
let opsId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ rateLimits: false });
  h = await startOutboundHarness({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    users: ['alice', 'carol'],
    worker: false,
    methodsCallTimeoutMs: 1500,
    extraPrincipals: { ghost: 'GhostUser23456789' },
  });
  bobId = sim.control.userId('bob');
  const rooms = (await call('rooms/get', [])).body.result as { _id: string; name?: string }[];
  opsId = rooms.find((r) => r.name === 'ops')!._id;
});

afterAll(async () => {
  await h?.close();
  await sim?.close();
});

function call(name: string, params?: unknown[], user = 'alice'): request.Test {
  const req = request(h.app).post(`/v1/methods/${name}`).set('x-test-user', user);
  return params === undefined ? req : req.send({ params });
}

async function ok(name: string, params: unknown[] = []): Promise<unknown> {
  const res = await call(name, params);
  expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(200);
  expect(Object.keys(res.body)).toEqual(['result']);
  return res.body.result;
}

const HOUR_AGO = () => ({ $date: Date.now() - 3_600_000 });

describe('every catalogued method works end to end', () => {
  it('covers the whole catalogue', async () => {
    const posted = sim.control.postMessage('bob', 'GENERAL', 'for getSingleMessage');
    const rooms = (await ok('rooms/get')) as { _id: string; name?: string }[];
    const bobsChannel = sim.control.createRoom({ t: 'c', name: 'bobs-channel', members: ['bob'] });

    const cases: Record<string, () => Promise<void>> = {
      'rooms/get': async () => {
        expect(rooms.map((r) => r._id)).toContain('GENERAL');
        const since = (await ok('rooms/get', [HOUR_AGO()])) as { update: unknown[]; remove: unknown[] };
        expect(Array.isArray(since.update)).toBe(true);
      },
      getRoomById: async () => expect(await ok('getRoomById', ['GENERAL'])).toMatchObject({ _id: 'GENERAL' }),
      getRoomNameById: async () => expect(await ok('getRoomNameById', ['GENERAL'])).toBe('general'),
      getRoomByTypeAndName: async () =>
        expect(await ok('getRoomByTypeAndName', ['c', 'general'])).toMatchObject({ _id: 'GENERAL' }),
      readMessages: async () => expect(await ok('readMessages', ['GENERAL'])).toBeNull(),
      loadHistory: async () => {
        const history = (await ok('loadHistory', ['GENERAL', null, 5, null])) as {
          messages: { _id: string }[];
        };
        expect(history.messages.map((m) => m._id)).toContain(posted._id);
      },
      loadMissedMessages: async () => {
        const missed = (await ok('loadMissedMessages', ['GENERAL', HOUR_AGO()])) as { _id: string }[];
        expect(missed.map((m) => m._id)).toContain(posted._id);
      },
      'messages/get': async () => {
        const changes = (await ok('messages/get', ['GENERAL', { lastUpdate: HOUR_AGO() }])) as {
          updated: unknown[];
        };
        expect(changes.updated.length).toBeGreaterThan(0);
      },
      getSingleMessage: async () =>
        expect(await ok('getSingleMessage', [posted._id])).toMatchObject({
          _id: posted._id,
          msg: posted.msg,
        }),
      'subscriptions/get': async () => {
        const subs = (await ok('subscriptions/get')) as { rid: string }[];
        expect(subs.map((s) => s.rid)).toContain('GENERAL');
      },
      getRoomRoles: async () => {
        const roles = (await ok('getRoomRoles', [opsId])) as { u: { username: string }; roles: string[] }[];
        expect(roles.find((r) => r.u.username === 'alice')?.roles).toContain('owner');
      },
      addRoomModerator: async () => expect(await ok('addRoomModerator', [opsId, bobId])).toBe(true),
      removeRoomModerator: async () => expect(await ok('removeRoomModerator', [opsId, bobId])).toBe(true),
      addRoomLeader: async () => expect(await ok('addRoomLeader', [opsId, bobId])).toBe(true),
      removeRoomLeader: async () => expect(await ok('removeRoomLeader', [opsId, bobId])).toBe(true),
      addRoomOwner: async () => expect(await ok('addRoomOwner', [opsId, bobId])).toBe(true),
      removeRoomOwner: async () => expect(await ok('removeRoomOwner', [opsId, bobId])).toBe(true),
      createChannel: async () =>
        expect(await ok('createChannel', ['made-by-method', ['bob']])).toMatchObject({
          rid: expect.any(String),
        }),
      createPrivateGroup: async () =>
        expect(await ok('createPrivateGroup', ['secret-by-method', ['bob'], false])).toMatchObject({
          rid: expect.any(String),
        }),
      createDirectMessage: async () =>
        expect(await ok('createDirectMessage', ['carol'])).toMatchObject({ t: 'd', rid: expect.any(String) }),
      joinRoom: async () => expect(await ok('joinRoom', [bobsChannel._id])).toBe(true),
      leaveRoom: async () => expect(await ok('leaveRoom', [bobsChannel._id])).toBeNull(),
      archiveRoom: async () => {
        expect(await ok('archiveRoom', [opsId])).toBeNull();
        expect(((await ok('getRoomById', [opsId])) as { archived?: boolean }).archived).toBe(true);
      },
      unarchiveRoom: async () => {
        expect(await ok('unarchiveRoom', [opsId])).toBeNull();
        expect(((await ok('getRoomById', [opsId])) as { archived?: boolean }).archived).toBeFalsy();
      },
      toggleFavorite: async () => {
        await ok('toggleFavorite', ['GENERAL', true]);
        const subs = (await ok('subscriptions/get')) as { rid: string; f?: boolean }[];
        expect(subs.find((s) => s.rid === 'GENERAL')?.f).toBe(true);
      },
      hideRoom: async () => {
        await ok('hideRoom', ['GENERAL']);
        const subs = (await ok('subscriptions/get')) as { rid: string; open?: boolean }[];
        expect(subs.find((s) => s.rid === 'GENERAL')?.open).toBe(false);
      },
      openRoom: async () => {
        await ok('openRoom', ['GENERAL']);
        const subs = (await ok('subscriptions/get')) as { rid: string; open?: boolean }[];
        expect(subs.find((s) => s.rid === 'GENERAL')?.open).toBe(true);
      },
      saveRoomSettings: async () =>
        expect(await ok('saveRoomSettings', [opsId, 'roomTopic', 'set through the gateway'])).toEqual({
          result: true,
          rid: opsId,
        }),
      'stream-notify-room': async () => {
        expect(await ok('stream-notify-room', ['GENERAL/typing', 'alice', true])).toBeNull();
        expect(await ok('stream-notify-room', ['GENERAL/user-activity', 'alice', []])).toBeNull();
      },
      'UserPresence:setDefaultStatus': async () => {
        expect(await ok('UserPresence:setDefaultStatus', ['busy'])).toBe(true);
        expect(sim.control.user('alice').status).toBe('busy');
      },
      'UserPresence:away': async () => expect(await ok('UserPresence:away')).toBeNull(),
      'UserPresence:online': async () => expect(await ok('UserPresence:online')).toBeNull(),
    };

    expect(Object.keys(cases).sort()).toEqual([...METHOD_CATALOGUE.keys()].sort());
    for (const run of Object.values(cases)) await run();
  });

  it('accepts a call without a body as no params, and ISO dates as well as EJSON ones', async () => {
    const res = await request(h.app).post('/v1/methods/subscriptions/get').set('x-test-user', 'alice');
    expect(res.status).toBe(200);
    const since = (await ok('subscriptions/get', [new Date(Date.now() - 3_600_000).toISOString()])) as {
      update: unknown[];
    };
    expect(Array.isArray(since.update)).toBe(true);
  });
});

describe('falsy results', () => {
  // The ddp-streamer sends no `result` key for false, 0, "" or null; Meteor sends them. Either
  // way the caller gets one answer per method (src/rocketchat/method-catalogue.ts `falsyResult`).
  it('answers the same whichever DDP server omitted them: false where the method says so, else null', async () => {
    const hidden = sim.control.createRoom({ t: 'p', name: 'not-for-alice', members: ['bob'] });
    const refused = await call('loadHistory', [hidden._id]);
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ result: false });
    const missed = await call('loadMissedMessages', [hidden._id, HOUR_AGO()]);
    expect(missed.body).toEqual({ result: false });
    const voided = await call('readMessages', ['GENERAL']);
    expect(voided.body).toEqual({ result: null });
  });
});

describe('what is not callable', () => {
  it('answers 404 GW_ERR_METHOD_NOT_ALLOWED for anything off the list, login and logout included', async () => {
    for (const name of [
      'login',
      'logout',
      'sendMessage',
      'deleteMessage',
      'stream-notify-user',
      'gw:forward',
      'nope',
    ]) {
      const res = await call(name, []);
      expect(res.status, name).toBe(404);
      expect(res.body.error).toBe('GW_ERR_METHOD_NOT_ALLOWED');
    }
    const percentEncoded = await call('UserPresence%3AsetDefaultStatus', ['online']);
    expect(percentEncoded.status).toBe(200);
  });

  it('validates params before anything is sent upstream', async () => {
    sim.control.clearFrames();
    const bad: [string, unknown[]][] = [
      ['getRoomById', [123]],
      ['getRoomById', ['GENERAL', 'extra']],
      ['toggleFavorite', ['GENERAL']],
      ['UserPresence:setDefaultStatus', ['sleeping']],
      ['loadHistory', ['GENERAL', 'yesterday']],
      ['stream-notify-room', ['GENERAL/deleteMessage', 'alice', true]],
    ];
    for (const [name, params] of bad) {
      const res = await call(name, params);
      expect(res.status, `${name} ${JSON.stringify(params)}`).toBe(400);
      expect(res.body.error).toBe('GW_ERR_VALIDATION');
      expect(res.body.message).toMatch(/^params/);
    }
    const notArray = await request(h.app)
      .post('/v1/methods/getRoomById')
      .set('x-test-user', 'alice')
      .send({ params: 'GENERAL' });
    expect(notArray.status).toBe(400);
    for (const [name] of bad) {
      expect(sim.control.frames({ direction: 'in', contains: `"method":"${name}"` }), name).toEqual([]);
    }
  });

  it('refuses typing under another user’s name', async () => {
    const res = await call('stream-notify-room', ['GENERAL/typing', 'bob', true]);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('GW_ERR_FORBIDDEN');
  });
});

describe('Rocket.Chat errors as HTTP statuses', () => {
  it('maps not allowed, not found, invalid and conflict, keeping the upstream code', async () => {
    const cases: [string, unknown[], number, string, string | number][] = [
      ['getRoomById', ['NoSuchRoom1234567'], 403, 'GW_ERR_FORBIDDEN', 'error-not-allowed'],
      ['getRoomByTypeAndName', ['c', 'no-such-room'], 404, 'GW_ERR_NOT_FOUND', 'error-invalid-room'],
      [
        'saveRoomSettings',
        ['GENERAL', 'noSuchSetting', 1],
        403,
        'GW_ERR_FORBIDDEN',
        'error-action-not-allowed',
      ],
      ['removeRoomModerator', [opsId, bobId], 409, 'GW_ERR_CONFLICT', 'error-user-not-moderator'],
      ['createChannel', ['bad name!'], 400, 'GW_ERR_VALIDATION', 'error-invalid-name'],
    ];
    for (const [name, params, status, code, upstream] of cases) {
      const res = await call(name, params);
      expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error).toBe(code);
      expect(res.body.details.upstreamError).toBe(upstream);
    }
  });

  it('is 429 with Retry-After when Rocket.Chat says too-many-requests', async () => {
    sim.control.forceRateLimit('getRoomNameById', 1, 3000);
    const res = await call('getRoomNameById', ['GENERAL']);
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('GW_ERR_RATE_LIMITED');
    expect(res.body.details.upstreamError).toBe('too-many-requests');
    expect(res.headers['retry-after']).toBe('3');
  });

  it('is 504 when Rocket.Chat does not answer in time, 503 when the line drops mid-call', async () => {
    await ok('getRoomNameById', ['GENERAL']);
    sim.control.setFrameDelay(4000);
    try {
      const slow = await call('getRoomNameById', ['GENERAL']);
      expect(slow.status).toBe(504);
      expect(slow.body.error).toBe('GW_ERR_UPSTREAM_TIMEOUT');
    } finally {
      sim.control.setFrameDelay(0);
    }
    // Wait for the delayed frames to drain before the next case.
    await waitFor(
      async () => (await call('getRoomNameById', ['GENERAL'])).status === 200,
      15_000,
      'a quick answer',
    );

    sim.control.clearFrames();
    sim.control.setFrameDelay(4000);
    try {
      const pending = call('getRoomNameById', ['GENERAL']).then((r) => r);
      await waitFor(
        () => sim.control.frames({ direction: 'in', contains: '"getRoomNameById"', limit: 1 }).at(-1),
        5000,
        'the call upstream',
      );
      sim.control.dropConnections('alice');
      const dropped = await pending;
      expect(dropped.status).toBe(503);
      expect(dropped.body.error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    } finally {
      sim.control.setFrameDelay(0);
    }
  });

  it('is 503 when no session to Rocket.Chat can be opened', async () => {
    // carol has credentials but no session yet, and Rocket.Chat refuses new connections.
    sim.control.refuseConnections(6000);
    const started = Date.now();
    const res = await call('getRoomNameById', ['GENERAL'], 'carol');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('GW_ERR_UPSTREAM_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('is 401 for a user without credentials', async () => {
    const res = await call('getRoomNameById', ['GENERAL'], 'ghost');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('GW_ERR_NO_CREDENTIALS');
  });
});
