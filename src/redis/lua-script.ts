/**
 * The one way the gateway runs Lua in Redis. Every script is a `.lua` file in a folder named after
 * the module that owns it (`src/outbound/outbox-store/accept.lua` belongs to
 * `src/outbound/outbox-store.ts`), and opens with a comment saying its KEYS, ARGV and reply. The
 * module loads it once, when it is imported, with `LuaScript.fromFile(import.meta.url, ...)`; the
 * build copies the files beside the compiled modules (`src/redis/ship-scripts-main.ts`).
 *
 * A script runs by SHA (`EVALSHA`) and falls back to `EVAL` on `NOSCRIPT` (a Redis restart,
 * `SCRIPT FLUSH`, or a Cluster node that never saw it); the reply to `EVAL` loads it for the next
 * time. EVAL/EVALSHA name their keys, so a Cluster client sends both to the node owning the first
 * key (every script's keys share one hash tag). Not ioredis `defineCommand`: the client is shared
 * and not ours to extend. Not plain `EVAL`: the hot scripts run on every request or attempt and
 * need not ship their source each time.
 *
 * Two load-time additions, both resolved before the SHA is taken:
 * - `--- @include "./other.lua"` (a whole line, path relative to the including file) is replaced
 *   by that file: Lua functions shared by several scripts of one owner;
 * - `constants` become Lua tables prepended to the source (`local NAME = { key = 'value' }`), so
 *   a script reading a hash another store writes uses the names that store exports.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RedisClient } from './connection.js';

export interface LuaScriptOptions {
  /** Lua tables of string constants, by table name, prepended to the script. */
  readonly constants?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const INCLUDE = /^--- @include "([^"]+)"\s*$/gm;
const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Constants are names (hash fields, states): nothing that would need quoting in Lua. */
const LUA_VALUE = /^[\w.:-]*$/;

/** Every script file and included file read so far (absolute paths): see `loadedScriptFiles`. */
const loadedFiles = new Set<string>();
const loadedScripts: LuaScript[] = [];

export class LuaScript {
  /** The script's file, absolute. */
  readonly path: string;
  /** The source as sent to Redis (includes and constants resolved). */
  readonly source: string;
  readonly sha: string;
  readonly numberOfKeys: number;

  private constructor(path: string, source: string, numberOfKeys: number) {
    this.path = path;
    this.source = source;
    this.numberOfKeys = numberOfKeys;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Reads `relativePath` (relative to the module whose `import.meta.url` is `moduleUrl`). Throws
   * at import time when the file is missing, so a build that forgot a script fails at start, not
   * on the first request that needs it.
   */
  static fromFile(
    moduleUrl: string,
    relativePath: string,
    numberOfKeys: number,
    options: LuaScriptOptions = {},
  ): LuaScript {
    if (!Number.isInteger(numberOfKeys) || numberOfKeys < 1) {
      // Keyless scripts cannot be routed in a Cluster: every script names at least one key.
      throw new RangeError(`a script takes at least one key (got ${numberOfKeys})`);
    }
    const path = resolve(dirname(fileURLToPath(moduleUrl)), relativePath);
    const body = readWithIncludes(path, [path]);
    const script = new LuaScript(path, constantsPrelude(options.constants ?? {}) + body, numberOfKeys);
    loadedScripts.push(script);
    return script;
  }

  async run<T>(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    if (keys.length !== this.numberOfKeys) throw new RangeError(`script takes ${this.numberOfKeys} keys`);
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return (await redis.eval(this.source, keys.length, ...keys, ...args)) as T;
    }
  }

  /** `SCRIPT LOAD` on one (non-Cluster) server: compiles the script there; resolves its SHA. */
  async load(redis: RedisClient): Promise<string> {
    return String(await redis.script('LOAD', this.source));
  }
}

/** The scripts the imported modules have loaded so far. */
export function loadedLuaScripts(): readonly LuaScript[] {
  return loadedScripts;
}

/** The `.lua` files (scripts and includes) the imported modules have read so far, absolute. */
export function loadedScriptFiles(): ReadonlySet<string> {
  return loadedFiles;
}

function readWithIncludes(path: string, chain: readonly string[]): string {
  const text = readFileSync(path, 'utf8');
  loadedFiles.add(path);
  return text.replace(INCLUDE, (_line, relative: string) => {
    const included = resolve(dirname(path), relative);
    if (chain.includes(included)) throw new Error(`${path} includes itself through ${included}`);
    return readWithIncludes(included, [...chain, included]);
  });
}

function constantsPrelude(constants: Readonly<Record<string, Readonly<Record<string, string>>>>): string {
  let prelude = '';
  for (const [table, entries] of Object.entries(constants)) {
    if (!LUA_NAME.test(table)) throw new RangeError(`not a Lua name: ${table}`);
    const fields = Object.entries(entries).map(([name, value]) => {
      if (!LUA_NAME.test(name)) throw new RangeError(`not a Lua name: ${name}`);
      if (!LUA_VALUE.test(value)) throw new RangeError(`not a plain constant: ${value}`);
      return `${name} = '${value}'`;
    });
    prelude += `local ${table} = { ${fields.join(', ')} }\n`;
  }
  return prelude;
}
