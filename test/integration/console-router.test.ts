/**
 * `/console` as served by the gateway (`startGateway`, role `api`, with the app-wide helmet): the page and its
 * assets, the console's own strict Content-Security-Policy replacing the app-wide one, the
 * trailing-slash redirect, the switch (`CONSOLE_ENABLED`), where the assets are found after a
 * build, and two static checks on the files: no inline script or style anywhere, and the event
 * types the page listens for are exactly the gateway's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consoleAssetDirs, createConsoleRouter, findConsoleAssets } from '../../src/console/index.js';
import { eventCatalogue } from '../../src/events/event-schemas.js';
import { EVENT_TYPES } from '../../src/events/types.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const ASSETS = fileURLToPath(new URL('../../src/console/static/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

let enabled: TestGateway;
let disabled: TestGateway;

beforeAll(async () => {
  // The API role holds no sessions: no Rocket.Chat is needed to serve the console.
  const options = { redisUrl: inject('redisUrl'), rocketchatUrl: 'http://127.0.0.1:9' };
  enabled = await startTestGateway({ ...options, env: { GATEWAY_ROLE: 'api', CONSOLE_ENABLED: 'true' } });
  disabled = await startTestGateway({ ...options, env: { GATEWAY_ROLE: 'api', CONSOLE_ENABLED: 'false' } });
});

afterAll(async () => {
  await enabled?.close();
  await disabled?.close();
});

/** The gateway's URL, for supertest. */
function appFor(gateway: TestGateway): string {
  return gateway.url;
}

function cspOf(header: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values.join(' '));
  }
  return directives;
}

describe('GET /console', () => {
  it('redirects /console to /console/ (relative, so a path prefix survives) and keeps the query', async () => {
    const app = appFor(enabled);
    const bare = await request(app).get('/console');
    expect(bare.status).toBe(301);
    expect(bare.headers['location']).toBe('console/');
    const withQuery = await request(app).get('/console?x=1');
    expect(withQuery.headers['location']).toBe('console/?x=1');
  });

  it('serves the page with a strict CSP of its own: self only, no inline script or style', async () => {
    const response = await request(appFor(enabled)).get('/console/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toContain('<form id="signin-form"');
    const csp = cspOf(response.headers['content-security-policy']);
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('script-src-attr')).toBe("'none'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(csp.get('connect-src')).toBe("'self'");
    expect(csp.get('object-src')).toBe("'none'");
    expect(csp.get('frame-ancestors')).toBe("'none'");
    // Not the app-wide helmet default, which allows inline styles and https: anywhere.
    expect(response.headers['content-security-policy']).not.toMatch(/unsafe-inline|https:|data:/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('serves the scripts as JavaScript and the stylesheet as CSS; unknown files are the JSON 404', async () => {
    const app = appFor(enabled);
    const script = await request(app).get('/console/main.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    const css = await request(app).get('/console/console.css');
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const missing = await request(app).get('/console/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'GW_ERR_NOT_FOUND' });
    const traversal = await request(app).get('/console/..%2f..%2fpackage.json');
    expect(traversal.status).toBe(404);
  });

  it('is the ordinary 404 when CONSOLE_ENABLED=false', async () => {
    const app = appFor(disabled);
    for (const path of ['/console', '/console/', '/console/main.js']) {
      const response = await request(app).get(path);
      expect(response.status, path).toBe(404);
      expect(response.body).toMatchObject({ error: 'GW_ERR_NOT_FOUND' });
    }
  });

  it('fails at once when enabled but its files are missing', () => {
    expect(() =>
      createConsoleRouter(enabled.gateway.core.config, { assetsDir: '/nonexistent/console' }),
    ).toThrow(/console's files are missing/);
  });
});

describe('console assets', () => {
  it('are found beside the module from source, and in src/console/static from dist/ after a build', () => {
    expect(findConsoleAssets()).toBe(ASSETS);
    const built = pathToFileURL(`${REPO}dist/src/console/console-router.js`).href;
    expect(consoleAssetDirs(built)).toEqual([`${REPO}dist/src/console/static/`, ASSETS]);
  });

  it('have no inline script, inline style, event-handler attribute or external URL', () => {
    const html = readFileSync(`${ASSETS}index.html`, 'utf8');
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="[^":]+"/);
    expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    for (const file of readdirSync(ASSETS)) {
      const text = readFileSync(`${ASSETS}${file}`, 'utf8');
      expect(text, file).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//i);
      expect(text, file).not.toMatch(/@import|url\(\s*['"]?https?:/i);
      // Data goes into the DOM as text only.
      expect(text, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('takes the event types to listen for from GET /v1/event-types, which lists EVENT_TYPES', () => {
    const script = readFileSync(`${ASSETS}events-panel.js`, 'utf8');
    expect(script).toContain("apiUrl('v1/event-types')");
    expect(script).toContain('catalogue.eventTypes.map((entry) => entry.type)');
    // No list of its own to fall out of step.
    expect(script).not.toMatch(/'message\.created'/);
    expect(eventCatalogue().map((entry) => entry.type)).toEqual([...EVENT_TYPES]);
  });
});
