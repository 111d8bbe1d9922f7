/**
 * The Redis scripts and their one loader (src/redis/lua-script.ts): every `.lua` file under src/
 * is read by the module that owns it, every script compiles on a real Redis and runs by SHA,
 * falling back to its source after `SCRIPT FLUSH`; includes and constants are resolved before
 * the SHA is taken; a broken script file fails at import, not on its first use.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaScript, loadedLuaScripts } from '../../src/redis/lua-script.js';
import { OwnerLease } from '../../src/redis/owner-lease.js';
import { checkScriptFiles, owningModule } from '../../src/redis/script-files.js';
import { WEBHOOK_FIELDS } from '../../src/webhooks/webhook-store.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

let server: PrivateRedis;
let redis: Redis;
let scratch: string;

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
  scratch = mkdtempSync(join(tmpdir(), 'gw-lua-'));
});

afterAll(async () => {
  await redis.quit();
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the scripts under src/', () => {
  it('are each read by the module beside their folder, and none is stray', async () => {
    const check = await checkScriptFiles(SRC, 'ts');
    expect(check.brokenModules).toEqual([]);
    expect(check.unloaded).toEqual([]);
    // The folders of the script-owning modules: a script moved out of them would be caught above.
    expect(check.files.length).toBeGreaterThanOrEqual(29);
    expect(owningModule(join(SRC, 'outbound', 'outbox-store', 'accept.lua'), 'ts')).toBe(
      join(SRC, 'outbound', 'outbox-store.ts'),
    );
  });

  it('each compile on Redis (SCRIPT LOAD) under the SHA the loader runs them by', async () => {
    await checkScriptFiles(SRC, 'ts');
    const scripts = loadedLuaScripts().filter((script) => script.path.startsWith(SRC));
    expect(scripts.length).toBeGreaterThanOrEqual(28);
    for (const script of scripts) {
      expect(await script.load(redis), script.path).toBe(script.sha);
      // Every script keeps its header: KEYS (and what it takes) said before the code.
      expect(script.source, script.path).toMatch(/^(local \w+ = \{[^\n]*\}\n)*-- /);
      expect(script.source, script.path).toContain('KEYS');
    }
  });

  it('resolve includes and the webhook store field names before the SHA is taken', async () => {
    await checkScriptFiles(SRC, 'ts');
    const finish = loadedLuaScripts().find((s) => s.path.endsWith(join('delivery-ledger', 'finish.lua')));
    expect(finish).toBeDefined();
    expect(finish!.source).not.toContain('--- @include');
    expect(finish!.source).toContain('local function trimDead');
    expect(finish!.source.startsWith(`local F = { url = '${WEBHOOK_FIELDS.url}'`)).toBe(true);
  });
});

describe('LuaScript', () => {
  it('runs by SHA, and again from its source after SCRIPT FLUSH', async () => {
    const lease = new OwnerLease({ redis, ttlMs: 60_000 });
    expect(await lease.acquire('t:lease', 'a')).toBe(true);
    expect(await lease.acquire('t:lease', 'b')).toBe(false);
    expect(await lease.renew('t:lease', 'a')).toBe(true);
    await redis.script('FLUSH');
    expect(await lease.renew('t:lease', 'b')).toBe(false);
    expect(await lease.release('t:lease', 'b')).toBe(false);
    expect(await redis.get('t:lease')).toBe('a');
    expect(await lease.release('t:lease', 'a')).toBe(true);
    expect(await redis.exists('t:lease')).toBe(0);
    expect(await lease.renew('t:lease', 'a')).toBe(false);
  });

  it('passes a script error through unchanged (the event log relies on FENCED)', async () => {
    const module = pathToFileURL(join(scratch, 'owner.ts')).href;
    writeFileSync(join(scratch, 'fail.lua'), "-- KEYS: any.\nreturn redis.error_reply('FENCED no')\n");
    const script = LuaScript.fromFile(module, './fail.lua', 1);
    await expect(script.run(redis, ['t:any'], [])).rejects.toThrow(/^FENCED no$/);
  });

  it('refuses what it cannot load at import time: a missing file, an include cycle, keyless scripts', () => {
    const module = pathToFileURL(join(scratch, 'owner.ts')).href;
    expect(() => LuaScript.fromFile(module, './missing.lua', 1)).toThrow(/ENOENT/);
    writeFileSync(join(scratch, 'a.lua'), '--- @include "./b.lua"\nreturn 1\n');
    writeFileSync(join(scratch, 'b.lua'), '--- @include "./a.lua"\n');
    expect(() => LuaScript.fromFile(module, './a.lua', 1)).toThrow(/includes itself/);
    writeFileSync(join(scratch, 'one.lua'), 'return 1\n');
    expect(() => LuaScript.fromFile(module, './one.lua', 0)).toThrow(RangeError);
  });

  it('refuses constants that would have to be quoted in Lua', () => {
    const module = pathToFileURL(join(scratch, 'owner.ts')).href;
    writeFileSync(join(scratch, 'c.lua'), 'return C.x\n');
    expect(() => LuaScript.fromFile(module, './c.lua', 1, { constants: { C: { x: "a'..b" } } })).toThrow(
      RangeError,
    );
    expect(() => LuaScript.fromFile(module, './c.lua', 1, { constants: { 'C D': { x: 'a' } } })).toThrow(
      RangeError,
    );
  });

  it('checks the key count before sending anything', async () => {
    const lease = LuaScript.fromFile(
      pathToFileURL(join(SRC, 'redis', 'owner-lease.ts')).href,
      './owner-lease/release.lua',
      1,
    );
    await expect(lease.run(redis, [], ['a'])).rejects.toThrow(RangeError);
  });
});
