/**
 * `npm run bench`: every bench/*.bench.ts in turn, each in its own Node process (with
 * --expose-gc, which the memory benchmarks read after full collections), with modest settings
 * so the whole run fits in a few minutes. Output goes straight through. A failing benchmark is
 * reported and the rest still run; the exit code says whether all passed.
 *
 * Usage: tsx bench/run-all.ts [name-substring...]   e.g. `npm run bench -- ddp`
 * For the figures in bench/RESULTS.md, run a benchmark alone with its own defaults.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from './support/stats.js';

/** Smaller than each benchmark's own defaults; unknown benchmarks run with theirs. */
const MODEST_ARGS: Readonly<Record<string, readonly string[]>> = {
  'ddp-ingest.bench.ts': ['--frames', '100000', '--rounds', '3'],
  'ddp-sessions.bench.ts': ['--sessions', '1000', '--rounds', '1'],
  'incoming.bench.ts': ['--posts', '500', '--rounds', '2', '--seconds', '3'],
  'outbound.bench.ts': ['--messages', '500', '--rounds', '2', '--paced-seconds', '2'],
  'sessions.bench.ts': ['--users', '200', '--seconds', '5'],
  'sse-fanout.bench.ts': ['--rounds', '1', '--deliveries', '200000', '--idle', '1000'],
  'takeover.bench.ts': ['--kills', '5'],
};

function run(file: string, args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join('bench', file), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.once('error', (err) => {
      console.error(`${file}: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = (await readdir(join(ROOT, 'bench')))
    .filter((name) => name.endsWith('.bench.ts'))
    .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
    .sort();
  const outcomes: [string, number, number][] = [];
  for (const file of files) {
    const args = MODEST_ARGS[file] ?? [];
    console.log(`\n=== ${file} ${args.join(' ')}`.trimEnd());
    const started = performance.now();
    const code = await run(file, args);
    outcomes.push([file, code, (performance.now() - started) / 1000]);
  }
  console.log('\n=== summary');
  for (const [file, code, seconds] of outcomes) {
    console.log(`  ${code === 0 ? 'ok    ' : `FAILED (exit ${code})`} ${file} in ${seconds.toFixed(0)} s`);
  }
  process.exitCode = outcomes.some(([, code]) => code !== 0) ? 1 : 0;
}

void main();
