/**
 * Finding the `.lua` files of a source or build tree and checking that each one is loaded by the
 * module that owns it (see lua-script.ts for the layout): used by the unit test on `src/` and by
 * the build (`ship-scripts-main.ts`) on `dist/src/`, so neither a stray script nor a script the
 * build forgot to copy goes unnoticed.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadedScriptFiles } from './lua-script.js';

/** Every `.lua` file below `root`, absolute, sorted. */
export function findScriptFiles(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.lua')) found.push(join(entry.parentPath, entry.name));
  }
  return found.sort();
}

/** The module owning a script: `<dir>/<owner>/<name>.lua` belongs to `<dir>/<owner>.<extension>`. */
export function owningModule(scriptFile: string, extension: 'ts' | 'js'): string {
  const folder = dirname(scriptFile);
  return join(dirname(folder), `${basename(folder)}.${extension}`);
}

export interface ScriptCheck {
  /** Every `.lua` file found. */
  readonly files: readonly string[];
  /** Owning modules that are missing or failed to import, with the error. */
  readonly brokenModules: readonly { readonly module: string; readonly error: string }[];
  /** Files found that no imported module read (stray or misplaced scripts). */
  readonly unloaded: readonly string[];
}

/** Imports the owning module of every `.lua` file below `root` and says what did not load. */
export async function checkScriptFiles(root: string, extension: 'ts' | 'js'): Promise<ScriptCheck> {
  const files = findScriptFiles(root);
  const modules = [...new Set(files.map((file) => owningModule(file, extension)))];
  const brokenModules: { module: string; error: string }[] = [];
  for (const module of modules) {
    try {
      await import(pathToFileURL(module).href);
    } catch (err) {
      brokenModules.push({ module, error: err instanceof Error ? err.message : String(err) });
    }
  }
  const loaded = loadedScriptFiles();
  return { files, brokenModules, unloaded: files.filter((file) => !loaded.has(file)) };
}
