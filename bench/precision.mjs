// Target 3, precision: podtrace's durations against the kubelet's own figures
// for the same pods. The kubelet measures some steps itself: the Pulled event
// says "in 25ms" and its log line "Observed pod startup duration" gives
// totalImagesPullingTime, observedRunningTime and podStartE2EDuration (the
// last from the pod's creationTimestamp, which has whole seconds only).
// Per phase: median and max absolute difference. Target under 5 ms where
// podtrace times both ends from event names (ns) or eventTime (µs).
//   node bench/precision.mjs        (BENCH_RUNS=6 warm nginx, BENCH_COLD=3 cold podtrace/big)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { heading, KUBECONFIG, ms, PODTRACE, prepare, REPO, stats, table, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 6);
const COLD = Number(process.env.BENCH_COLD ?? 3);
// the runs are pinned to one node, whose kubelet's log holds their own figures
const NODE = process.env.PODTRACE_NODE ?? 'podtrace-control-plane';
const KUBELET_LOG = process.env.PODTRACE_KUBELET_LOG ?? `/var/lib/podtrace-cluster/logs/kubelet-${NODE.replace(/^podtrace-/, '')}.log`;
prepare();
heading(`Precision: podtrace vs the kubelet's own figures (${RUNS} warm nginx, ${COLD} cold podtrace/big)`);

const stamp = Date.now().toString(36);
const traces = [];
for (let i = 0; i < RUNS + COLD; i++) {
  const cold = i >= RUNS;
  const image = cold ? 'podtrace/big' : 'nginx';
  if (cold) execFileSync('bash', [path.join(REPO, 'hack', 'cluster.sh'), 'rmi', image], { stdio: 'ignore' });
  const r = await timed(process.execPath, [PODTRACE, 'create', image, '--name', `prec-${stamp}-${i}`, '--node', NODE, '--kubeconfig', KUBECONFIG, '-q', '-o', 'json', '--out', '/dev/null']);
  if (r.code !== 0) throw new Error(`podtrace exited ${r.code}: ${r.stderr}`);
  traces.push(JSON.parse(r.stdout));
}

/** The kubelet's "Observed pod startup duration" line for a pod, as numbers (ms, epoch ms). */
function kubeletLine(pod) {
  const line = readFileSync(KUBELET_LOG, 'utf8')
    .split('\n')
    .find((l) => l.includes('"Observed pod startup duration"') && l.includes(`pod="${pod}"`));
  if (!line) return undefined;
  const field = (name) => line.match(new RegExp(`${name}="([^"]+)"`))?.[1];
  const duration = (text) => {
    const m = text?.match(/^([\d.]+)(ms|s|µs)$/);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'µs' ? 0.001 : 1) : undefined;
  };
  const time = (text) => {
    const m = text?.match(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? \+0000 UTC/);
    return m ? Date.parse(`${m[1]}T${m[2]}Z`) + Number(`0${m[3] ?? ''}`) * 1000 : undefined;
  };
  return {
    pullingMs: duration(field('totalImagesPullingTime')),
    e2eMs: duration(field('podStartE2EDuration')),
    runningAt: time(field('observedRunningTime')),
    watchRunningAt: time(field('watchObservedRunningTime')),
  };
}

const rows = { pullEvent: [], pullLog: [], started: [], e2e: [] };
const at = (t, id) => t.milestones.find((m) => m.id === id);
for (const t of traces) {
  const name = t.pod.name;
  const c = t.containers[0];
  const pulling = at(t, `container.${c.name}.pulling`);
  const pulled = at(t, `container.${c.name}.pulled`);
  const k = kubeletLine(`${t.pod.namespace}/${name}`);
  if (pulling && pulled && c.pullMs !== undefined) rows.pullEvent.push(Math.abs(pulled.at - pulling.at - c.pullMs));
  if (pulling && pulled && k?.pullingMs !== undefined) rows.pullLog.push(Math.abs(pulled.at - pulling.at - k.pullingMs));
  const started = at(t, `container.${c.name}.started`);
  if (started && k?.runningAt !== undefined) rows.started.push(Math.abs(started.at + t.clock.estimateMs - k.runningAt));
  const accepted = at(t, 'api.accepted');
  if (accepted && k?.e2eMs !== undefined && k.watchRunningAt !== undefined) {
    // the kubelet's E2E starts at creationTimestamp (whole seconds); podtrace's at the POST response (ms)
    rows.e2e.push(Math.abs(k.watchRunningAt - (accepted.at + t.clock.estimateMs) - k.e2eMs));
  }
}
const line = (label, values, sources, target) => {
  const s = stats(values);
  return [label, s.n, ms(s.median), ms(s.max), sources, target];
};
console.log(
  table(
    ['phase', 'pods', 'median |Δ|', 'max |Δ|', 'podtrace source (both ends)', 'target'],
    [
      line('image pull vs the Pulled event\'s "in X"', rows.pullEvent, 'event name ns', '< 5ms'),
      line('image pull vs totalImagesPullingTime', rows.pullLog, 'event name ns', '< 5ms'),
      line('container started vs observedRunningTime', rows.started, 'event name ns', 'n/a: different moments'),
      line('created → running vs podStartE2EDuration', rows.e2e, 'client clock (POST response)', 'kubelet: 1 s'),
    ],
  ),
);
console.log(
  "\nThe last row is the kubelet's error, not podtrace's: podStartE2EDuration starts at creationTimestamp,\nwhich has whole seconds, so it runs up to 1 s long; podtrace starts at the POST response (ms).",
);
