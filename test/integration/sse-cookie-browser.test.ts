/**
 * The SSE cookie (src/http/auth/events-cookie.ts) in a real browser: headless Chromium (Debian's
 * `chromium`) driven by playwright-core, as test/integration/sse-browser.test.ts does.
 *
 * - A page of the gateway's own origin calls `POST /v1/events/cookie` with its bearer token, then
 *   a native `EventSource` (`withCredentials`) with no token in its URL receives a message posted
 *   in the simulator; page scripts cannot read the cookie (HttpOnly).
 * - Cookies ignore ports, so a page on `127.0.0.1:<other port>` is the same site: the browser
 *   sends the cookie. Listed in `CORS_ORIGINS`, that page streams (credentialed CORS); unlisted,
 *   the gateway refuses it by its `Origin` (403).
 * - A page on `localhost:<port>` is another site (`localhost` and `127.0.0.1` are different
 *   hosts): even listed in `CORS_ORIGINS`, its EventSource reaches the gateway without the cookie
 *   (SameSite=Strict) and is refused 401; nor can it plant a cookie of its own choosing.
 *
 * No silent skip: without Chromium this file fails and says how to install it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../sim/index.js';
import { launchChromium, requireChromium } from '../helpers/chromium.js';
import { loginThroughGateway, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { waitFor } from '../helpers/wait-for.js';

/** The page's globals, typed here because the project compiles without the DOM library. */
interface BrowserEventSource {
  readonly readyState: number;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(type: string, listener: (event: { data: string }) => void): void;
  close(): void;
}

interface PageGlobals {
  readonly EventSource: {
    new (url: string, init: { withCredentials: boolean }): BrowserEventSource;
    readonly CLOSED: number;
  };
  readonly document: { readonly cookie: string };
  fetch(
    url: string,
    init: { method: string; headers?: Record<string, string>; credentials?: 'include' },
  ): Promise<{ status: number }>;
  received?: string[];
  source?: BrowserEventSource;
}

let sim: Simulator;
let gw: TestGateway;
let browser: Browser | undefined;
/** One context, one cookie jar for every page (`browser.newPage()` would give each its own). */
let context: BrowserContext;
/** Serves an empty page on its own ports: the "other origins" of the test. */
let listedPages: Server;
let unlistedPages: Server;

function startPageServer(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function newPageAt(url: string): Promise<Page> {
  const page = await context.newPage();
  const answer = await page.goto(url);
  expect(answer?.status()).toBe(200);
  return page;
}

/** Sets the cookie from a page of the gateway's own origin (SameSite=Strict stores it for 127.0.0.1). */
async function takeCookieInPage(page: Page, token: string): Promise<number> {
  return page.evaluate(async (token) => {
    const page = globalThis as unknown as PageGlobals;
    const answer = await page.fetch('/v1/events/cookie', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    return answer.status;
  }, token);
}

/**
 * Opens an EventSource with credentials and no token in the URL; resolves "open" once it is
 * open, or "closed" when the browser gave up on it (a refusal: any non-200).
 */
function openInPage(page: Page, url: string): Promise<'open' | 'closed'> {
  return page.evaluate(
    (url) =>
      new Promise<'open' | 'closed'>((resolve) => {
        const page = globalThis as unknown as PageGlobals;
        page.received = [];
        const source = new page.EventSource(url, { withCredentials: true });
        page.source = source;
        source.addEventListener('message.created', (event) => page.received?.push(event.data));
        source.onopen = () => resolve('open');
        source.onerror = () => {
          if (source.readyState === page.EventSource.CLOSED) resolve('closed');
        };
      }),
    url,
  );
}

function receivedIn(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).received ?? []);
}

/** The status the gateway logged for the request tagged `probe`. */
function loggedStatus(probe: string): Promise<number> {
  return waitFor(
    () => {
      for (const line of gw.logLines) {
        const entry = JSON.parse(line) as { msg?: string; url?: string; status?: number };
        if (entry.msg === 'request' && entry.url?.includes(`probe=${probe}`)) return entry.status;
      }
      return undefined;
    },
    15_000,
    `the gateway's log line for probe=${probe}`,
  );
}

