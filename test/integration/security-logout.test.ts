/**
 * Issue 17 item 3: `DELETE /v1/sessions` logs out. Every gateway token issued before stops
 * working (also after a new login), the user's SSE streams end with `session.unauthorized`, the
 * upstream Rocket.Chat session of a password login is closed (its token revoked upstream), and
 * webhook deliveries park as for a revoked token.
 */
import { describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../helpers/gateway-fixture.js';
import { loginThroughGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

const fx = useGatewayFixture();

function call(method: string, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${fx.gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

/** An SSE stream read as text: what arrived so far, and whether the server ended it. */
function openStream(path: string) {
  const state = { text: '', ended: false, status: 0 };
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(`${fx.gw.url}${path}`, { signal: controller.signal });
    state.status = response.status;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done: isDone } = await reader.read();
      if (isDone) break;
      state.text += decoder.decode(value, { stream: true });
    }
    state.ended = true;
  })().catch(() => undefined);
  return { state, close: () => controller.abort(), done };
}

function aliceConnections(userId: string): number {
  return fx.sim.control.stats().sessions.filter((s) => s.userId === userId).length;
}

describe('DELETE /v1/sessions', () => {
  it('ends every earlier token, the SSE streams and the upstream session, even after a new login', async () => {
    const { token, userId } = await loginThroughGateway(fx.gw.url, 'alice');
    const sseTokenResponse = await call('POST', '/v1/sessions/sse-token', token);
    const { token: sseToken } = (await sseTokenResponse.json()) as { token: string };
    const stream = openStream(`/v1/events?topics=room:GENERAL&access_token=${sseToken}`);
    await waitFor(
      () => stream.state.text.includes('retry:') || stream.state.text.length > 0,
      15_000,
      'stream',
    );
    await waitFor(() => aliceConnections(userId) > 0, 15_000, 'the upstream session');

    expect((await call('DELETE', '/v1/sessions', token)).status).toBe(204);

    // The stream is told and ended.
    await waitFor(() => stream.state.ended, 15_000, 'the stream to end');
    expect(stream.state.text).toContain('event: session.unauthorized');
    expect(stream.state.text).toContain('"reason":"logout"');
    // The upstream session is gone: Rocket.Chat revoked the token the gateway had obtained.
    await waitFor(() => aliceConnections(userId) === 0, 15_000, 'the upstream session to close');

    // Nothing the old tokens could do works any more.
    const attempts = [
      await call('GET', '/v1/webhooks', token),
      await call('POST', '/v1/hooks', token, { roomId: 'GENERAL' }),
      await call('POST', '/v1/sessions/sse-token', token),
      await call('POST', '/v1/messages', token, { roomId: 'GENERAL', text: 'after logout' }),
      await fetch(`${fx.gw.url}/v1/events?topics=room:GENERAL&access_token=${sseToken}`),
    ];
    expect(attempts.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    const body = (await attempts[0]!.json()) as { error: string; message: string };
    expect(body.error).toBe('GW_ERR_UNAUTHENTICATED');
    expect(body.message).toMatch(/logout/);

    // A new login works, and does not bring the old token back.
    const again = await loginThroughGateway(fx.gw.url, 'alice');
    expect((await call('GET', '/v1/webhooks', again.token)).status).toBe(200);
    expect((await call('GET', '/v1/webhooks', token)).status).toBe(401);
    stream.close();
    await stream.done;
  });

  it('keeps a token handed over by the caller working upstream (other clients may share it)', async () => {
    const given = fx.sim.control.tokenFor('bob');
    const login = await fetch(`${fx.gw.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: given.userId, authToken: given.authToken }),
    });
    const { token } = (await login.json()) as { token: string };
    const sseToken = (
      (await (await call('POST', '/v1/sessions/sse-token', token)).json()) as { token: string }
    ).token;
    const stream = openStream(`/v1/events?topics=room:GENERAL&access_token=${sseToken}`);
    await waitFor(() => aliceConnections(given.userId) > 0, 15_000, 'the upstream session');
    expect((await call('DELETE', '/v1/sessions', token)).status).toBe(204);
    expect((await call('GET', '/v1/webhooks', token)).status).toBe(401);
    // The token still works upstream, but the gateway's session on it is closed: the worker
    // holding it heard the logout on the control plane.
    await waitFor(() => aliceConnections(given.userId) === 0, 15_000, 'the upstream session to close');
    stream.close();
    await stream.done;
    await expect(
      fx.gw.gateway.core.rest.me({ userId: given.userId, token: given.authToken }),
    ).resolves.toMatchObject({ userId: given.userId });
  });
});
