/**
 * The simulator's HTTP control API under /sim/ and its command-line entry point run as a
 * separate process (`tsx sim/main.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { type Frame, RawDdpClient, waitUntil } from '../../sim/raw-ddp-client.js';

let sim: Simulator;

async function control(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sim.url}/sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
});

afterAll(async () => {
  await sim?.close();
});

describe('HTTP control API', () => {
  it('creates users and rooms, posts, edits, reacts, prunes and deletes messages', async () => {
    const user = await control('POST', '/users', { username: 'dave', password: 'dave-pass', name: 'Dave' });
    expect(user).toMatchObject({
      status: 201,
      body: { username: 'dave', name: 'Dave', _id: expect.any(String) },
    });
    const room = await control('POST', '/rooms', {
      name: 'control-room',
      t: 'c',
      members: ['dave', 'alice'],
    });
    const rid = (room.body as { _id: string })._id;
    const posted = await control('POST', '/messages', {
      username: 'dave',
      rid,
      msg: 'via control',
      _id: 'ControlMessage001',
    });
    expect(posted.body).toMatchObject({
      _id: 'ControlMessage001',
      msg: 'via control',
      ts: expect.any(String),
    });
    expect((await control('PATCH', '/messages/ControlMessage001', { msg: 'edited' })).body).toMatchObject({
      msg: 'edited',
      editedBy: { username: 'dave' },
    });
    expect(
      (await control('POST', '/messages/ControlMessage001/reactions', { username: 'alice', emoji: 'tada' }))
        .body,
    ).toMatchObject({
      reactions: { ':tada:': { usernames: ['alice'] } },
    });
    const second = await control('POST', '/messages', { username: 'alice', rid, msg: 'second' });
    const third = await control('POST', '/messages', { username: 'alice', rid, msg: 'third' });
    const prune = await control('POST', `/rooms/${rid}/prune`, {
      ids: [(second.body as { _id: string })._id],
    });
    expect(prune.body).toEqual({ deleted: [(second.body as { _id: string })._id] });
    expect((await control('DELETE', `/messages/${(third.body as { _id: string })._id}`)).body).toEqual({
      deleted: true,
    });
    const stored = (await control('GET', `/rooms/${rid}/messages`)).body as {
      messages: { _id: string; t?: string }[];
      deleted: { _id: string }[];
    };
    expect(stored.messages.filter((m) => !m.t).map((m) => m._id)).toEqual(['ControlMessage001']);
    expect(stored.deleted.map((d) => d._id)).toHaveLength(2);
    expect((await control('POST', '/messages', { username: 'nobody', rid, msg: 'x' })).status).toBe(404);
  });

  it('presence, typing, tokens, faults, frames, stats and flood', async () => {
    const client = await RawDdpClient.connect(sim.wsUrl);
    try {
      const tokens = (await control('POST', '/users/bob/tokens')).body as {
        userId: string;
        authToken: string;
      };
      await client.loginWithToken(tokens.authToken);
      await client.sub('stream-notify-room', ['GENERAL/typing', false]);
      await client.sub('stream-notify-logged', ['user-status', false]);
      const from = client.mark();
      await control('POST', '/typing', { username: 'alice', rid: 'GENERAL', typing: true });
      await control('POST', '/presence', { username: 'alice', status: 'away' });
      const typing = await client.waitFor(
        (f) => (f['fields'] as Frame | undefined)?.['eventName'] === 'GENERAL/typing',
        { from },
      );
      expect((typing['fields'] as Frame)['args']).toEqual(['alice', true]);
      await client.waitFor((f) => (f['fields'] as Frame | undefined)?.['eventName'] === 'user-status', {
        from,
      });

      const frames = (await control('GET', '/frames?direction=out&limit=5')).body as {
        direction: string;
        data: string;
      }[];
      expect(frames.length).toBeLessThanOrEqual(5);
      expect(frames.every((f) => f.direction === 'out')).toBe(true);
      const stats = (await control('GET', '/stats')).body as {
        connections: number;
        loginAttempts: Record<string, unknown>;
      };
      expect(stats.connections).toBe(1);
      expect(stats.loginAttempts['bob']).toMatchObject({ ddp: 1 });

      expect((await control('POST', '/flood', { rid: 'GENERAL', count: 50 })).body).toMatchObject({
        count: 50,
      });
      expect((await control('POST', '/faults/rate-limit', { method: 'rooms/get', count: 1 })).status).toBe(
        200,
      );
      expect((await client.call('rooms/get', []))['error']).toMatchObject({ error: 'too-many-requests' });
      expect((await control('POST', '/users/bob/expire-tokens')).body).toMatchObject({
        expired: expect.any(Number),
      });
      expect((await control('POST', '/faults/drop', { username: 'bob' })).body).toEqual({ dropped: 1 });
      await client.closed;
      await waitUntil(() => sim.control.connectionCount() === 0, 5000, 'the dropped socket');
    } finally {
      await client.close();
    }
  });
});

describe('command line', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.exitCode === null) {
      child.kill('SIGKILL');
    }
  });

  it('prints one ready line, serves in the --flavor asked for, and exits 0 on SIGTERM', async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'sim/main.ts', '--port', '0', '--no-rate-limits', '--flavor', 'streamer'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const line = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child?.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const match =
      /^Rocket\.Chat simulator listening: (http:\/\/127\.0\.0\.1:(\d+)) \(DDP (ws:\/\/127\.0\.0\.1:\d+\/websocket), control (http:\/\/127\.0\.0\.1:\d+\/sim\/)\)$/.exec(
        line,
      );
    expect(match).not.toBeNull();
    const stats = await fetch(`${match?.[1]}/sim/stats`);
    expect(stats.status).toBe(200);
    expect(await (await fetch(`${match?.[1]}/sim/flavor`)).json()).toEqual({ flavor: 'streamer' });
    const client = await RawDdpClient.connect(match?.[3] ?? '');
    expect(client.frames[0]).toEqual({ msg: 'server_id', server_id: '0' });
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await client.closed;
  });
});
