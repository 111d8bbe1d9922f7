/**
 * `npm run screenshot`: docs/console.png, the console as README.md shows it. Starts the demo
 * (scripts/demo.ts: simulator, private Redis unless `REDIS_URL`, gateway) on free ports, drives
 * headless Chromium (Debian's `chromium`, `apt-get install chromium`) through a short session
 * (alice signs in and watches GENERAL, bob and carol talk, alice sends a message, creates a
 * webhook aimed at the demo's receiver and sends it a test event), then saves the page.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/helpers/chromium.js';
import { freePort } from '../test/helpers/redis-server.js';
import { type RunningDemo, startDemo } from './demo.js';

const OUTPUT = fileURLToPath(new URL('../docs/console.png', import.meta.url));
const STEP_TIMEOUT_MS = 20_000;

async function main(): Promise<void> {
  let demo: RunningDemo | undefined;
  const browser = await launchChromium();
  try {
    demo = await startDemo({
      port: await freePort(),
      simPort: await freePort(),
      chatterMs: 0, // the conversation below is scripted, so the picture is the same every time
      env: { ...process.env, LOG_LEVEL: 'error' },
      print: () => undefined,
    });
    const sim = demo.simulator.control;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);

    await page.goto(demo.consoleUrl);
    await page.fill('#signin-username', 'alice');
    await page.fill('#signin-password', 'alice-pass');
    await page.click('#signin-submit');
    await page.locator('#app').waitFor({ state: 'visible' });
    // room:GENERAL only: the `user` topic adds a room and a subscription change per message.
    await page.uncheck('#topic-user');
    await page.click('#stream-connect');
    await page.locator('#stream-status[data-state="live"]').waitFor();

    const said = [
      ['bob', 'deploy went out, watching the graphs'],
      ['carol', 'all green on my side'],
      ['bob', 'message text is untrusted: <img src=x onerror=alert(1)> stays text'],
    ] as const;
    for (const [user, text] of said) {
      sim.postMessage(user, 'GENERAL', text);
      await page.locator('#events-body tr', { hasText: text }).first().waitFor();
    }

    await page.fill('#send-text', 'thanks both, closing the incident');
    await page.click('#send-submit');
    await page.locator('#sent-body td[data-status="sent"]').first().waitFor();

    await page.fill('#webhook-url', demo.receiverUrl);
    await page.fill('#webhook-description', 'incident bot');
    await page.click('#webhook-create');
    await page.locator('#webhooks-body tr').first().waitFor();
    await page.locator('#webhooks-body button[data-action="test"]').first().click();
    await page.locator('#deliveries-body tr[data-outcome="success"]').first().waitFor();

    await page.locator('#events-body tr', { hasText: 'all green' }).first().click();
    mkdirSync(fileURLToPath(new URL('../docs/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: OUTPUT, fullPage: true });
    console.log(`saved ${OUTPUT}`);
  } finally {
    await browser.close();
    await demo?.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`screenshot failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
