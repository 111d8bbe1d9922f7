/**
 * Objects per constructor in a heap snapshot (`v8.writeHeapSnapshot`), and the difference between
 * two: what N more connections added, by kind, for bench/RESULTS.md.
 *
 * Usage: tsx bench/support/heap-tally.ts <before.heapsnapshot> <after.heapsnapshot> [per=1] [top=30]
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

function tally(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name =
      type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
    const key = type === 'closure' ? `closure ${name}` : name;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

const [beforeFile, afterFile, perArg, topArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) throw new Error('usage: heap-tally <before> <after> [per] [top]');
const per = Number(perArg ?? 1);
const before = tally(beforeFile);
const after = tally(afterFile);
const rows = [...after].map(([name, a]) => {
  const b = before.get(name) ?? { count: 0, bytes: 0 };
  return { name, count: (a.count - b.count) / per, bytes: (a.bytes - b.bytes) / per };
});
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
console.log(`per unit: ${total.toFixed(0)} bytes in all`);
for (const r of rows.slice(0, Number(topArg ?? 30)))
  console.log(`  ${r.bytes.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(6)} x  ${r.name}`);
