/**
 * The simulator's Rocket.Chat REST surface (docs/simulator-protocol.md §6): login, me, getMessage,
 * syncMessages in both forms, postMessage, rate-limit headers and 429. Dates are ISO strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';

let sim: Simulator;
let alice: { userId: string; authToken: string };

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function request(
  target: Simulator,
  method: 'GET' | 'POST',
  path: string,
  options: { auth?: { userId: string; authToken: string }; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.auth) {
    headers['X-User-Id'] = options.auth.userId;
    headers['X-Auth-Token'] = options.auth.authToken;
  }
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  const login = await request(sim, 'POST', '/api/v1/login', {
    body: { user: 'alice', password: 'alice-pass' },
  });
  const data = login.body['data'] as { userId: string; authToken: string };
  alice = { userId: data.userId, authToken: data.authToken };
});

afterAll(async () => {
  await sim?.close();
});

describe('authentication', () => {
  it('login: status/data/me with rate-limit headers; the token also resumes over DDP', async () => {
    const login = await request(sim, 'POST', '/api/v1/login', {
      body: { username: 'bob', password: 'bob-pass' },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      status: 'success',
      data: {
        userId: sim.control.userId('bob'),
        authToken: expect.any(String),
        me: {
          _id: sim.control.userId('bob'),
          username: 'bob',
          name: 'Bob',
          createdAt: expect.stringMatching(ISO),
        },
      },
      success: true,
    });
    expect(Number(login.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
    expect(login.headers.get('x-ratelimit-remaining')).not.toBeNull();
    expect(Number(login.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() - 1000);
  });

  it('bad credentials: 401 Unauthorized', async () => {
    const login = await request(sim, 'POST', '/api/v1/login', { body: { user: 'alice', password: 'nope' } });
    expect(login.status).toBe(401);
    expect(login.body).toEqual({
      success: false,
      error: 'Unauthorized',
      status: 'error',
      message: 'Unauthorized',
    });
  });

  it('me needs X-User-Id/X-Auth-Token', async () => {
    const me = await request(sim, 'GET', '/api/v1/me', { auth: alice });
    expect(me.body).toMatchObject({ _id: alice.userId, username: 'alice', success: true });
    const anonymous = await request(sim, 'GET', '/api/v1/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({
      success: false,
      error: 'You must be logged in to do this.',
      status: 'error',
      message: 'You must be logged in to do this.',
    });
  });
});

describe('chat', () => {
  it('getMessage: the message with ISO dates; 400 when missing, unknown or not readable', async () => {
    const posted = sim.control.postMessage('bob', 'GENERAL', 'rest me');
    const got = await request(sim, 'GET', `/api/v1/chat.getMessage?msgId=${posted._id}`, { auth: alice });
    expect(got.body).toMatchObject({
      message: {
        _id: posted._id,
        msg: 'rest me',
        ts: posted.ts.toISOString(),
        _updatedAt: expect.stringMatching(ISO),
      },
      success: true,
    });
    expect((await request(sim, 'GET', '/api/v1/chat.getMessage', { auth: alice })).status).toBe(400);
    expect((await request(sim, 'GET', '/api/v1/chat.getMessage?msgId=nope', { auth: alice })).body).toEqual({
      success: false,
    });
    const secret = sim.control.createRoom({ t: 'p', name: 'secret-rest', members: ['bob'] });
    const hidden = sim.control.postMessage('bob', secret._id, 'hidden');
    const denied = await request(sim, 'GET', `/api/v1/chat.getMessage?msgId=${hidden._id}`, { auth: alice });
    expect(denied.status).toBe(400);
    expect(denied.body).toMatchObject({ success: false, errorType: 'error-not-allowed' });
  });

  it('syncMessages legacy form: updated newest first (edits included), deleted with _deletedAt', async () => {
    const room = sim.control.createRoom({ t: 'c', name: 'sync-legacy', members: ['alice', 'bob'] });
    const since = new Date(Date.now() - 1).toISOString();
    const a = sim.control.postMessage('bob', room._id, 'a');
    const b = sim.control.postMessage('bob', room._id, 'b');
    const c = sim.control.postMessage('bob', room._id, 'c');
    sim.control.editMessage(a._id, 'a2');
    sim.control.deleteMessage(b._id);
    const sync = await request(
      sim,
      'GET',
      `/api/v1/chat.syncMessages?roomId=${room._id}&lastUpdate=${since}`,
      {
        auth: alice,
      },
    );
    const result = sync.body['result'] as { updated: { _id: string; msg: string }[]; deleted: unknown[] };
    const updated = result.updated.filter((m) => m._id === a._id || m._id === c._id);
    expect(updated.map((m) => [m._id, m.msg])).toEqual([
      [c._id, 'c'],
      [a._id, 'a2'],
    ]);
    expect(result.deleted).toEqual([{ _id: b._id, _deletedAt: expect.stringMatching(ISO) }]);
    expect(sync.body['success']).toBe(true);
  });

  it('syncMessages cursor form: ascending pages with cursor.next, then null; DELETED type too', async () => {
    const room = sim.control.createRoom({ t: 'c', name: 'sync-cursor', members: ['alice', 'bob'] });
    const start = Date.now() - 1;
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5'].map(
      (text) => sim.control.postMessage('bob', room._id, text)._id,
    );
    sim.control.deleteMessage(ids[1] ?? '');
    const seen: string[] = [];
    let next: string | null = String(start);
    let pages = 0;
    while (next && pages < 10) {
      const page = await request(
        sim,
        'GET',
        `/api/v1/chat.syncMessages?roomId=${room._id}&type=UPDATED&next=${next}&count=2`,
        { auth: alice },
      );
      const result = page.body['result'] as { updated: { _id: string }[]; cursor: { next: string | null } };
      seen.push(...result.updated.map((m) => m._id));
      next = result.cursor.next;
      pages += 1;
    }
    expect(seen.filter((id) => ids.includes(id))).toEqual([ids[0], ids[2], ids[3], ids[4]]);
    const deleted = await request(
      sim,
      'GET',
      `/api/v1/chat.syncMessages?roomId=${room._id}&type=DELETED&next=${start}&count=50`,
      { auth: alice },
    );
    expect(deleted.body['result']).toEqual({
      updated: [],
      deleted: [{ _id: ids[1], _deletedAt: expect.stringMatching(ISO) }],
      cursor: { next: null, previous: expect.any(String) },
    });
  });

  it('syncMessages errors use the Rocket.Chat codes', async () => {
    const call = (query: string) =>
      request(sim, 'GET', `/api/v1/chat.syncMessages?${query}`, { auth: alice });
    expect((await call('type=UPDATED')).body).toMatchObject({
      success: false,
      errorType: 'error-param-required',
    });
    expect((await call('roomId=GENERAL')).body).toMatchObject({ errorType: 'error-param-required' });
    // The route checks "type or lastUpdate" before messages/get could say error-type-param-required.
    expect((await call('roomId=GENERAL&next=1')).body).toMatchObject({ errorType: 'error-param-required' });
    expect((await call('roomId=GENERAL&type=UPDATED&next=1&previous=2')).body).toMatchObject({
      errorType: 'error-cursor-conflict',
    });
    expect(
      (await call('roomId=GENERAL&type=UPDATED&next=1&lastUpdate=2024-01-01T00:00:00.000Z')).body,
    ).toMatchObject({
      errorType: 'error-cursor-and-lastUpdate-conflict',
    });
    expect((await call('roomId=GENERAL&type=SIDEWAYS&next=1')).body).toMatchObject({
      errorType: 'error-type-param-not-supported',
    });
    const secret = sim.control.createRoom({ t: 'p', name: 'secret-sync', members: ['bob'] });
    const denied = await call(`roomId=${secret._id}&type=UPDATED&next=0`);
    expect(denied.status).toBe(400);
    expect(denied.body).toEqual({
      success: false,
      error: 'Not allowed [error-not-allowed]',
      errorType: 'error-not-allowed',
      details: { method: 'messages/get' },
    });
  });

  it('postMessage by roomId or #channel, as incoming webhooks use it', async () => {
    const byChannel = await request(sim, 'POST', '/api/v1/chat.postMessage', {
      auth: alice,
      body: { channel: '#general', text: 'hook says hi', alias: 'Hook', emoji: ':robot:' },
    });
    expect(byChannel.body).toMatchObject({
      ts: expect.any(Number),
      channel: '#general',
      message: { rid: 'GENERAL', msg: 'hook says hi', alias: 'Hook', emoji: ':robot:', groupable: false },
      success: true,
    });
    const byId = await request(sim, 'POST', '/api/v1/chat.postMessage', {
      auth: alice,
      body: { roomId: 'GENERAL', text: 'by id' },
    });
    expect(byId.body).toMatchObject({ channel: 'GENERAL', message: { msg: 'by id' } });
    const stored = sim.control.roomMessages('GENERAL').map((m) => m.msg);
    expect(stored).toEqual(expect.arrayContaining(['hook says hi', 'by id']));
  });
});

describe('REST rate limiter', () => {
  it('counts per endpoint with headers and answers 429 past the limit', async () => {
    const limited = await startSimulator({
      port: 0,
      restRateLimit: { calls: 3, windowMs: 60_000, endpoints: { me: false } },
    });
    try {
      const login = await request(limited, 'POST', '/api/v1/login', {
        body: { user: 'carol', password: 'carol-pass' },
      });
      const auth = login.body['data'] as { userId: string; authToken: string };
      const replies: Reply[] = [];
      for (let i = 0; i < 4; i += 1) {
        replies.push(
          await request(limited, 'POST', '/api/v1/chat.postMessage', {
            auth,
            body: { roomId: 'GENERAL', text: `n${i}` },
          }),
        );
      }
      expect(replies.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
      expect(replies.map((r) => r.headers.get('x-ratelimit-limit'))).toEqual(['3', '3', '3', '3']);
      const refused = replies[3];
      expect(refused?.status).toBe(429);
      expect(refused?.body).toEqual({
        success: false,
        error: expect.stringMatching(
          /^Error, too many requests\. Please slow down\. You must wait \d+ seconds before trying this endpoint again\. \[error-too-many-requests\]$/,
        ),
      });
      expect(Number(refused?.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now());
      // Exempt endpoint: no headers, never refused.
      const me = await request(limited, 'GET', '/api/v1/me', { auth });
      expect(me.status).toBe(200);
      expect(me.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await limited.close();
    }
  });
});
