// Summarises a V8 .cpuprofile (from `node bench/run.mjs --cpu-prof`): the top functions by self time
// and the time per source file, so a profile can be read without DevTools.
//
//   node bench/profile-summary.mjs bench/.profiles/CPU.….cpuprofile [top=25]
import { readFileSync } from 'node:fs';

const [path, topArg = '25'] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(path, 'utf8'));
const top = Number(topArg);

// Sample i lasted timeDeltas[i + 1]; attribute each sample's duration to its node.
const selfTime = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + delta);
}
const total = [...selfTime.values()].reduce((sum, value) => sum + value, 0);

function fileOf({ url }) {
  return url ? url.replace(/^file:\/\//, '').replace(/.*\/(node_modules|packages)\//, '$1/') : '(native)';
}

function label(frame) {
  return `${frame.functionName || '(anonymous)'}  ${fileOf(frame)}:${frame.lineNumber + 1}`;
}

const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

const byFunction = new Map();
const byFile = new Map();
const inclusive = new Map();
for (const node of profile.nodes) {
  const time = selfTime.get(node.id) ?? 0;
  // Inclusive time: each function on the sample's stack once (recursion counted once).
  const seen = new Set();
  for (let id = node.id; id !== undefined; id = parent.get(id)) {
    const name = label(nodes.get(id).callFrame);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + time);
  }
}
for (const node of profile.nodes) {
  const time = selfTime.get(node.id) ?? 0;
  if (time === 0) continue;
  byFunction.set(label(node.callFrame), (byFunction.get(label(node.callFrame)) ?? 0) + time);
  byFile.set(fileOf(node.callFrame), (byFile.get(fileOf(node.callFrame)) ?? 0) + time);
}

const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `${((100 * time) / total).toFixed(1).padStart(5)}%  ${(time / 1000).toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
};
process.stdout.write(`${path}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print('self time by function', byFunction);
print('self time by file', byFile);
print('total time by function (self + callees)', inclusive);
