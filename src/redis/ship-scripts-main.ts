/**
 * The build's second step (`npm run build`, after tsc): tsc copies no `.lua` files, so this
 * copies every script of `src/` to the same place under `dist/src/`, then imports each script's
 * owning module from `dist/` and fails the build if one does not load or a script is read by
 * none. Runs from its compiled location, `dist/src/redis/`.
 */
import { cpSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkScriptFiles, findScriptFiles } from './script-files.js';

const builtSrc = resolve(fileURLToPath(new URL('..', import.meta.url)));
const sourceSrc = resolve(builtSrc, '..', '..', 'src');

for (const file of findScriptFiles(sourceSrc)) cpSync(file, join(builtSrc, relative(sourceSrc, file)));

const check = await checkScriptFiles(builtSrc, 'js');
for (const { module, error } of check.brokenModules) console.error(`${module}: ${error}`);
for (const file of check.unloaded)
  console.error(`${file}: loaded by no module (expected its owner beside its folder)`);
if (check.files.length === 0) console.error(`no scripts found under ${builtSrc}`);
if (check.brokenModules.length > 0 || check.unloaded.length > 0 || check.files.length === 0) process.exit(1);
console.log(`${check.files.length} Redis scripts shipped to ${relative(process.cwd(), builtSrc) || '.'}`);
