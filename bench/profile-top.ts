// Prints the top frames of a V8 CPU profile (node --cpu-prof): self time and total (inclusive) time per
// function, so profiles can be read and quoted without a browser.
//
//   node --import tsx bench/profile-top.ts <file.cpuprofile> [--top 25] [--filter <text>]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string' }, filter: { type: 'string' } }, allowPositionals: true });
const file = positionals[0];
if (file === undefined) {
  console.log('usage: bench/profile-top.ts <file.cpuprofile> [--top 25] [--filter <text>]');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1').replace(process.cwd() + '/', '');
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
};

const selfTime = new Map<string, number>();
const totalTime = new Map<string, number>();
let total = 0;
profile.samples.forEach((sampleId, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  total += delta;
  const node = byId.get(sampleId);
  if (node === undefined) return;
  const own = label(node);
  selfTime.set(own, (selfTime.get(own) ?? 0) + delta);
  const seen = new Set<string>();
  for (let id: number | undefined = sampleId; id !== undefined; id = parent.get(id)) {
    const ancestor = byId.get(id);
    if (ancestor === undefined) break;
    const name = label(ancestor);
    if (seen.has(name)) continue;
    seen.add(name);
    totalTime.set(name, (totalTime.get(name) ?? 0) + delta);
  }
});

const print = (title: string, times: Map<string, number>): void => {
  console.log(`${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  const rows = [...times]
    .filter(([name]) => values.filter === undefined || name.includes(values.filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [name, time] of rows) console.log(`${((time / total) * 100).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  console.log('');
};
print('self time', selfTime);
print('total time', totalTime);
