// Target 5, peer comparison: kube-burner's podLatency measurement and
// `podtrace watch` on the same BENCH_PODS (100) pods, created by kube-burner
// (jobIterations of one nginx Pod, qps 20) on the local cluster's real node.
// kube-burner v1.13.0 is built from its Go module (hack/kube-burner) into the
// cache. The node's nginx image is removed first (BENCH_COLD=0 keeps it), so
// the pods pull it from the local registry.
// Prints both tools' quantiles per phase side by side (the same percentile
// rule for both), each with its precision, how far the two disagree pod by
// pod, and the phases only podtrace reports.
//   node bench/peer.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { heading, KUBE_BURNER_VERSION, kubeBurnerBinary, kubectl, KUBECONFIG, ms, PODTRACE, prepare, REPO, sleep, table, writeKubeBurnerJob } from './lib.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 100);
const COLD = process.env.BENCH_COLD !== '0';
const NAMESPACE = 'podtrace-peer';
prepare();
heading(`Peer: kube-burner ${KUBE_BURNER_VERSION} podLatency and podtrace watch on the same ${PODS} pods (image ${COLD ? 'pulled' : 'present'})`);

const kubeBurner = kubeBurnerBinary();

const work = path.join(os.tmpdir(), `podtrace-peer-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
const metrics = path.join(work, 'metrics');
writeKubeBurnerJob(work, {
  name: 'podtrace-peer',
  namespace: NAMESPACE,
  pods: PODS,
  qps: 20,
  metrics,
  podSpec: '  containers:\n    - { name: nginx, image: nginx, imagePullPolicy: IfNotPresent }\n',
});

// An earlier run's namespace is deleted asynchronously: wait until it is gone.
kubectl('delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=300s');
if (COLD) execFileSync('bash', [path.join(REPO, 'hack', 'cluster.sh'), 'rmi', 'nginx'], { stdio: 'ignore' });

const out = path.join(work, 'set.json');
let kubeBurnerLog = '';
let watch;
try {
  watch = spawn(process.execPath, [PODTRACE, 'watch', '-n', NAMESPACE, '-l', 'app=podtrace-peer', '--count', String(PODS), '--for', '10m', '-q', '--out', out, '--kubeconfig', KUBECONFIG], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const watchDone = new Promise((resolve) => watch.on('close', resolve));
  await sleep(2000);
  const burner = spawn(kubeBurner, ['init', '-c', 'config.yml', '--uuid', `podtrace-peer-${Date.now().toString(36)}`], {
    cwd: work,
    env: { ...process.env, KUBECONFIG },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  burner.stdout.on('data', (d) => (kubeBurnerLog += d));
  burner.stderr.on('data', (d) => (kubeBurnerLog += d));
  const burnerCode = await new Promise((resolve) => burner.on('close', resolve));
  if (burnerCode !== 0) throw new Error(`kube-burner exited ${burnerCode}:\n${kubeBurnerLog.split('\n').slice(-15).join('\n')}`);
  const watchCode = await watchDone;
  if (watchCode !== 0) throw new Error(`podtrace watch exited ${watchCode}`);
} finally {
  if (watch && watch.exitCode === null) watch.kill();
  kubectl('delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false');
}

// kube-burner's own results: per pod, and its quantile documents.
const kbPods = JSON.parse(readFileSync(path.join(metrics, 'podLatencyMeasurement-podtrace-peer.json'), 'utf8'));
const kbQuantiles = JSON.parse(readFileSync(path.join(metrics, 'podLatencyQuantilesMeasurement-podtrace-peer.json'), 'utf8'));
const set = JSON.parse(readFileSync(out, 'utf8'));

/** kube-burner's percentile rule (montanaflynn/stats Percentile): rank p·n, the mean of two neighbours when it is not whole. */
function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  if (s.length === 1) return s[0];
  const index = (p / 100) * s.length;
  if (Number.isInteger(index)) return s[index - 1];
  const i = Math.floor(index);
  return i >= 1 ? (s[i - 1] + s[i]) / 2 : NaN;
}
const median = (values) => percentile(values, 50);
const summary = (values) => ({ p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: Math.max(...values), n: values.length });

// The phases kube-burner reports, each from the pod's creation, and the milestone podtrace times it by.
const PHASES = [
  { kb: 'PodScheduled', field: 'schedulingLatency', milestone: 'scheduler.scheduled' },
  // kube-burner v1.13.0 keeps this condition's time but never turns it into a latency: its figures are all 0.
  { kb: 'PodReadyToStartContainers', field: 'readyToStartContainersLatency', milestone: 'runtime.sandbox-ready', notComputed: true },
  // Without init containers the kubelet's first status sets Initialized (with startTime): podtrace's kubelet.acknowledged.
  { kb: 'Initialized', field: 'initializedLatency', milestone: ['pod.initialized', 'kubelet.acknowledged'] },
  { kb: 'ContainersReady', field: 'containersReadyLatency', milestone: 'pod.containers-ready' },
  { kb: 'Ready', field: 'podReadyLatency', milestone: 'pod.ready' },
];
const milestone = (run, ids) => [ids].flat().map((id) => run.milestones.find((m) => m.id === id)).find(Boolean);
const byName = new Map(set.runs.map((run) => [run.pod.name, run]));
const rows = [];
const agreement = [];
for (const phase of PHASES) {
  const kb = kbQuantiles.find((q) => q.quantileName === phase.kb);
  const values = [];
  const precision = [];
  const differences = [];
  for (const run of set.runs) {
    const from = milestone(run, 'api.accepted');
    const to = milestone(run, phase.milestone);
    if (!from || !to) continue;
    values.push(to.at - from.at);
    precision.push(from.precisionMs + to.precisionMs);
  }
  for (const pod of kbPods) {
    const run = byName.get(pod.podName);
    const from = run && milestone(run, 'api.accepted');
    const to = run && milestone(run, phase.milestone);
    if (from && to && !phase.notComputed) differences.push(Math.abs(to.at - from.at - pod[phase.field]));
  }
  const p = summary(values);
  rows.push([
    phase.kb,
    phase.notComputed ? 'not computed (all 0)' : kb ? `${ms(kb.P50)} / ${ms(kb.P95)} / ${ms(kb.P99)} / ${ms(kb.max)}` : 'n/a',
    phase.notComputed ? '' : '±1s',
    `${ms(p.p50)} / ${ms(p.p95)} / ${ms(p.p99)} / ${ms(p.max)}`,
    `±${ms(median(precision))}`,
    `${p.n}`,
  ]);
  if (!phase.notComputed) agreement.push([phase.kb, ms(median(differences)), ms(Math.max(...differences)), differences.length]);
}
console.log(`pods: kube-burner measured ${kbPods.length}, podtrace traced ${set.runs.length}; each phase from the pod's creation`);
console.log(
  table(['phase (kube-burner name)', 'kube-burner P50 / P95 / P99 / max', 'precision', 'podtrace P50 / P95 / P99 / max', 'precision (median)', 'pods'], rows),
);
console.log('\nper pod, |podtrace − kube-burner|');
console.log(table(['phase', 'median', 'max', 'pods'], agreement));

// Phases only podtrace reports: its own per-run metrics (`podtrace report -o csv`) over the same pods.
const csv = execFileSync(process.execPath, [PODTRACE, 'report', out, '-o', 'csv'], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 }).trim().split('\n');
const header = csv[0].split(',');
const column = (name) => header.indexOf(name);
const metricValues = new Map();
for (const line of csv.slice(1)) {
  const cells = line.split(',');
  if (cells[column('kind')] !== 'metric') continue;
  const name = cells[column('metric')];
  metricValues.set(name, [...(metricValues.get(name) ?? []), Number(cells[column('duration_ms')])]);
}
const ONLY = ['kubelet', 'sandbox', 'pull', 'start', 'readiness'];
const extra = ONLY.map((name) => {
  const values = metricValues.get(name) ?? [];
  const s = summary(values);
  return [name, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), values.length];
});
const retried = set.runs.filter((run) => run.milestones.some((m) => /\.pull-(failed|back-off)$/.test(m.id))).length;
console.log('\nonly in podtrace');
console.log(table(['metric', 'P50', 'P95', 'P99', 'max', 'pods'], extra));
console.log(`pods whose image pull failed at least once and was retried (ErrImagePull, back-off): ${retried} of ${set.runs.length}`);
console.log(
  '\nkube-burner times each phase from the pod\'s creationTimestamp to a condition\'s lastTransitionTime: both are whole seconds, so each figure is off by up to 1 s.' +
    ' podtrace\'s precision is the sum of its two ends\' (median over the pods).',
);
console.log(`work directory (config, kube-burner metrics, run set): ${work}`);
