/**
 * The example bot of README.md (examples/mention-bot.ts), run as written against a gateway and
 * the simulator: it answers a mention once, ignores other messages and its own, and after a
 * restart answers the mention it missed while it was down (its positions file).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../sim/index.js';
import { startTestGateway, type TestGateway } from '../../../test/helpers/test-gateway.js';
import { waitFor } from '../../../test/helpers/wait-for.js';
import { runMentionBot } from '../examples/mention-bot.js';
import { FilePositionStore } from '../src/index.js';

let sim: Simulator;
let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, rateLimits: false });
  gw = await startTestGateway({ redisUrl: inject('redisUrl'), rocketchatUrl: sim.url });
  dir = mkdtempSync(join(tmpdir(), 'gw-mention-bot-'));
});

afterAll(async () => {
  await gw?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const repliesTo = (text: string) =>
  sim.control
    .roomMessages('GENERAL')
    .filter((m) => m.u.username === 'alice' && m.msg === `@bob you said: ${text}`);

function startBot(positions: string) {
  const controller = new AbortController();
  let failure: unknown;
  const running = runMentionBot(
    gw.url,
    { username: 'alice', password: 'alice-pass' },
    positions,
    controller.signal,
  ).catch((err: unknown) => {
    failure = err;
  });
  return {
    failure: () => failure,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

/**
 * A new bot starts live: posts small talk until the bot has handled one message (its position
 * is saved), so that what the test posts next is certainly seen.
 */
async function untilLive(positions: string): Promise<void> {
  for (let attempt = 0; attempt < 30; attempt++) {
    sim.control.postMessage('bob', 'GENERAL', `small talk ${attempt}`);
    const saved = await waitFor(
      () => new FilePositionStore(positions).load('events:rooms'),
      1000,
      'a saved position',
    ).catch(() => undefined);
    if (saved) return;
  }
  throw new Error('the bot never went live');
}

describe('the README mention bot', () => {
  it('is what README.md shows, line for line (the import named as a user of the package writes it)', () => {
    const example = readFileSync(new URL('../examples/mention-bot.ts', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('// biome-ignore-all'))
      .join('\n')
      .trim()
      .replace("'../src/index.js'", "'@rocketchat-gateway/client'");
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\n\`\`\``);
    // About twenty lines, as promised.
    expect(example.split('\n').length).toBeLessThanOrEqual(20);
  });

  it('replies to mentions once, ignores the rest, and catches up after a restart', async () => {
    const positions = join(dir, 'alice-positions.json');
    const bot = startBot(positions);
    try {
      await untilLive(positions);
      sim.control.postMessage('bob', 'GENERAL', 'no mention here');
      sim.control.postMessage('alice', 'GENERAL', 'talking to myself, @alice');
      sim.control.postMessage('bob', 'GENERAL', '@alice ping');
      await waitFor(() => repliesTo('@alice ping').length > 0, 20_000, 'the reply to the mention');
    } finally {
      await bot.stop();
    }
    expect(bot.failure()).toBeUndefined();

    // Down: a mention arrives; the restarted bot answers it from where it stopped.
    sim.control.postMessage('bob', 'GENERAL', '@alice are you there?');
    const restarted = startBot(positions);
    try {
      await waitFor(
        () => repliesTo('@alice are you there?').length > 0,
        20_000,
        'the reply after the restart',
      );
    } finally {
      await restarted.stop();
    }
    expect(restarted.failure()).toBeUndefined();
    expect(repliesTo('@alice ping')).toHaveLength(1);
    expect(repliesTo('@alice are you there?')).toHaveLength(1);
    const fromAlice = sim.control.roomMessages('GENERAL').filter((m) => m.u.username === 'alice');
    expect(
      fromAlice.filter((m) => m.msg.includes('no mention here') || m.msg.includes('talking to myself')),
    ).toEqual([expect.objectContaining({ msg: 'talking to myself, @alice' })]);
  });
});
