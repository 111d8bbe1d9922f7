/**
 * Issue 17 item 4: an encryption key rotation can be finished. Values are sealed under k1; the
 * gateway moves to k2 with k1 as an old key; the operator command (src/rotation/reseal-main.ts,
 * run as a process) reports what still needs k1, re-seals everything, and then the old key is
 * removed: the stored credential, the webhook's signing secret and the signed hook's secret all
 * still work.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { HookStore } from '../../src/hooks/hook-store.js';
import { createKeys } from '../../src/redis/keys.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let sim: Simulator;
let receiver: WebhookReceiver;
const gateways: TestGateway[] = [];

const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const common = {
  REDIS_KEY_PREFIX: `t-${randomUUID().slice(0, 8)}`,
  JWT_SECRET: randomBytes(32).toString('hex'),
  WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
};
const withK1 = { ...common, GATEWAY_ENCRYPTION_KEY: K1, GATEWAY_ENCRYPTION_KEY_ID: 'k1' };
const rotating = {
  ...common,
  GATEWAY_ENCRYPTION_KEY: K2,
  GATEWAY_ENCRYPTION_KEY_ID: 'k2',
  GATEWAY_ENCRYPTION_OLD_KEYS: `k1:${K1}`,
};
const withK2Only = { ...common, GATEWAY_ENCRYPTION_KEY: K2, GATEWAY_ENCRYPTION_KEY_ID: 'k2' };

interface Report {
  resealed: number;
  current: number;
  left: number;
  byKind: Record<string, number>;
  leftValues: { kind: string; keyId?: string; reason: string }[];
}

/** Runs the operator command with `env`; its exit code, JSON report and progress lines. */
function reseal(env: Record<string, string>, args: string[] = []) {
  return new Promise<{ code: number | null; report: Report; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/rotation/reseal-main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', REDIS_URL: inject('redisUrl'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        resolve({ code, report: JSON.parse(stdout) as Report, stderr });
      } catch {
        reject(new Error(`reseal printed no report (exit ${code}): ${stderr}`));
      }
    });
  });
}

async function start(env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url, shared: env });
  gateways.push(gw);
  return gw;
}

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await receiver?.close();
  await sim?.close();
});

describe('lazy re-sealing', () => {
  it('moves an incoming hook secret to the current key when the hook is read', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const keys = createKeys(`t-${randomUUID().slice(0, 8)}`);
      const k1 = createTokenCipher({
        currentKeyId: 'k1',
        keys: new Map([['k1', Buffer.from(K1, 'base64')]]),
      });
      const k2 = createTokenCipher({
        currentKeyId: 'k2',
        keys: new Map([
          ['k1', Buffer.from(K1, 'base64')],
          ['k2', Buffer.from(K2, 'base64')],
        ]),
      });
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const id = 'hk_lazyresealtest000000';
      await new HookStore({ redis, keys, cipher: k1 }).create(
        id,
        'u1',
        { roomId: 'GENERAL', signingSecret: secret },
        'hash',
        Date.now(),
      );
      expect(await redis.hget(keys.hook(id), 'secret')).toMatch(/^v1\.k1\./);
      expect((await new HookStore({ redis, keys, cipher: k2 }).get(id))?.signingSecret).toBe(secret);
      expect(await redis.hget(keys.hook(id), 'secret')).toMatch(/^v1\.k2\./);
      await redis.del(keys.hook(id));
    } finally {
      redis.disconnect();
    }
  });
});

describe('finishing a key rotation', () => {
  it('re-seals credentials, webhook and hook secrets, so the old key can be removed', async () => {
    // Under k1: a credential, a webhook (its secret sealed), a signed incoming hook.
    const before = await start(withK1);
    const { token } = await loginThroughGateway(before.url, 'alice');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const webhook = await fetch(`${before.url}/v1/webhooks`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ url: receiver.url, topics: ['room:GENERAL'] }),
    });
    expect(webhook.status).toBe(201);
    const { secret: webhookSecret } = (await webhook.json()) as { secret: string };
    const hookSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const hook = await fetch(`${before.url}/v1/hooks`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ roomId: 'GENERAL', signingSecret: hookSecret }),
    });
    expect(hook.status).toBe(201);
    const hookPath = new URL(((await hook.json()) as { url: string }).url).pathname;
    await before.close();

    // Removing k1 now would break all three: the check says so and changes nothing.
    const premature = await reseal(withK2Only, ['--check']);
    expect(premature.code).toBe(2);
    expect(premature.report.left).toBe(3);
    expect(premature.report.leftValues.map((v) => v.reason)).toEqual([
      'unknown-key',
      'unknown-key',
      'unknown-key',
    ]);

    // With k2 current and k1 old: the check lists what needs k1, the command re-seals it.
    const check = await reseal(rotating, ['--check']);
    expect(check.code).toBe(2);
    expect(check.report.byKind).toEqual({ credential: 1, 'webhook-secret': 1, 'hook-secret': 1 });
    expect(new Set(check.report.leftValues.map((v) => `${v.keyId} ${v.reason}`))).toEqual(
      new Set(['k1 old-key']),
    );
    const run = await reseal(rotating);
    expect(run.code).toBe(0);
    expect(run.report).toMatchObject({ resealed: 3, left: 0 });
    expect(run.stderr).toMatch(
      /reseal: \d+ keys scanned, 3 sealed values: 3 re-sealed, 0 already under "k2", 0 left/,
    );
    expect((await reseal(withK2Only, ['--check'])).report).toMatchObject({ current: 3, left: 0 });

    // The old key is gone; everything still works.
    const after = await start(withK2Only);
    const body = JSON.stringify({ text: 'signed after the rotation' });
    const msgId = `msg_${randomUUID()}`;
    const at = new Date();
    const posted = await fetch(`${after.url}${hookPath}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': msgId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(hookSecret).sign(msgId, at, body),
      },
      body,
    });
    expect(posted.status).toBe(202);
    await waitFor(
      () => sim.control.roomMessages('GENERAL').some((m) => m.msg === 'signed after the rotation'),
      30_000,
      'the hook post',
    );

    // The session logs in with the re-sealed token, and the delivery is signed with the re-sealed secret.
    const message = sim.control.postMessage('bob', 'GENERAL', 'delivered after the rotation');
    const hit = await waitFor(
      () => receiver.hits.find((h) => h.body.includes(message._id)),
      30_000,
      'the webhook delivery',
    );
    expect(() =>
      new Webhook(webhookSecret).verify(hit.body, {
        'webhook-id': hit.webhookId,
        'webhook-timestamp': hit.timestamp,
        'webhook-signature': hit.signature,
      }),
    ).not.toThrow();
    expect(after.logLines.join('')).not.toMatch(/CredentialDecryptError|not configured/);
  });
});
