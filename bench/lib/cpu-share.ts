/**
 * The share of CPU samples of a V8 .cpuprofile spent in (or under) functions matching a pattern, within a window of
 * monotonic µs (bench/redis-turns.ts prints it): `npx tsx bench/lib/cpu-share.ts <file> <from>-<to> [regexp]`.
 * The default pattern is timer and timeout-signal creation and clearing (setTimeout, clearTimeout, AbortSignal.timeout).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; parent?: number; children?: number[]; callFrame: { functionName: string; url: string } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

const [file, window = '', pattern = '^(setTimeout|clearTimeout|timeout|setInterval|clearInterval|unenroll|insert|Timeout)$'] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-share.ts <file.cpuprofile> [from-to] [regexp]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const [from, to] = window ? window.split('-').map(Number) as [number, number] : [-Infinity, Infinity];
const re = new RegExp(pattern);
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const hit = new Map<number, boolean>();
const matches = (id: number): boolean => {
  const known = hit.get(id);
  if (known !== undefined) return known;
  const n = byId.get(id)!;
  const up = parent.get(id);
  const v = re.test(n.callFrame.functionName) || (up !== undefined && matches(up));
  hit.set(id, v);
  return v;
};
let t = p.startTime;
let total = 0;
let inside = 0;
p.samples.forEach((id, i) => {
  t += p.timeDeltas[i] ?? 0;
  if (t < from || t > to) return;
  const name = byId.get(id)!.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') return;
  total++;
  if (matches(id)) inside++;
});
console.log(`${inside} of ${total} busy samples (${((100 * inside) / Math.max(1, total)).toFixed(2)} %) under /${pattern}/`);
