/**
 * `npm run build` as the Docker build stage runs it (package.json, the tsconfigs and src/ only):
 * tsc copies no `.lua` files, so the build's second step must put every script beside its
 * compiled module, and what it builds must load and run them against a real Redis. Slow (a
 * whole tsc build), which is why it is one test.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findScriptFiles } from '../../src/redis/script-files.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let server: PrivateRedis;
let workdir: string;

beforeAll(async () => {
  server = await startPrivateRedis();
  workdir = mkdtempSync(join(tmpdir(), 'gw-build-'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) {
    cpSync(join(ROOT, file), join(workdir, file));
  }
  cpSync(join(ROOT, 'src'), join(workdir, 'src'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'));
});

afterAll(async () => {
  await server.close();
  rmSync(workdir, { recursive: true, force: true });
});

describe('npm run build', () => {
  it('ships every Redis script beside its compiled module, and the built code runs them', async () => {
    const build = await run('npm', ['run', 'build'], { cwd: workdir, timeout: 240_000 });
    const scripts = findScriptFiles(join(ROOT, 'src')).map((file) => relative(ROOT, file));
    expect(build.stdout).toContain(`${scripts.length} Redis scripts shipped`);
    const shipped = findScriptFiles(join(workdir, 'dist', 'src')).map((file) =>
      relative(join(workdir, 'dist'), file),
    );
    expect(shipped).toEqual(scripts);

    // The built modules read their scripts at import and run them (by SHA, or from source).
    const probe = `
      const { Redis } = await import('ioredis');
      const { OwnerLease } = await import('./dist/src/redis/owner-lease.js');
      const redis = new Redis(process.argv[1]);
      const lease = new OwnerLease({ redis, ttlMs: 60000 });
      const out = [await lease.acquire('b:lease', 'x'), await lease.renew('b:lease', 'x'), await lease.release('b:lease', 'x')];
      await redis.quit();
      console.log(JSON.stringify(out));`;
    const probed = await run(process.execPath, ['--input-type=module', '-e', probe, server.url], {
      cwd: workdir,
      timeout: 30_000,
    });
    expect(JSON.parse(probed.stdout)).toEqual([true, true, true]);
  }, 300_000);
});