beforeAll(async () => {
  requireChromium();
  listedPages = await startPageServer();
  unlistedPages = await startPageServer();
  const listed = portOf(listedPages);
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({
    redisUrl: inject('redisUrl'),
    rocketchatUrl: sim.url,
    env: { CORS_ORIGINS: `http://127.0.0.1:${listed},http://localhost:${listed}` },
  });
  browser = await launchChromium();
  context = await browser.newContext();
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await sim?.close();
  listedPages?.close();
  unlistedPages?.close();
});

describe('the SSE cookie in a browser (headless Chromium)', () => {
  it('an EventSource with withCredentials streams with the cookie alone; same-site pages only when listed; other sites never', async () => {
    const { token, userId } = await loginThroughGateway(gw.url, 'alice');
    const own = await newPageAt(`${gw.url}/healthz`);
    expect(await takeCookieInPage(own, token)).toBe(201);
    // HttpOnly: invisible to page scripts.
    expect(await own.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).not.toContain(
      'gw_events',
    );

    const events = `${gw.url}/v1/events?topics=room:GENERAL`;
    expect(await openInPage(own, `${events}&probe=own`)).toBe('open');
    const sameSite = await newPageAt(`http://127.0.0.1:${portOf(listedPages)}/`);
    expect(await openInPage(sameSite, `${events}&probe=listed`)).toBe('open');

    const posted = sim.control.postMessage('bob', 'GENERAL', 'hello, cookie');
    for (const page of [own, sameSite]) {
      const data = await waitFor(
        async () => (await receivedIn(page)).find((d) => d.includes(posted._id)),
        15_000,
        'the message in the page',
      );
      expect(JSON.parse(data)).toMatchObject({ type: 'message.created', userId, data: { _id: posted._id } });
    }

    // Same site, unlisted origin: the cookie is sent, the gateway refuses the origin.
    const unlisted = await newPageAt(`http://127.0.0.1:${portOf(unlistedPages)}/`);
    expect(await openInPage(unlisted, `${events}&probe=unlisted`)).toBe('closed');
    expect(await loggedStatus('unlisted')).toBe(403);

    // Another site, even one listed in CORS_ORIGINS: SameSite=Strict keeps the cookie home.
    const crossSite = await newPageAt(`http://localhost:${portOf(listedPages)}/`);
    expect(await openInPage(crossSite, `${events}&probe=cross-site`)).toBe('closed');
    expect(await loggedStatus('cross-site')).toBe(401);
    expect(await receivedIn(crossSite)).toEqual([]);

    // DELETE clears it: the own page's next EventSource is refused.
    const cleared = await own.evaluate(async () => {
      const page = globalThis as unknown as PageGlobals;
      page.source?.close();
      return (await page.fetch('/v1/events/cookie', { method: 'DELETE' })).status;
    });
    expect(cleared).toBe(204);
    expect(await openInPage(own, `${events}&probe=after-delete`)).toBe('closed');
    expect(await loggedStatus('after-delete')).toBe(401);
  });

  it('another site cannot plant its own cookie in the browser (login CSRF), even when CORS lets it call', async () => {
    const { token: attackerToken } = await loginThroughGateway(gw.url, 'carol');
    const crossSite = await newPageAt(`http://localhost:${portOf(listedPages)}/`);
    const planted = await crossSite.evaluate(
      async ({ url, token }) => {
        const page = globalThis as unknown as PageGlobals;
        const answer = await page.fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          credentials: 'include',
        });
        return answer.status;
      },
      { url: `${gw.url}/v1/events/cookie`, token: attackerToken },
    );
    // The gateway answered (the origin is listed), but the browser kept no SameSite=Strict cookie
    // from a cross-site response: the gateway's own pages still have none.
    expect(planted).toBe(201);
    const own = await newPageAt(`${gw.url}/healthz`);
    expect(await openInPage(own, `${gw.url}/v1/events?topics=room:GENERAL&probe=planted`)).toBe('closed');
    expect(await loggedStatus('planted')).toBe(401);
  });
});
