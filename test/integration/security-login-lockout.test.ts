/**
 * Issue 17 item 2: one client failing logins must not lock other clients out. The gateway counts
 * failed logins per client address and per account (429 with Retry-After), remembers refused
 * `X-Auth-Token`s briefly, and names the client to Rocket.Chat in `X-Forwarded-For`, so the
 * simulator's own per-address REST limit (Rocket.Chat's, honouring `HTTP_FORWARDED_COUNT`)
 * counts clients rather than the gateway.
 */
import { describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { sendFrom } from '../helpers/http-from.js';

// Rocket.Chat's default REST limits (login: 100 per minute per client address), behind one proxy.
const fx = useGatewayFixture({ simulator: { httpForwardedCount: 1 } });

const JSON_TYPE = { 'content-type': 'application/json' };

async function login(username: string, password: string) {
  const response = await fetch(`${fx.gw.url}/v1/sessions`, {
    method: 'POST',
    headers: JSON_TYPE,
    body: JSON.stringify({ username, password }),
  });
  await response.arrayBuffer();
  return response;
}

describe('failed logins', () => {
  it('150 wrong passwords for one user from one address lock neither another user nor another address', async () => {
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    for (let i = 0; i < 150; i++) {
      const response = await login('alice', `wrong-${i}`);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429) retryAfter ??= response.headers.get('retry-after');
    }
    // The per-account limit (10) and the per-address one (20) stop the guessing at the gateway.
    expect(statuses.get(401)).toBe(10);
    expect(statuses.get(429)).toBe(140);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // So Rocket.Chat saw few attempts, and all from the guesser's address.
    const seen = fx.sim.control.stats().restClients;
    expect(seen['127.0.0.1']?.refused ?? 0).toBe(0);

    // Bob, from another machine, logs in with his password and with his Rocket.Chat token.
    const bobLogin = await sendFrom('127.0.0.2', `${fx.gw.url}/v1/sessions`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ username: 'bob', password: 'bob-pass' }),
    });
    expect(bobLogin.status).toBe(201);
    const bobToken = fx.sim.control.tokenFor('bob');
    const byHeaders = await sendFrom('127.0.0.2', `${fx.gw.url}/v1/webhooks`, {
      method: 'GET',
      headers: { 'x-user-id': bobToken.userId, 'x-auth-token': bobToken.authToken },
    });
    expect(byHeaders.status).toBe(200);
    const bobSeen = fx.sim.control.stats().restClients['127.0.0.2'];
    expect(bobSeen?.calls).toBeGreaterThanOrEqual(2);
    expect(bobSeen?.refused).toBe(0);
  });

  it('a wrong password from one address is counted against it, not against others', async () => {
    // 127.0.0.3 guesses carol's password until the address limit; 127.0.0.4 still gets in as carol.
    let lastStatus = 0;
    for (let i = 0; i < 25 && lastStatus !== 429; i++) {
      const response = await sendFrom('127.0.0.3', `${fx.gw.url}/v1/sessions`, {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify({ username: `nobody-${i}`, password: 'x' }),
      });
      lastStatus = response.status;
    }
    expect(lastStatus).toBe(429);
    const carol = await sendFrom('127.0.0.4', `${fx.gw.url}/v1/sessions`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ username: 'carol', password: 'carol-pass' }),
    });
    expect(carol.status).toBe(201);
  });

  it('a wrong X-Auth-Token is answered from a short cache and counted per address', async () => {
    const bob = fx.sim.control.tokenFor('bob');
    const before = fx.sim.control.stats().restClients['127.0.0.5']?.calls ?? 0;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const response = await sendFrom('127.0.0.5', `${fx.gw.url}/v1/webhooks`, {
        method: 'GET',
        headers: { 'x-user-id': bob.userId, 'x-auth-token': i < 5 ? 'same-wrong-token' : `wrong-${i}` },
      });
      statuses.push(response.status);
    }
    // The same wrong token five times costs Rocket.Chat one check; then the address limit holds.
    const asked = (fx.sim.control.stats().restClients['127.0.0.5']?.calls ?? 0) - before;
    expect(asked).toBeLessThanOrEqual(20);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
  });
});
