/**
 * scripts/test-setup.sh, the first step of `npm test`: silent and quick when the tools are
 * there; where one is missing and cannot be installed (not root, or no apt-get), it stops with
 * the one command to run. (Installing is what CI's fresh machines exercise.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-setup.sh', import.meta.url));
// A PATH with `id` and nothing else: no redis-server, no promtool, no apt-get.
const bare = mkdtempSync(join(tmpdir(), 'test-setup-path-'));
symlinkSync('/usr/bin/id', join(bare, 'id'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

function run(env: Record<string, string | undefined>) {
  const startedAt = Date.now();
  const result = spawnSync('/bin/bash', [SCRIPT], { encoding: 'utf8', env: env as NodeJS.ProcessEnv });
  return { ...result, ms: Date.now() - startedAt };
}

describe('scripts/test-setup.sh', () => {
  it('does nothing, quietly and at once, when every tool is there', () => {
    const result = run({ ...process.env, REDIS_URL: undefined });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.ms).toBeLessThan(5_000);
  });

  it('names what is missing and the command that installs it, when it cannot install', () => {
    const result = run({ PATH: bare });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm test needs: redis-server prometheus');
    expect(result.stderr).toContain('apt-get install -y --no-install-recommends redis-server prometheus');
  });

  it('does not ask for redis-server when REDIS_URL names a Redis', () => {
    const result = run({ PATH: bare, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm test needs: prometheus');
  });
});
