// Soak: `podtrace probe` for BENCH_ROUNDS rounds (300) at a short interval (--every 1s, so each
// round starts as soon as the one before it ends), with the API server restarted twice and the
// kubelet once while it runs. Prints the rounds by outcome class, the rounds that started late,
// the probe's resident memory over the soak (the median of its first and last thirds, and
// their ratio) and how many of its pods are left once it has stopped (by its label).
// A figure, never a verdict: nothing here fails on a number.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { heading, KUBECONFIG, kubectl, ms, prepare, PODTRACE, quantile, REPO, sleep, table } from './lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const PORT = Number(process.env.BENCH_PORT ?? 19464);
const NAME = 'podtrace-soak';
const NAMESPACE = 'default';
// When the faults happen, as a share of the rounds: the API server at a fifth and at three
// fifths, the kubelet (of every node) at two fifths.
const FAULTS = [
  { at: Math.round(ROUNDS * 0.2), component: 'apiserver' },
  { at: Math.round(ROUNDS * 0.4), component: 'kubelet' },
  { at: Math.round(ROUNDS * 0.6), component: 'apiserver' },
];

prepare();
heading(`Soak: podtrace probe, ${ROUNDS} rounds at --every 1s, the API server restarted twice and the kubelet once`);

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** The probe's counters from its own /metrics: rounds started, and runs by outcome. */
async function scrape() {
  const res = await fetch(`http://127.0.0.1:${PORT}/metrics`);
  const text = await res.text();
  const rounds = Number(/^podtrace_probe_rounds_total (\S+)$/m.exec(text)?.[1] ?? 0);
  const delayed = Number(/^podtrace_probe_rounds_delayed_total (\S+)$/m.exec(text)?.[1] ?? 0);
  const outcomes = {};
  for (const m of text.matchAll(/^podtrace_probe_runs_total\{outcome="([^"]+)"\} (\S+)$/gm)) outcomes[m[1]] = Number(m[2]);
  const runs = Object.values(outcomes).reduce((a, b) => a + b, 0);
  return { rounds, delayed, outcomes, runs };
}

function leftPods() {
  const out = kubectl('get', 'pods', '-A', '-l', `podtrace.dev/probe=${NAME}`, '-o', 'name');
  return out.split('\n').filter(Boolean);
}

const startedAt = performance.now();
const probe = spawn(
  process.execPath,
  [PODTRACE, 'probe', 'nginx', '--kubeconfig', KUBECONFIG, '-n', NAMESPACE, '--name', NAME, '--every', '1s', '--timeout', '2m', '--listen', `127.0.0.1:${PORT}`],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
let log = '';
probe.stderr.on('data', (d) => (log += d));
const exited = new Promise((resolve) => probe.on('close', (code, signal) => resolve({ code, signal })));

const samples = []; // { runs, rssKiB } once per scrape
const faults = [];
let last = { rounds: 0, delayed: 0, outcomes: {}, runs: 0 };
let next = 0;
for (;;) {
  await sleep(1000);
  if (probe.exitCode !== null) throw new Error(`the probe exited early (${probe.exitCode}):\n${log}`);
  try {
    last = await scrape();
  } catch {
    continue; // not listening yet
  }
  samples.push({ runs: last.runs, rssKiB: rssKiB(probe.pid) });
  if (next < FAULTS.length && last.runs >= FAULTS[next].at) {
    const { component } = FAULTS[next++];
    const t0 = performance.now();
    execFileSync('bash', [path.join(REPO, 'hack', 'cluster.sh'), 'restart', component], { stdio: 'ignore' });
    faults.push({ component, atRun: last.runs, tookMs: performance.now() - t0 });
  }
  if (last.runs >= ROUNDS) break;
}
probe.kill('SIGTERM');
const exit = await exited;
const wallMs = performance.now() - startedAt;
// The probe deletes its pod as each round ends and again when it stops; what is left a few
// seconds later is left for good.
await sleep(5000);
const left = leftPods();

console.log(table(['fault', 'after run', 'restart took'], faults.map((f) => [f.component, String(f.atRun), ms(f.tookMs)])));
console.log();
const classes = Object.entries(last.outcomes).sort((a, b) => b[1] - a[1]);
console.log(table(['outcome class', 'runs'], [...classes.map(([c, n]) => [c, String(n)]), ['all', String(last.runs)]]));
console.log();

// Resident memory by thirds of the soak, counted in runs (the first samples, before the first
// run, are the process starting and are left out).
const measured = samples.filter((s) => s.runs > 0);
const third = (i) => measured.filter((s) => s.runs > (i * last.runs) / 3 && s.runs <= ((i + 1) * last.runs) / 3).map((s) => s.rssKiB).sort((a, b) => a - b);
const medians = [0, 1, 2].map((i) => quantile(third(i), 0.5) / 1024);
const peak = Math.max(...measured.map((s) => s.rssKiB)) / 1024;
console.log(
  table(
    ['RSS (MiB)', 'first third', 'middle third', 'last third', 'last / first', 'peak'],
    [['median', ...medians.map((m) => m.toFixed(1)), (medians[2] / medians[0]).toFixed(3), peak.toFixed(1)]],
  ),
);
console.log();
console.log(`rounds started ${last.rounds}, of them late (the round before still running) ${last.delayed}`);
console.log(`wall time ${(wallMs / 60000).toFixed(1)} min, ${(wallMs / last.runs / 1000).toFixed(2)} s per run`);
console.log(`the probe exited with ${exit.code ?? exit.signal} on SIGTERM`);
console.log(`pods of the probe left afterwards: ${left.length}${left.length ? ` (${left.join(', ')})` : ''}`);
const lines = log.split('\n').filter((l) => / round \d+/.test(l) && !/: ready in /.test(l));
if (lines.length) console.log(`\nrounds that did not end Ready, as the probe logged them:\n${lines.map((l) => `  ${l}`).join('\n')}`);
