/**
 * The SSE stream in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core opens a native `EventSource` with `?access_token=` (browsers cannot send an
 * Authorization header on an EventSource), receives a message posted in the simulator, and
 * resumes with `?lastEventId=` after closing. The page is the gateway's own `/healthz`, so the
 * stream is same-origin and needs no CORS.
 *
 * No silent skip: without Chromium this file fails and says how to install it.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { launchChromium, requireChromium } from '../helpers/chromium.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

/** What the page records, kept on `window` so the test can read it with `page.evaluate`. */
interface PageEvent {
  readonly stream: string;
  readonly type: string;
  readonly lastEventId: string;
  readonly data: string;
}

/**
 * The page's globals, typed here because the project compiles without the DOM library: the
 * functions given to `page.evaluate` run in Chromium, where these exist.
 */
interface BrowserEventSource {
  readonly readyState: number;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: string, listener: (event: { data: string; lastEventId: string }) => void): void;
  close(): void;
}

interface PageGlobals {
  readonly EventSource: { new (url: string): BrowserEventSource; readonly CLOSED: number };
  sseEvents?: PageEvent[];
  sseErrors?: string[];
  sseSources?: Record<string, BrowserEventSource>;
}

let sim: Simulator;
let gw: TestGateway;
let browser: Browser | undefined;
let page: Page;

async function sseToken(accessToken: string): Promise<string> {
  const response = await fetch(`${gw.url}/v1/sessions/sse-token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { token: string; expiresAt: string };
  expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
  return body.token;
}

/** Opens a native EventSource in the page; resolves once it is open (rejects on an early error). */
function openInPage(name: string, url: string): Promise<void> {
  return page.evaluate(
    ({ name, url }) =>
      new Promise<void>((resolve, reject) => {
        const page = globalThis as unknown as PageGlobals;
        page.sseEvents ??= [];
        page.sseErrors ??= [];
        page.sseSources ??= {};
        const { sseEvents: events, sseErrors: errors } = page;
        const source = new page.EventSource(url);
        page.sseSources[name] = source;
        for (const type of ['message.created', 'message.updated', 'gap']) {
          source.addEventListener(type, (event) => {
            events.push({ stream: name, type, lastEventId: event.lastEventId, data: event.data });
          });
        }
        source.onopen = () => resolve();
        source.onerror = () => {
          errors.push(`${name}: readyState ${source.readyState}`);
          if (source.readyState === page.EventSource.CLOSED) reject(new Error(`${name} failed to open`));
        };
      }),
    { name, url },
  );
}

function closeInPage(name: string): Promise<void> {
  return page.evaluate((name) => (globalThis as unknown as PageGlobals).sseSources?.[name]?.close(), name);
}

function pageEvents(): Promise<PageEvent[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).sseEvents ?? []);
}

function pageErrors(): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).sseErrors ?? []);
}

beforeAll(async () => {
  requireChromium();
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
  browser = await launchChromium();
  page = await browser.newPage();
  // Same origin as the stream: the page needs no CORS to read it.
  const health = await page.goto(`${gw.url}/healthz`);
  expect(health?.status()).toBe(200);
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await sim?.close();
});

describe('SSE in a browser (headless Chromium)', () => {
  it('a native EventSource with ?access_token= receives a message posted in Rocket.Chat, and resumes with ?lastEventId=', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'alice');
    const query = `topics=room:GENERAL&access_token=${encodeURIComponent(await sseToken(token))}`;
    await openInPage('first', `/v1/events?${query}`);

    const posted = sim.control.postMessage('bob', 'GENERAL', 'hello, browser');
    const first = await waitFor(
      async () => (await pageEvents()).find((e) => e.stream === 'first' && e.data.includes(posted._id)),
      15_000,
      'the message in the page',
    );
    const envelope = JSON.parse(first.data) as {
      id: string;
      type: string;
      userId: string;
      roomId: string;
      data: { _id: string; msg: string };
    };
    expect(first.type).toBe('message.created');
    expect(first.lastEventId).toBe(envelope.id);
    expect(envelope).toMatchObject({
      type: 'message.created',
      userId,
      roomId: 'GENERAL',
      data: { _id: posted._id, msg: 'hello, browser' },
    });

    // Closed, a message is missed; a new EventSource (which cannot send Last-Event-ID on a first
    // connection) resumes with ?lastEventId= and gets exactly the missed one, then live ones.
    await closeInPage('first');
    const missed = sim.control.postMessage('bob', 'GENERAL', 'missed while closed');
    await waitFor(
      async () => (await gw.gateway.core.eventLog.readAfter(userId, first.lastEventId, 10)).events.length > 0,
      15_000,
      'the missed message in the log',
    );
    await openInPage('resumed', `/v1/events?${query}&lastEventId=${encodeURIComponent(first.lastEventId)}`);
    const live = sim.control.postMessage('bob', 'GENERAL', 'live after resume');
    await waitFor(
      async () => (await pageEvents()).some((e) => e.stream === 'resumed' && e.data.includes(live._id)),
      15_000,
      'the live message after the resume',
    );
    const resumed = (await pageEvents()).filter((e) => e.stream === 'resumed');
    expect(resumed.map((e) => (JSON.parse(e.data) as { data: { _id: string } }).data._id)).toEqual([
      missed._id,
      live._id,
    ]);
    expect(await pageErrors()).toEqual([]);
    await closeInPage('resumed');
  });
});
