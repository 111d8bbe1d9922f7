/**
 * The SSE bench's servers as the image runs the gateway: compiled JavaScript under plain `node`
 * (the Dockerfile's `node dist/src/main.js`), not TypeScript compiled in process by tsx, whose
 * loader and compiled-source cache were ~100 MiB of every server's RSS before its first
 * connection. The bare and better-sse servers are the same compiled harness, so all three pay the
 * same runtime.
 *
 * `buildHarness()` is `npm run build` (src/ and sim/ with the build's compiler options into
 * dist/, then the Redis scripts shipped beside their modules) with bench/support/sse-server.ts
 * compiled alongside (bench/tsconfig.build.json).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stats.js';

/** The compiled server harness, relative to the repository root. */
export const BUILT_SSE_SERVER = 'dist/bench/support/sse-server.js';

/**
 * What the image sets for the process (Dockerfile `ENV`): glibc's malloc arenas capped, and
 * production mode. Given to every server alike; a value in the bench's own environment wins.
 */
export function deployedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, MALLOC_ARENA_MAX: env['MALLOC_ARENA_MAX'] ?? '2', NODE_ENV: 'production' };
}

export function buildHarness(): void {
  // A minute of silence on a slow machine looks like a hang.
  process.stdout.write('building the servers into dist/ (tsc, 20-60 s)...\n');
  const startedAt = Date.now();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'bench/tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, ['dist/src/redis/ship-scripts-main.js'], { cwd: ROOT, stdio: 'ignore' });
  process.stdout.write(`built in ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`);
}
