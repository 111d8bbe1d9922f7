/**
 * Where a V8 CPU profile (`node --cpu-prof`) spends its time: self time by function and by file,
 * as shares of the busy (non-idle) samples, for bench/RESULTS.md.
 *
 * Usage: tsx bench/support/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
for (const [i, id] of profile.samples.entries()) {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let busy = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  if (frame.functionName === '(idle)' || frame.functionName === '(program)') {
    idle += us;
    continue;
  }
  busy += us;
  const where = frame.url
    .replace(/^.*\/node_modules\//, '~')
    .replace(/^.*\/wt-\d+\//, '')
    .replace(/^file:\/\//, '');
  const name = `${frame.functionName || '(anonymous)'} ${where || '(native)'}:${frame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const group =
    where === '' ? '(native/gc)' : where.startsWith('node:') ? where : where.split('/').slice(0, 2).join('/');
  byFile.set(group, (byFile.get(group) ?? 0) + us);
}

const share = (us: number): string => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
console.log(`${file}: busy ${(busy / 1e6).toFixed(2)} s, idle/program ${(idle / 1e6).toFixed(2)} s`);
console.log('\nself time by file or package:');
for (const [name, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${share(us)}  ${name}`);
console.log('\nself time by function:');
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${share(us)}  ${name}`);
