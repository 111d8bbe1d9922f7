/** Position stores: what a restarted consumer reads back is what it last saved. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePositionStore, MemoryPositionStore } from '../src/index.js';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-client-'));
  dirs.push(dir);
  return join(dir, 'nested', 'positions.json');
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('MemoryPositionStore', () => {
  it('keeps one position per key', async () => {
    const store = new MemoryPositionStore();
    expect(await store.load('a')).toBeUndefined();
    await store.save('a', '1-0');
    await store.save('b', '2-0');
    await store.save('a', '3-0');
    expect([await store.load('a'), await store.load('b')]).toEqual(['3-0', '2-0']);
  });
});

describe('FilePositionStore', () => {
  it('survives a restart: a new instance on the same file reads the last saves', async () => {
    const path = tempFile();
    const first = new FilePositionStore(path);
    expect(await first.load('events')).toBeUndefined();
    // Saves in flight at once land in order; the last one wins.
    await Promise.all(['1-0', '2-0', '3-0'].map((id) => first.save('events', id)));
    await first.save('other', '9-0');
    const restarted = new FilePositionStore(path);
    expect(await restarted.load('events')).toBe('3-0');
    expect(await restarted.load('other')).toBe('9-0');
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ events: '3-0', other: '9-0' });
  });

  it('refuses a file that does not hold positions, instead of starting over silently', async () => {
    const path = tempFile();
    const store = new FilePositionStore(path);
    await store.save('x', '1-0');
    writeFileSync(path, '[1,2]');
    await expect(new FilePositionStore(path).load('x')).rejects.toThrow(/does not hold positions/);
    writeFileSync(path, '{not json');
    await expect(new FilePositionStore(path).load('x')).rejects.toThrow(SyntaxError);
  });
});
