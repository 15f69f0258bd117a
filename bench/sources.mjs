// Every step timed by the component that performs it: the same runs of
// `podtrace create nginx --spans` read three ways, and the sources compared
// step by step where they measure the same thing:
//   span    the API server's and the kubelet's OpenTelemetry spans (trace.spans, Jaeger, ns);
//   metric  the components' Prometheus histograms read before and after the run
//           (trace.metrics, steps with exact: true: the count moved by this pod's operations only);
//   event   the kubelet's events (nanoseconds in the event names) and, where no event times a
//           moment, what podtrace gives without spans: the same run's recording replayed with
//           its span and metric observations left out (watch, POST response, bounds).
// Then the kubelet's waits between its own steps, which only the spans show.
// BENCH_RUNS (10) quiet runs, one after another. A run is set aside and another made when the
// node or the API server was busy with something else meanwhile: a metric step shared with
// others' operations (the cluster is shared), another pod that changed meanwhile, a span missing.
//   node bench/sources.mjs            (BENCH_RUNS=10, PODTRACE_SPANS=http://127.0.0.1:16686)
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { changedPods, heading, KUBECONFIG, ms, otherPods, PODTRACE, prepare, quietCluster, REPO, sleep, stats, table, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SPANS = process.env.PODTRACE_SPANS ?? 'http://127.0.0.1:16686';
/** "Agree within a few ms": every run's difference at most this. */
const AGREE_MS = 5;
/** The kubelet's log (-v 2): where it is, its volume lines say what the wait before RunPodSandbox is. */
// the runs are pinned to one node, whose kubelet's log holds their own figures
const NODE = process.env.PODTRACE_NODE ?? 'podtrace-control-plane';
const KUBELET_LOG = process.env.PODTRACE_KUBELET_LOG ?? `/var/lib/podtrace-cluster/logs/kubelet-${NODE.replace(/^podtrace-/, '')}.log`;
prepare();
heading(`Sources: spans, metrics and events of the same ${RUNS} podtrace create nginx --spans runs (sequential, image present on the node)`);
const out = path.join(REPO, 'bench', 'out', 'sources');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const stamp = Date.now().toString(36);
const ours = (namespace, name) => namespace === 'default' && name.startsWith(`src-${stamp}-`);

// The figures each source must have for a run to count.
const METRIC_STEPS = ['apiserver.post', 'apiserver.etcd-write', 'kubelet.pod-worker-create', 'kubelet.run-pod-sandbox', 'kubelet.pull-image', 'kubelet.create-container', 'kubelet.start-container'];
const SPAN_NAMES = {
  post: 'POST /api/v1/namespaces/{:namespace}/pods',
  etcd: 'Create etcd3',
  sync: 'syncPod',
  sandbox: 'runtime.v1.RuntimeService/RunPodSandbox',
  pull: 'runtime.v1.ImageService/PullImage',
  create: 'runtime.v1.RuntimeService/CreateContainer',
  start: 'runtime.v1.RuntimeService/StartContainer',
};

/** The run's recording without the span and metric observations, replayed: what podtrace gives from events and watches alone. */
async function withoutSpans(recording) {
  const kept = readFileSync(recording, 'utf8')
    .trim()
    .split('\n')
    .filter((line, i) => {
      if (i === 0) return true;
      const o = JSON.parse(line);
      return !(o.source === 'client' && ['spans', 'spans-read', 'metrics-sample'].includes(o.type));
    });
  const stripped = recording.replace(/\.ndjson$/, '.events.ndjson');
  writeFileSync(stripped, `${kept.join('\n')}\n`);
  const r = await timed(process.execPath, [PODTRACE, 'replay', stripped, '-o', 'json']);
  if (r.code !== 0) throw new Error(`podtrace replay exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** One run's figures, all offsets in ms from podtrace's t0 (the POST sent), or why it does not count. */
function figures(t, e) {
  const step = (name) => t.spans?.steps.filter((s) => s.name === name).sort((a, b) => a.startOffsetMs - b.startOffsetMs)[0];
  const span = {};
  for (const [key, name] of Object.entries(SPAN_NAMES)) {
    const s = step(name);
    if (s) span[key] = { start: s.startOffsetMs, end: s.startOffsetMs + s.durationMs, duration: s.durationMs };
  }
  const metric = Object.fromEntries((t.metrics?.steps ?? []).filter((m) => m.exact).map((m) => [m.id, m.durationMs]));
  const at = (trace, id) => trace.milestones.find((m) => m.id === id);
  const c = t.containers[0].name;
  const post = t.run.otel?.requests.find((r) => r.call === 'createPod');
  const sync = step(SPAN_NAMES.sync);
  // ms since the epoch on the kubelet's clock → offset, as the spans' offsets are
  const toOffset = sync ? (epochMs) => epochMs - (Number(BigInt(sync.startUnixNano) / 1000n) / 1000 - sync.startOffsetMs) : undefined;
  const why = [
    ...METRIC_STEPS.filter((id) => metric[id] === undefined).map((id) => {
      const m = t.metrics?.steps.find((x) => x.id === id);
      return m ? `metric ${id} shared with ${m.sharedWith}` : `metric ${id} missing`;
    }),
    ...Object.keys(SPAN_NAMES).filter((k) => !span[k]).map((k) => `span ${SPAN_NAMES[k]} missing`),
  ];
  const ev = (id) => at(e, id);
  const need = ['scheduler.scheduled', 'kubelet.acknowledged', 'runtime.sandbox-ready', 'api.accepted', `container.${c}.pulling`, `container.${c}.pulled`, `container.${c}.created`, `container.${c}.started`, 'pod.ready'];
  for (const id of need) if (!ev(id)) why.push(`milestone ${id} missing without spans`);
  if (!post?.durationMs) why.push('POST response missing');
  if (why.length) return { why };
  return {
    span,
    metric,
    event: {
      scheduled: ev('scheduler.scheduled').offsetMs,
      acknowledged: ev('kubelet.acknowledged').offsetMs,
      acknowledgedSource: ev('kubelet.acknowledged').source,
      sandboxReady: ev('runtime.sandbox-ready').offsetMs,
      sandboxReadySource: [ev('runtime.sandbox-ready').source, ev('runtime.sandbox-ready').boundedBy].filter(Boolean).join(' '),
      sandboxReadyWidth: ev('runtime.sandbox-ready').precisionMs,
      accepted: ev('api.accepted').offsetMs,
      acceptedSource: ev('api.accepted').source,
      pulling: ev(`container.${c}.pulling`).offsetMs,
      pulled: ev(`container.${c}.pulled`).offsetMs,
      pulledIn: t.containers[0].pullMs,
      created: ev(`container.${c}.created`).offsetMs,
      started: ev(`container.${c}.started`).offsetMs,
      ready: ev('pod.ready').offsetMs,
    },
    postResponse: post.offsetMs + post.durationMs,
    pod: t.pod.name,
    toOffset,
    eventSources: [...new Set(need.map((id) => ev(id).source))],
  };
}

/**
 * The kubelet's log lines about a pod's volumes, as offsets: the volume manager's reconciler
 * verifies the volume attached, starts mounting it, and the mount succeeds. klog's stamps are the
 * host's local time with µs and no year.
 */
function volumeLines(log, r) {
  const year = new Date().getFullYear();
  const find = (text) => {
    const line = log.find((l) => l.includes(text) && (l.includes(`pod \\"${r.pod}\\"`) || l.includes(`pod="default/${r.pod}"`)));
    const m = line?.match(/^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})/);
    if (!m) return NaN;
    const [, mo, d, h, mi, sec, us] = m.map(Number);
    return r.toOffset(new Date(year, mo - 1, d, h, mi, sec).getTime() + us / 1000);
  };
  return { verify: find('VerifyControllerAttachedVolume started'), mountStarted: find('operationExecutor.MountVolume started'), mounted: find('MountVolume.SetUp succeeded') };
}

const runs = [];
const setAside = [];
for (let i = 0; runs.length < RUNS && i < RUNS * 3; i++) {
  const before = await quietCluster(ours);
  // The kubelet notices a started container on its next PLEG relist (1 s): a random pause keeps
  // the runs from being phase-locked to it (bench/overhead.mjs).
  await sleep(Math.random() * 1000);
  const name = `src-${stamp}-${i}`;
  const file = path.join(out, `${name}.json`);
  const recording = path.join(out, `${name}.ndjson`);
  const r = await timed(process.execPath, [PODTRACE, 'create', 'nginx', '--name', name, '--node', NODE, '--spans', SPANS, '--kubeconfig', KUBECONFIG, '-q', '-o', 'json', '--out', file, '--record', recording]);
  if (r.code !== 0) throw new Error(`podtrace exited ${r.code}: ${r.stderr}`);
  const moved = changedPods(before, otherPods(ours));
  const t = JSON.parse(readFileSync(file, 'utf8'));
  const f = figures(t, await withoutSpans(recording));
  if (moved.length) (f.why ??= []).push(`other pods changed meanwhile: ${moved.slice(0, 3).join(', ')}${moved.length > 3 ? ` and ${moved.length - 3} more` : ''}`);
  if (f.why) {
    setAside.push({ name, why: f.why });
    console.log(`run ${i}: set aside (${f.why.join('; ')})`);
  } else {
    runs.push(f);
  }
}
if (runs.length < RUNS) console.log(`only ${runs.length} quiet runs of ${RUNS} after ${RUNS * 3} tries`);
console.log(`${runs.length} quiet runs; ${setAside.length} set aside and made again. Traces, recordings and their event-only replays in ${path.relative(REPO, out)}/\n`);

// Same thing, two sources: a − b per run.
const compare = (label, a, b, f) => ({ label, sources: `${a} vs ${b}`, d: runs.map(f) });
const sameThing = [
  compare('API server handles the POST (duration)', 'span POST', 'metric apiserver.post', (r) => r.span.post.duration - r.metric['apiserver.post']),
  compare('etcd write of the pod (duration)', 'span Create etcd3', 'metric apiserver.etcd-write', (r) => r.span.etcd.duration - r.metric['apiserver.etcd-write']),
  compare("kubelet's first sync of the pod (duration)", 'span syncPod', 'metric kubelet.pod-worker-create', (r) => r.span.sync.duration - r.metric['kubelet.pod-worker-create']),
  compare('RunPodSandbox (duration)', 'span', 'metric kubelet.run-pod-sandbox', (r) => r.span.sandbox.duration - r.metric['kubelet.run-pod-sandbox']),
  compare('PullImage (duration)', 'span', 'metric kubelet.pull-image', (r) => r.span.pull.duration - r.metric['kubelet.pull-image']),
  compare('PullImage (duration)', 'span', 'events Pulling → Pulled', (r) => r.span.pull.duration - (r.event.pulled - r.event.pulling)),
  compare('PullImage (duration)', 'metric kubelet.pull-image', 'Pulled event "in X"', (r) => r.metric['kubelet.pull-image'] - r.event.pulledIn),
  compare('CreateContainer (duration)', 'span', 'metric kubelet.create-container', (r) => r.span.create.duration - r.metric['kubelet.create-container']),
  compare('StartContainer (duration)', 'span', 'metric kubelet.start-container', (r) => r.span.start.duration - r.metric['kubelet.start-container']),
  compare('StartContainer (duration)', 'span', 'events Created → Started', (r) => r.span.start.duration - (r.event.started - r.event.created)),
  compare('image pull begins', 'span PullImage start', 'Pulling event', (r) => r.span.pull.start - r.event.pulling),
  compare('image pulled', 'span PullImage end', 'Pulled event', (r) => r.span.pull.end - r.event.pulled),
  compare('container created', 'span CreateContainer end', 'Created event', (r) => r.span.create.end - r.event.created),
  compare('container started', 'span StartContainer end', 'Started event', (r) => r.span.start.end - r.event.started),
  compare('sandbox ready', 'span RunPodSandbox end', `without spans (${[...new Set(runs.map((r) => r.event.sandboxReadySource))].join(', ')})`, (r) => r.span.sandbox.end - r.event.sandboxReady),
];
// What the other source times is another moment: shown so that it is not taken for the same.
const otherMoment = [
  compare('container started', 'span StartContainer start', 'Started event', (r) => r.span.start.start - r.event.started),
  compare('POST answered', 'span POST end', 'client: POST response', (r) => r.span.post.end - r.postResponse),
  compare('pod stored', 'span Create etcd3 end', `without spans (${[...new Set(runs.map((r) => r.event.acceptedSource))].join(', ')})`, (r) => r.span.etcd.end - r.event.accepted),
  compare('kubelet acknowledged the pod', 'span syncPod start', `without spans (${[...new Set(runs.map((r) => r.event.acknowledgedSource))].join(', ')})`, (r) => r.span.sync.start - r.event.acknowledged),
];
const row = ({ label, sources, d }, verdict = true) => {
  const abs = stats(d.map(Math.abs));
  const agree = abs.n === 0 ? 'n/a' : !verdict ? 'n/a: other moment' : abs.max <= AGREE_MS ? 'yes' : abs.median <= AGREE_MS ? `median only` : 'no';
  return [label, sources, abs.n, ms(stats(d).median), ms(abs.median), ms(abs.p90), ms(abs.max), agree];
};
const head = ['step', 'sources (a vs b)', 'runs', 'median a−b', 'median |Δ|', 'p90 |Δ|', 'max |Δ|', `agree (all ≤ ${AGREE_MS} ms)`];
console.log('the same step from two sources');
console.log(table(head, sameThing.map((c) => row(c))));
console.log('\nanother moment: what each source stamps');
console.log(table(head, otherMoment.map((c) => row(c, false))));
const width = stats(runs.map((r) => r.event.sandboxReadyWidth));
console.log(`\nwithout spans, "sandbox ready" is a bound ${ms(width.median)} wide (median; up to ${ms(width.max)}) whose edge is the next event; the span's end falls ${ms(stats(runs.map((r) => r.span.sandbox.end - r.event.sandboxReady)).median)} from that edge (median)`);

let log = [];
try {
  log = readFileSync(KUBELET_LOG, 'utf8').split('\n');
} catch {
  // not the local cluster: no volume lines
}
for (const r of runs) r.volume = volumeLines(log, r);
const logged = runs.filter((r) => Number.isFinite(r.volume.mounted)).length;

// The kubelet's waits between its own steps: gaps between spans (and the events, watch around them).
const wait = (label, f, note = '') => {
  const s = stats(runs.map(f));
  return [label, ms(s.median), ms(s.p90), ms(s.min), ms(s.max), note];
};
console.log(`\nwaits between the steps (from the spans; Scheduled from its event, Ready from the pod watch${logged ? `, the volume from the kubelet's log (-v 2, µs) for ${logged} runs` : ''})`);
console.log(
  table(
    ['from → to', 'median', 'p90', 'min', 'max', 'inside'],
    [
      wait('POST answered (span end) → Scheduled event', (r) => r.event.scheduled - r.span.post.end, 'scheduling, binding'),
      wait('Scheduled event → kubelet syncPod start', (r) => r.span.sync.start - r.event.scheduled, 'both follow the binding (the event is sent after it)'),
      wait('POST answered (span end) → kubelet syncPod start', (r) => r.span.sync.start - r.span.post.end, 'scheduling, binding, the kubelet\'s watch'),
      wait('syncPod start → RunPodSandbox start', (r) => r.span.sandbox.start - r.span.sync.start, `no span; pod cgroup (metric) ${ms(stats(runs.map((r) => r.metric['kubelet.pod-cgroup'] ?? NaN).filter(Number.isFinite)).median)}`),
      ...(logged
        ? [
            wait('  syncPod start → volume verified attached (log)', (r) => r.volume.verify - r.span.sync.start, "the volume manager's reconciler"),
            wait('  → mount started (log)', (r) => r.volume.mountStarted - r.volume.verify),
            wait('  → mounted (log: MountVolume.SetUp succeeded)', (r) => r.volume.mounted - r.volume.mountStarted, 'the projected kube-api-access volume'),
            wait('  mounted → RunPodSandbox start', (r) => r.span.sandbox.start - r.volume.mounted, 'syncPod waits for the volumes'),
          ]
        : []),
      wait('RunPodSandbox end → PullImage start', (r) => r.span.pull.start - r.span.sandbox.end),
      wait('PullImage end → CreateContainer start', (r) => r.span.create.start - r.span.pull.end),
      wait('RunPodSandbox end → CreateContainer start', (r) => r.span.create.start - r.span.sandbox.end, 'incl. PullImage'),
      wait('CreateContainer end → StartContainer start', (r) => r.span.start.start - r.span.create.end),
      wait('StartContainer end → syncPod end', (r) => r.span.sync.end - r.span.start.end),
      wait('StartContainer end → Ready seen (pod watch)', (r) => r.event.ready - r.span.start.end, 'PLEG relist (1 s), status update, watch'),
    ],
  ),
);
console.log(`\nevent-only sources used: ${[...new Set(runs.flatMap((r) => r.eventSources))].join(', ')}`);
