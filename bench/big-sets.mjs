// Target: report and diff of big run sets (BENCH_RUNS 10,000 runs) in under 5 s and 300 MiB each.
// The run set is the one bench/scale.mjs saved from its `podtrace watch` of a kwok rollout
// (real traces: $PODTRACE_CACHE/bench/watch-N.runset.json); B is the same runs relabelled, so
// diff and the two-set report do their whole work (every metric, every run) on the same sizes.
// Baseline, in the same run: node reading the file and JSON.parse of it, and nothing else.
//   node bench/scale.mjs (BENCH_PODS=10000) first, then node bench/big-sets.mjs
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE, heading, ms, PODTRACE, prepare, processUsage, stats, table } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const setA = path.join(CACHE, 'bench', `watch-${RUNS}.runset.json`);
if (!existsSync(setA)) {
  console.error(`no ${setA}: run BENCH_PODS=${RUNS} node bench/scale.mjs first (it saves the run set there)`);
  process.exit(1);
}
prepare({ cluster: false });
heading(`Big run sets: report and diff of ${RUNS}-run sets (${(statSync(setA).size / 2 ** 20).toFixed(0)} MiB each), best of ${REPEAT}`);

const work = mkdtempSync(path.join(os.tmpdir(), 'podtrace-bigsets-'));
const setB = path.join(work, 'b.runset.json');
writeFileSync(setB, readFileSync(setA, 'utf8').replace(/"label": "[^"]*"/, '"label": "B (the same runs)"'));

/** Wall time and peak RSS (the kernel's high-water mark, polled) of one command. */
function measure(args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: work });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const { usage, ended } = processUsage(child, { everyMs: 10 });
    child.on('error', reject);
    ended.then((code) => {
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ ms: performance.now() - started, peakMiB: usage.peakKb / 1024 });
    });
  });
}

const subjects = [
  ['baseline: node, read + JSON.parse of A', ['-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(setA)}, 'utf8'))`]],
  ['report A -o table', [PODTRACE, 'report', setA]],
  ['report A -o html', [PODTRACE, 'report', setA, '-o', 'html', '--out', 'a.html']],
  ['report A B -o html (with the diff)', [PODTRACE, 'report', setA, setB, '-o', 'html', '--out', 'ab.html']],
  ['report A -o json', [PODTRACE, 'report', setA, '-o', 'json', '--out', 'a.json']],
  ['report A -o csv', [PODTRACE, 'report', setA, '-o', 'csv', '--out', 'a.csv']],
  ['report A -o markdown', [PODTRACE, 'report', setA, '-o', 'markdown', '--out', 'a.md']],
  ['report A -o chrome-trace', [PODTRACE, 'report', setA, '-o', 'chrome-trace', '--out', 'a.trace.json']],
  ['report A -o otlp', [PODTRACE, 'report', setA, '-o', 'otlp', '--out', 'a.otlp.json']],
  ['diff A B', [PODTRACE, 'diff', setA, setB]],
];
const results = new Map(subjects.map(([name]) => [name, []]));
for (let i = 0; i < REPEAT; i++) for (const [name, args] of subjects) results.get(name).push(await measure(args));
const base = stats(results.get(subjects[0][0]).map((r) => r.ms)).min;
console.log(
  table(
    ['command', 'wall (min)', 'x baseline', 'peak RSS (max)'],
    subjects.map(([name]) => {
      const rs = results.get(name);
      const wall = stats(rs.map((r) => r.ms)).min;
      return [name, ms(wall), `${(wall / base).toFixed(2)}x`, `${Math.max(...rs.map((r) => r.peakMiB)).toFixed(0)} MiB`];
    }),
  ),
);
console.log(`\nhtml report of A: ${(statSync(path.join(work, 'a.html')).size / 2 ** 20).toFixed(1)} MiB`);
