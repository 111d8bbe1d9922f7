/**
 * The console in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against the whole HTTP surface the console uses (sessions, SSE events,
 * outbound messages, webhooks) on a private Redis and the simulator.
 *
 * alice signs in, watches `room:GENERAL` live (bob's message arrives), sends a message and sees
 * it reach `sent`, creates a webhook aimed at a local receiver and sees its test delivery listed,
 * and a message text carrying HTML shows as text. A replica going away (its SSE hub drains with a
 * `reconnect` event) while the log is trimmed shows the `reconnect` and `gap` markers, and the
 * stream resumes.
 *
 * The stack is composed here, from the parts src/gateway.ts composes, so that /v1/messages,
 * /v1/webhooks and /console are all mounted whatever the state of the composition root.
 *
 * No silent skip: without Chromium this file fails and says how to install it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestHandler } from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { createConsoleRouter } from '../../src/console/index.js';
import { createApp } from '../../src/http/app.js';
import { createHttpAuth } from '../../src/http/auth/index.js';
import { createEventTypesRouter } from '../../src/http/routes/event-types.js';
import { createEventsRouter } from '../../src/http/routes/events.js';
import { createSessionsRouter } from '../../src/http/routes/sessions.js';
import { createOpenApiRouter } from '../../src/openapi/index.js';
import { createMessagesRouter } from '../../src/outbound/index.js';
import { createTokenCipher } from '../../src/sessions/token-cipher.js';
import { SseHub } from '../../src/sse/sse-hub.js';
import {
  createWebhookRouter,
  createWebhookService,
  startWebhookWorkers,
  type WebhookService,
  type WebhookWorker,
} from '../../src/webhooks/index.js';
import { launchChromium, requireChromium } from '../helpers/chromium.js';
import { httpContextFromCore } from '../helpers/http-context.js';
import {
  createCoreOutboundQueue,
  createCoreOutboundSending,
  deleteCoreKeys,
} from '../helpers/outbound-harness.js';
import { createTestCore, type TestCore } from '../helpers/test-core.js';
import { waitFor } from '../helpers/wait-for.js';
import { webhookConnections } from '../helpers/webhook-connections.js';
import { FAST_WORKER } from '../helpers/webhook-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const XSS_TEXT = '<img src=x onerror="globalThis.__pwned = 1">';

/** The gateway's HTTP surface for the console, with an SSE hub that can be replaced (a replica restart). */
interface ConsoleStack {
  readonly url: string;
  readonly core: TestCore;
  /** Drains the current SSE hub (its clients get `reconnect`); new streams go to a fresh hub. */
  replaceSseHub(): void;
  /** Cuts every SSE connection without a word, as a network failure would. */
  dropSseConnections(): void;
  close(): Promise<void>;
}

