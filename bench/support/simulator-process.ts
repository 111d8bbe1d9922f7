/**
 * The Rocket.Chat simulator in a child process, for benchmarks: the process being measured then
 * holds only the client side, and the simulator's own memory and CPU stay out of the figures.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startChild } from './stats.js';

export interface SimulatorProcess {
  /** `http://127.0.0.1:PORT` (REST at `/api/v1`, control at `/sim/`). */
  readonly url: string;
  /** `ws://127.0.0.1:PORT/websocket`. */
  readonly wsUrl: string;
  /** A call to the control API under `/sim/` (sim/control-routes.ts). */
  control<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Flags as `npm run sim` takes them, e.g. `['--no-rate-limits', '--heartbeat-interval-ms', '0']`. */
export async function startSimulatorProcess(flags: readonly string[] = []): Promise<SimulatorProcess> {
  const { child, firstLine } = await startChild('sim/main.ts', ['--port', '0', ...flags]);
  // "Rocket.Chat simulator listening: http://127.0.0.1:PORT (DDP ws://..., control ...)"
  const url = /http:\/\/[^\s,)]+/.exec(firstLine)?.[0]?.replace(/\/$/, '');
  if (!url) {
    child.kill('SIGKILL');
    throw new Error(`unexpected first line from the simulator: ${firstLine}`);
  }
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/websocket`,
    control: (method, path, body) => control(url, method, path, body),
    close: () => stop(child),
  };
}

async function control<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}/sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} /sim${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
