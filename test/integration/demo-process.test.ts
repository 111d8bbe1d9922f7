/**
 * `npm run demo` end to end, as a user runs it (less the `npm install`): `tsx scripts/demo.ts`
 * as a child process with free ports, in a process group of its own like a terminal's foreground
 * job. It must print the console URL; the console must load in Chromium, sign alice in and show
 * bob's chatter live; and Ctrl-C (SIGINT to the whole group, as a terminal sends it) must stop
 * it cleanly: exit code 0, nothing left listening, and no process it started still running
 * (the tsx child, the private redis-server).
 *
 * No silent skip: without Chromium this file fails and says how to install it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from '../helpers/chromium.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = `${REPO}node_modules/tsx/dist/cli.mjs`;

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly state: string;
  readonly name: string;
}

/** Every process on the machine, from /proc (Linux). */
function processes(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while listing
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const [state = '', ppid = '0', pgid = '0'] = stat.slice(close + 2).split(' ');
    list.push({
      pid: Number(entry),
      ppid: Number(ppid),
      pgid: Number(pgid),
      state,
      name: stat.slice(stat.indexOf('(') + 1, close),
    });
  }
  return list;
}

/** `root` and everything it started, transitively. */
function processTree(root: number): ProcessInfo[] {
  const all = processes();
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) {
    const parent = tree[i]?.pid;
    tree.push(...all.filter((p) => p.ppid === parent));
  }
  return tree;
}

/** Running (a zombie has finished; only its exit status is left for its parent). */
function isRunning(pid: number): boolean {
  const info = processes().find((p) => p.pid === pid);
  return info !== undefined && info.state !== 'Z';
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let demo: ChildProcess | undefined;
let browser: Browser | undefined;
let output = '';

beforeAll(() => {
  requireChromium();
});

afterAll(async () => {
  await browser?.close();
  // Only if the test failed before stopping it: the whole group, at once.
  if (demo?.pid !== undefined && demo.exitCode === null && demo.signalCode === null) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('npm run demo', () => {
  it('prints the console URL, serves a working console, and stops everything on Ctrl-C', async () => {
    const [port, simPort] = [await freePort(), await freePort()];
    const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn' };
    // The demo's own private Redis is part of what is tested.
    delete env['REDIS_URL'];
    delete env['PORT'];
    delete env['NODE_ENV'];
    const child = spawn(
      process.execPath,
      [TSX, 'scripts/demo.ts', '--port', String(port), '--sim-port', String(simPort), '--chatter-ms', '300'],
      { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    demo = child;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });

    const consoleUrl = await waitFor(
      () => /Console:\s+(http:\/\/\S+)/.exec(output)?.[1],
      60_000,
      `the console URL line (output so far: ${output})`,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n--- demo output ---\n${output}`);
    });
    // The port asked for, unless another process of the parallel suite took it between
    // `freePort()` and the demo's listen: the demo then takes a free one and prints that (as it
    // does when 3000 is taken), which is what a user follows.
    const servedPort = Number(/^http:\/\/127\.0\.0\.1:(\d+)\/console\/$/.exec(consoleUrl)?.[1]);
    expect(servedPort, consoleUrl).toBeGreaterThan(0);
    // The users are printed after the URL line; stdout may deliver them in a later chunk.
    await waitFor(() => output.includes('alice / alice-pass'), 10_000, 'the seeded users printed');
    expect(output).toContain('bob / bob-pass');
    expect(output).toContain('carol / carol-pass');
    // The simulator's port likewise: the one asked for unless it was taken meanwhile.
    const servedSimPort = Number(/Rocket\.Chat \(sim\):\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(servedSimPort, output).toBeGreaterThan(0);

    // What it started: the tsx child (node) and the private redis-server, all in its group.
    const tree = processTree(child.pid!);
    expect(tree.map((p) => p.name)).toContain('redis-server');
    expect(tree.every((p) => p.pgid === child.pid)).toBe(true);

    browser = await launchChromium();
    const page = await browser.newPage();
    expect((await page.goto(consoleUrl))?.status()).toBe(200);
    await page.fill('#signin-username', 'alice');
    await page.fill('#signin-password', 'alice-pass');
    await page.click('#signin-submit');
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.click('#stream-connect');
    await page.locator('#stream-status[data-state="live"]').waitFor({ timeout: 20_000 });
    await page
      .locator('#events-body tr[data-type="message.created"]', { hasText: 'bob:' })
      .first()
      .waitFor({ timeout: 20_000 });
    await browser.close();
    browser = undefined;

    // Ctrl-C in a terminal: SIGINT to every process of the foreground group.
    process.kill(-child.pid!, 'SIGINT');
    const { code, signal } = await exited;
    // The demo exits 0 once everything is stopped; tsx, relaying the signal, may report the
    // interrupt itself as 130 (128 + SIGINT), as shells do. Never killed by a signal.
    expect(signal, output).toBeNull();
    expect([0, 130], output).toContain(code);
    expect(output).toMatch(/^stopped$/m);
    await waitFor(() => tree.every((p) => !isRunning(p.pid)), 10_000, 'every process of the demo to end');
    expect(await isListening(servedPort)).toBe(false);
    expect(await isListening(servedSimPort)).toBe(false);
  });
});