async function startConsoleStack(redisUrl: string, rocketchatUrl: string): Promise<ConsoleStack> {
  const core = createTestCore({
    redisUrl,
    rocketchatUrl,
    env: {
      CONSOLE_ENABLED: 'true',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_SCHEDULE_MS: '100,100',
      RATE_LIMIT_PER_MINUTE: '100000',
    },
  });
  await core.calls.start();
  await core.pool?.start();
  const ctx = httpContextFromCore(core, {
    subscriber: core.subscriber('live-sub'),
    processId: core.processId,
  });
  const { liveHub } = ctx;
  const hubs: SseHub[] = [];
  const newHub = (): SseHub => {
    const hub = new SseHub({
      liveHub,
      eventLog: core.eventLog,
      consumers: core.consumers,
      processId: `${core.processId}-${hubs.length}`,
      heartbeatMs: core.config.sse.heartbeatMs,
      retryMs: 500,
      maxBufferBytes: core.config.sse.maxBufferBytes,
    });
    hubs.push(hub);
    return hub;
  };
  const httpAuth = createHttpAuth(ctx);
  const eventsAuth = httpAuth.authenticate({ allowQueryToken: true });
  let eventsRouter = createEventsRouter({ ctx, hub: newHub(), authenticate: eventsAuth });
  const events: RequestHandler = (req, res, next) => eventsRouter(req, res, next);

  const outbound = createCoreOutboundQueue(core);
  const outboundWorker = createCoreOutboundSending(core, outbound);
  await outboundWorker.waitUntilReady();
  const { id: keyId, key } = core.config.encryption.current;
  const cipher = createTokenCipher({ currentKeyId: keyId, keys: new Map([[keyId, key]]) });
  const webhooks: WebhookService = createWebhookService({
    redis: core.redis,
    keys: core.keys,
    config: core.config,
    consumers: core.consumers,
    cipher,
    logger: core.logger,
  });
  const webhookWorker: WebhookWorker = await startWebhookWorkers({
    redis: core.redis,
    connections: webhookConnections(core.redis, core.config),
    keys: core.keys,
    config: core.config,
    eventLog: core.eventLog,
    liveHub,
    credentials: core.credentials,
    cipher,
    consumers: core.consumers,
    logger: core.logger,
    options: FAST_WORKER,
  });

  const auth = httpAuth.authenticate();
  const app = createApp(ctx, [
    { path: '/v1/sessions', router: createSessionsRouter(ctx, httpAuth) },
    { path: '/', router: events as never },
    { path: '/v1/messages', router: createMessagesRouter({ outbound, authenticate: auth }) },
    { path: '/v1/webhooks', router: createWebhookRouter({ authenticate: auth, webhooks }) },
    { path: '/console', router: createConsoleRouter(core.config) },
    // The console reads the event types from the OpenAPI document.
    { path: '/', router: createOpenApiRouter({ publicUrl: core.config.http.publicUrl }) },
    { path: '/', router: createEventTypesRouter() },
  ]);
  const server: Server = createServer(app);
  server.requestTimeout = 0;
  const sseSockets = new Set<Socket>();
  server.on('request', (req: IncomingMessage) => {
    if (!req.url?.startsWith('/v1/events')) return;
    sseSockets.add(req.socket);
    req.socket.once('close', () => sseSockets.delete(req.socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    core,
    replaceSseHub() {
      const old = hubs.at(-1);
      eventsRouter = createEventsRouter({ ctx, hub: newHub(), authenticate: eventsAuth });
      old?.drain();
    },
    dropSseConnections() {
      for (const socket of sseSockets) socket.destroy();
    },
    async close() {
      const steps: (() => Promise<unknown>)[] = [
        async () => {
          for (const hub of hubs) hub.close();
        },
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
        () => outboundWorker.close(0),
        () => outbound.close(),
        () => webhookWorker.close(),
        () => webhooks.close(),
        () => liveHub.close(),
        () => deleteCoreKeys(core),
        () => core.close(),
      ];
      const errors: unknown[] = [];
      for (const step of steps) await step().catch((err: unknown) => errors.push(err));
      if (errors.length > 0) throw new AggregateError(errors, 'console stack closed with errors');
    },
  };
}

let sim: Simulator;
let stack: ConsoleStack;
let receiver: WebhookReceiver;
let browser: Browser | undefined;
let page: Page;
const pageProblems: string[] = [];

/** What the row callbacks below touch of a table row (the project compiles without the DOM library). */
interface RowElement {
  readonly dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }>;
}

interface EventRow {
  readonly type: string;
  readonly id: string;
  readonly room: string;
  readonly summary: string;
}

/** Rows of the events list as the page shows them (newest first). */
async function eventRows(): Promise<EventRow[]> {
  return page.locator('#events-body tr').evaluateAll((rows) =>
    rows.map((element) => {
      const row = element as unknown as RowElement;
      const cells = Array.from(row.querySelectorAll('td'), (cell) => cell.textContent ?? '');
      return {
        type: row.dataset['type'] ?? '',
        id: cells[0] ?? '',
        room: cells[2] ?? '',
        summary: cells[3] ?? '',
      };
    }),
  );
}

async function waitForRow(match: (row: EventRow) => boolean, what: string): Promise<EventRow> {
  return waitFor(async () => (await eventRows()).find(match), 20_000, what);
}

beforeAll(async () => {
  requireChromium();
  sim = await startSimulator({ port: 0, rateLimits: false });
  stack = await startConsoleStack(inject('redisUrl'), sim.url);
  receiver = await startWebhookReceiver();
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    // A CSP violation is reported as a console error: none may happen.
    if (message.type() === 'error' && !/EventSource|Failed to load resource/.test(message.text()))
      pageProblems.push(`console: ${message.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await stack?.close();
  await sim?.close();
});

describe('the console in a browser (headless Chromium)', () => {
  it('loads under its strict CSP and signs alice in with her Rocket.Chat password', async () => {
    const response = await page.goto(`${stack.url}/console`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${stack.url}/console/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.fill('#signin-username', 'alice');
    await page.fill('#signin-password', 'wrong');
    await page.click('#signin-submit');
    await page.locator('#signin-error').filter({ hasText: /\S/ }).waitFor();
    await page.fill('#signin-password', 'alice-pass');
    await page.click('#signin-submit');
    await page.locator('#app').waitFor({ state: 'visible' });
    expect(await page.textContent('#whoami-name')).toBe('alice');
    expect(await page.inputValue('#signin-password')).toBe('');
  });

  it('subscribes to room:GENERAL and shows a message bob posts, with id, type, room and summary', async () => {
    await page.uncheck('#topic-user');
    await page.click('#stream-connect');
    await page.locator('#stream-status[data-state="live"]').waitFor();
    const posted = sim.control.postMessage('bob', 'GENERAL', 'hello from bob');
    const row = await waitForRow(
      (r) => r.type === 'message.created' && r.summary === 'bob: hello from bob',
      "bob's message in the list",
    );
    expect(row.room).toBe('GENERAL');
    expect(row.id).toMatch(/^\d+-\d+$/);
    // Clicking the row shows the raw envelope.
    await page.locator('#events-body tr', { hasText: 'hello from bob' }).click();
    const raw = JSON.parse((await page.textContent('#event-raw')) ?? '') as Record<string, unknown>;
    expect(raw).toMatchObject({
      id: row.id,
      type: 'message.created',
      roomId: 'GENERAL',
      data: { _id: posted._id },
    });
  });

  it('renders a message text carrying HTML as text: no element is created and nothing runs', async () => {
    sim.control.postMessage('bob', 'GENERAL', XSS_TEXT);
    await waitForRow((r) => r.summary === `bob: ${XSS_TEXT}`, 'the HTML-looking message as text');
    await page.locator('#events-body tr', { hasText: 'onerror' }).first().click();
    expect(await page.textContent('#event-raw')).toContain('<img src=x onerror=');
    expect(await page.locator('#events-body td.summary', { hasText: XSS_TEXT }).count()).toBeGreaterThan(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('sends a message from the page and shows it go from queued to sent', async () => {
    await page.check('#topic-user');
    await page.click('#stream-connect'); // apply: now also the `user` topic (outbound.* events)
    await page.locator('#stream-status[data-state="live"]').waitFor();
    await page.fill('#send-room', 'GENERAL');
    await page.fill('#send-text', `from the console ${XSS_TEXT}`);
    await page.click('#send-submit');
    const row = page.locator('#sent-body tr').first();
    await row.waitFor();
    const jobId = await row.getAttribute('data-job-id');
    const messageId = await row.getAttribute('data-message-id');
    expect(jobId).toBeTruthy();
    await page
      .locator(`#sent-body tr[data-job-id="${jobId}"] td[data-status="sent"]`)
      .waitFor({ timeout: 20_000 });
    expect(await row.locator('td.text').textContent()).toBe(`from the console ${XSS_TEXT}`);
    // It reached Rocket.Chat with the id fixed at accept time, and came back as a live event.
    expect(sim.control.roomMessages('GENERAL').some((m) => m._id === messageId)).toBe(true);
    await waitForRow(
      (r) => r.type === 'message.created' && r.summary === `alice: from the console ${XSS_TEXT}`,
      "alice's own message in the list",
    );
    await waitForRow((r) => r.type === 'outbound.sent' && r.summary.includes(jobId ?? '?'), 'outbound.sent');
    expect(await page.locator('img').count()).toBe(0);
  });

  it('creates a webhook aimed at a local receiver, sends a test event and lists its delivery', async () => {
    await page.fill('#webhook-url', receiver.url);
    await page.fill('#webhook-topics', 'room:GENERAL');
    await page.fill('#webhook-description', 'console test');
    await page.fill('#webhook-filter', '{"excludeOwn": true, "senders": ["bob"]}');
    await page.click('#webhook-create');
    await page.locator('#webhook-secret').waitFor({ state: 'visible' });
    expect(await page.textContent('#webhook-secret .secret')).toMatch(/^whsec_/);
    const row = page.locator('#webhooks-body tr').first();
    const webhookId = await row.getAttribute('data-webhook-id');
    expect(webhookId).toMatch(/^wh_/);
    expect(await row.textContent()).toContain(receiver.url);
    // The webhook's content filter, as the API stored it.
    expect(await row.locator('.filter').textContent()).toBe('not my own; from bob');
    expect(JSON.parse((await row.locator('.filter').getAttribute('title')) ?? '')).toEqual({
      excludeOwn: true,
      senders: ['bob'],
    });

    await row.locator('button[data-action="test"]').click();
    const delivery = page.locator('#deliveries-body tr[data-outcome="success"]').first();
    await delivery.waitFor({ timeout: 20_000 });
    expect(await delivery.getAttribute('data-event-id')).toMatch(/^test_/);
    expect(await delivery.locator('.status-code').textContent()).toBe('204');
    expect(await delivery.locator('.attempt').textContent()).toBe('#1');
    expect(await delivery.locator('.duration').textContent()).toMatch(/^\d+ ms$/);
    expect(receiver.hits.some((hit) => JSON.parse(hit.body).type === 'webhook.test')).toBe(true);
    // The row shows the endpoint's statistics, refreshed with its deliveries.
    const stats = row.locator('.stats[data-success-rate="1"]');
    await stats.waitFor({ timeout: 20_000 });
    expect(await stats.getAttribute('data-pending')).toBe('0');
    expect(await stats.textContent()).toBe('100% of 1 · 0 pending · 0 dead');
    expect(await stats.getAttribute('title')).toContain('Last error: none');
  });

  it('creates a Rocket.Chat-format webhook and shows its token once', async () => {
    await page.fill('#webhook-url', receiver.url);
    await page.fill('#webhook-topics', 'room:GENERAL');
    await page.selectOption('#webhook-format', 'rocketchat');
    await page.click('#webhook-create');
    await page.locator('#webhook-secret .token').waitFor({ state: 'visible' });
    const token = await page.textContent('#webhook-secret .token');
    expect(token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const row = page.locator('#webhooks-body tr').last();
    expect(await row.locator('.format').textContent()).toBe('Rocket.Chat format');
    expect(await row.textContent()).not.toContain(token);
    await page.selectOption('#webhook-format', 'gateway');
  });

  it('resumes by itself after a dropped connection, replaying what it missed exactly once', async () => {
    const alice = sim.control.userId('alice');
    // Offline for a while: the browser's own retries fail until the route is lifted.
    await page.route('**/v1/events?**', (route) => route.abort());
    stack.dropSseConnections();
    await page.locator('#stream-status[data-state="reconnecting"]').waitFor();
    const missed = sim.control.postMessage('bob', 'GENERAL', 'posted while the page was offline');
    // Logged for alice (her webhook keeps GENERAL subscribed), so the resume can replay it.
    await waitFor(
      async () =>
        (await stack.core.eventLog.readAfter(alice, undefined, 1000)).events.some((e) =>
          e.json.includes(missed._id),
        ),
      15_000,
      'the missed message in the log',
    );
    await page.unroute('**/v1/events?**');
    await waitForRow((r) => r.summary === 'bob: posted while the page was offline', 'the replayed message');
    await page.locator('#stream-status[data-state="live"]').waitFor({ timeout: 20_000 });
    const live = 'live again after the drop';
    sim.control.postMessage('bob', 'GENERAL', live);
    await waitForRow((r) => r.summary === `bob: ${live}`, 'a live message after the resume');
    const rows = await eventRows();
    expect(rows.filter((r) => r.summary === 'bob: posted while the page was offline')).toHaveLength(1);
    expect(rows.filter((r) => r.summary === 'bob: hello from bob')).toHaveLength(1);
  });

  it('shows reconnect and gap markers when the replica goes away and the log was trimmed, then resumes', async () => {
    const alice = sim.control.userId('alice');
    const before = (await eventRows()).length;
    // Hold new streams off while the log is trimmed, so the resume asks for trimmed events.
    await page.route('**/v1/events?**', (route) => route.abort());
    stack.replaceSseHub();
    await waitForRow((r) => r.type === 'reconnect', 'the reconnect marker');
    await stack.core.redis.xtrim(stack.core.keys.user(alice).events, 'MAXLEN', 0);
    await page.unroute('**/v1/events?**');
    await waitForRow((r) => r.type === 'gap', 'the gap marker');
    await page.locator('#stream-status[data-state="live"]').waitFor({ timeout: 20_000 });
    sim.control.postMessage('bob', 'GENERAL', 'after the gap');
    await waitForRow((r) => r.summary === 'bob: after the gap', 'a live message after the resume');
    expect((await eventRows()).length).toBeGreaterThan(before);
    expect(pageProblems).toEqual([]);
  });
});
