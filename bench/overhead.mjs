// Target 2, overhead: `podtrace create nginx` until Ready against `kubectl run`
// + `kubectl wait --for=condition=Ready`, same image, same cluster,
// interleaved, BENCH_RUNS (10) each. podtrace runs with --keep so both stop at
// Ready (its default also deletes the pod and traces the teardown; that row is
// printed for information). Target: ratio of medians at most 1.05.
// The cluster as it runs by default: the API server and the kubelet export every span to the
// local Jaeger. podtrace with its defaults reads the components' metrics (before the POST and
// after Ready); a third command, --no-metrics, interleaved with the two others, says what those
// reads cost: to the POST, to Ready, after it.
// BENCH_TRACING_OFF=1 also says what the components' tracing costs: the same three commands
// with tracing switched off (`hack/cluster.sh up --otlp-endpoint none`, which restarts the API
// server and the kubelet), then on again (`--otlp-endpoint local`, always, also on a failure or
// Ctrl-C) and measured once more, so that a drift shows. Only when the cluster traces to the
// local Jaeger to begin with; it disturbs anyone else using the cluster, hence opt-in.
// The traces are kept in bench/out/overhead/ for the precision benchmark.
//   node bench/overhead.mjs            (BENCH_RUNS=10, BENCH_TRACING_OFF=0)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { changedPods, heading, kubectl, kubectlPath, KUBECONFIG, ms, otherPods, PODTRACE, prepare, quietCluster, REPO, sleep, stats, table, timed } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const TRACING_OFF = process.env.BENCH_TRACING_OFF === '1';
prepare();
heading(`Overhead: podtrace create (defaults, and --no-metrics) vs kubectl run + wait (${RUNS} runs each, interleaved, image nginx present on the node${TRACING_OFF ? '; then with the cluster\'s tracing off, and on again' : ''})`);
const out = path.join(REPO, 'bench', 'out', 'overhead');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Every pod on one node (BENCH_NODE; the worker by default), for all three commands: the two nodes
// differ by ~450 ms from Started to Ready here, and the scheduler took them in turn, so the
// commands' medians were medians of two populations (0.82 to 1.58 for the same build).
const nodes = kubectl('get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}').trim().split(/\s+/);
const NODE = process.env.BENCH_NODE ?? (nodes.includes('podtrace-worker') ? 'podtrace-worker' : nodes[0]);
if (!nodes.includes(NODE)) throw new Error(`BENCH_NODE=${NODE}: the cluster's nodes are ${nodes.join(', ')}`);
console.log(`every pod on ${NODE}`);
/** podtrace's --node, for kubectl run: a required affinity to the node's name. */
const onNode = JSON.stringify({
  apiVersion: 'v1',
  spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [NODE] }] }] } } } },
});

const stamp = Date.now().toString(36);
const gone = (name) => kubectl('delete', 'pod', name, '--wait=true', '--timeout=90s', '--ignore-not-found');
const kubectlRun = async (name) => {
  const started = performance.now();
  const run = await timed(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'run', name, '--image=nginx', '--restart=Never', `--overrides=${onNode}`]);
  if (run.code !== 0) throw new Error(`kubectl run: ${run.stderr}`);
  const wait = await timed(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
  if (wait.code !== 0) throw new Error(`kubectl wait: ${wait.stderr}`);
  return performance.now() - started;
};
// Where podtrace's time goes, from its own recording: each stage ends at a client observation.
const STAGES = [
  ['node and the CLI bundle loaded', (rec) => rec.header.startedAt],
  ['Kubernetes client loaded, kubeconfig read', (rec) => at(rec, 'kubeconfig-loaded')],
  ['version, identity and access reviews', (rec) => reviewed(rec)],
  // the watches open beside the reviews: this stage is what they took longer, if anything
  ['pod and event watches open too', (rec) => Math.max(reviewed(rec), at(rec, 'watch-started', 'last', 3))],
  ['POST sent', (rec) => at(rec, 'post-sent')],
  ['Ready seen (pod watch)', (rec) => rec.observations.filter((o) => o.source === 'pod').at(-1).observedAt],
  ['process ended (trace written)', (rec) => rec.endedAt],
];
function reviewed(rec) {
  return Math.max(...['server-version', 'self-subject-review', 'access-review'].map((t) => at(rec, t, 'last')));
}
function at(rec, type, which = 'first', limit = Infinity) {
  const found = rec.observations.filter((o) => o.source === 'client' && o.type === type).slice(0, limit);
  return (which === 'first' ? found[0] : found.at(-1))?.observedAt ?? NaN;
}
const stageRuns = [];
const field = (t, id) => t.milestones.find((m) => m.id === id)?.at ?? NaN;
// `record`: also save the recording (an extra file written at the end), for the stage table only.
// Resolves to the wall time and, from the trace, when the POST was sent and Ready seen (ms from
// the spawn; both clocks are this machine's), when the Started event says the container started
// (from the POST: no PLEG tick in it), and the components' exact metric steps.
const podtrace = async (name, keep, { record = false, metrics = true } = {}) => {
  const file = path.join(out, `${name}.json`);
  const args = [PODTRACE, 'create', 'nginx', '--name', name, '--node', NODE, '--kubeconfig', KUBECONFIG, '-q', '-o', 'json', '--out', file];
  const recordTo = path.join(out, `${name}.ndjson`);
  const spawnedAt = performance.timeOrigin + performance.now();
  const r = await timed(process.execPath, [...args, ...(keep ? ['--keep'] : []), ...(record ? ['--record', recordTo] : []), ...(metrics ? [] : ['--no-metrics'])]);
  if (r.code !== 0) throw new Error(`podtrace exited ${r.code}: ${r.stderr}`);
  if (record) {
    const [header, ...observations] = readFileSync(recordTo, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const rec = { header, observations, endedAt: spawnedAt + r.ms };
    stageRuns.push(STAGES.map(([, end]) => end(rec) - spawnedAt));
  }
  const t = JSON.parse(readFileSync(file, 'utf8'));
  const ready = field(t, 'pod.ready');
  return {
    ms: r.ms,
    toPost: t.run.t0 - spawnedAt,
    toReady: ready - spawnedAt,
    afterReady: spawnedAt + r.ms - ready,
    started: t.milestones.find((m) => m.id.match(/^container\..*\.started$/))?.offsetMs ?? NaN,
    metric: Object.fromEntries((t.metrics?.steps ?? []).filter((m) => m.exact).map((m) => [m.id, m.durationMs])),
  };
};

// one of each first, not counted: the node has the image and both paths are warm
await kubectlRun(`bench-warm-k-${stamp}`);
gone(`bench-warm-k-${stamp}`);
await podtrace(`bench-warm-p-${stamp}`, true);
gone(`bench-warm-p-${stamp}`);
await podtrace(`bench-warm-n-${stamp}`, true, { metrics: false });
gone(`bench-warm-n-${stamp}`);

// RUNS of each of the three commands, interleaved: each round runs them in another order, so that
// a drift in the cluster hits all alike.
const ORDERS = [['p', 'n', 'k'], ['k', 'p', 'n'], ['n', 'k', 'p'], ['p', 'k', 'n'], ['k', 'n', 'p'], ['n', 'p', 'k']];
const ours = (namespace, name) => name.includes(stamp);
let redone = 0;
async function block(tag) {
  const got = { k: [], p: [], n: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const which of ORDERS[i % ORDERS.length]) {
      // The cluster may be shared: a run during which someone else's pods changed is made again (twice at most).
      for (let attempt = 0; ; attempt++) {
        const name = `bench-${tag}${which}-${stamp}-${i}${attempt ? `-${attempt}` : ''}`;
        const before = await quietCluster(ours);
        // The kubelet notices a started container on its next PLEG relist (every 1 s), and the
        // previous pod's deletion ends on one: starting right after it phase-locks the run to that
        // tick. A random pause spreads every run over the whole period, for every command alike.
        await sleep(Math.random() * 1000);
        const result = which === 'k' ? await kubectlRun(name) : await podtrace(name, true, { metrics: which === 'p' });
        const moved = changedPods(before, otherPods(ours));
        gone(name);
        if (moved.length && attempt < 2) {
          redone++;
          continue;
        }
        got[which].push(result);
        break;
      }
    }
  }
  return got;
}
const main = await block('');
const k = main.k;
const p = main.p.map((r) => r.ms);
const n = main.n.map((r) => r.ms);
// The stage table's runs, not counted above: --record writes one more file at the end.
for (let i = 0; i < Math.min(RUNS, 5); i++) {
  const name = `bench-rec-${stamp}-${i}`;
  await sleep(Math.random() * 1000);
  await podtrace(name, true, { record: true });
  gone(name);
}
const full = [];
for (let i = 0; i < 3; i++) full.push((await podtrace(`bench-full-${stamp}-${i}`, false)).ms);

const sk = stats(k);
const sp = stats(p);
const sn = stats(n);
const sf = stats(full);
console.log(
  table(
    ['command', 'n', 'median', 'p90', 'min', 'max', 'ratio of medians'],
    [
      ['kubectl run + kubectl wait (baseline)', sk.n, ms(sk.median), ms(sk.p90), ms(sk.min), ms(sk.max), '1.00'],
      ['podtrace create nginx --keep', sp.n, ms(sp.median), ms(sp.p90), ms(sp.min), ms(sp.max), (sp.median / sk.median).toFixed(3)],
      ['podtrace create nginx --keep --no-metrics', sn.n, ms(sn.median), ms(sn.p90), ms(sn.min), ms(sn.max), (sn.median / sk.median).toFixed(3)],
      ['podtrace create nginx (default: + delete, teardown traced)', sf.n, ms(sf.median), ms(sf.p90), ms(sf.min), ms(sf.max), (sf.median / sk.median).toFixed(3)],
    ],
  ),
);
console.log(`\ntarget: podtrace --keep / kubectl at most 1.05; traces and recordings in ${path.relative(REPO, out)}/`);
console.log(`runs made again because someone else's pods changed meanwhile: ${redone}`);

// podtrace --keep, stage by stage, from the recordings of separate runs ("since start" from the spawn).
console.log(`\npodtrace create nginx --keep --record, stage by stage (${stageRuns.length} more runs; each column its own median, so stages do not add up exactly)`);
console.log(
  table(
    ['stage ends when', 'since start', 'stage'],
    STAGES.map(([label], i) => {
      const since = stats(stageRuns.map((r) => r[i])).median;
      const stage = stats(stageRuns.map((r) => r[i] - (i === 0 ? 0 : r[i - 1]))).median;
      return [label, ms(since), ms(stage)];
    }),
  ),
);

// What the metric reads cost: the two podtrace commands of the same rounds, stage by stage.
const median = (values) => stats(values.filter(Number.isFinite)).median;
const cost = (label, f) => {
  const a = median(main.p.map(f));
  const b = median(main.n.map(f));
  return [label, ms(a), ms(b), ms(a - b)];
};
console.log('\nwhat the metric reads cost: podtrace create nginx --keep, defaults vs --no-metrics (the rounds above; each cell its own median)');
console.log(
  table(
    ['from → to', 'defaults (metrics read)', '--no-metrics', 'difference'],
    [
      cost('spawn → POST sent', (r) => r.toPost),
      cost('POST sent → Ready seen', (r) => r.toReady - r.toPost),
      cost('POST sent → container started (Started event)', (r) => r.started),
      cost('Ready seen → process ended', (r) => r.afterReady),
      cost('spawn → process ended', (r) => r.ms),
    ],
  ),
);

// What the components' tracing costs (BENCH_TRACING_OFF=1): the same rounds with it off, then on again.
if (TRACING_OFF) {
  const state = process.env.PODTRACE_STATE ?? '/var/lib/podtrace-cluster';
  const endpointFile = path.join(state, 'etc', 'otlp-endpoint');
  const cluster = (...args) => execFileSync('bash', [path.join(REPO, 'hack', 'cluster.sh'), ...args], { stdio: 'ignore' });
  if (process.env.PODTRACE_BENCH_KUBECONFIG || existsSync(endpointFile)) {
    console.log('\ntracing: not switched, the cluster is not the local one tracing to its Jaeger: left as it is');
  } else {
    const warm = async (tag) => {
      await kubectlRun(`bench-warm-k${tag}-${stamp}`);
      gone(`bench-warm-k${tag}-${stamp}`);
      await podtrace(`bench-warm-p${tag}-${stamp}`, true);
      gone(`bench-warm-p${tag}-${stamp}`);
    };
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      const started = performance.now();
      cluster('up', '--otlp-endpoint', 'local');
      console.log(`\ntracing back on (hack/cluster.sh up --otlp-endpoint local: ${ms(performance.now() - started)})`);
    };
    process.once('SIGINT', () => {
      restore();
      process.exit(130);
    });
    let off;
    try {
      const started = performance.now();
      cluster('up', '--otlp-endpoint', 'none');
      console.log(`\ntracing off (hack/cluster.sh up --otlp-endpoint none, the API server and the kubelet restarted: ${ms(performance.now() - started)})`);
      await warm('off');
      off = await block('off-');
    } finally {
      restore();
    }
    await warm('on');
    const again = await block('on-');
    // Back as it was: a new pod's spans reach Jaeger again.
    const check = `bench-spans-${stamp}`;
    const r = await timed(process.execPath, [PODTRACE, 'create', 'nginx', '--name', check, '--kubeconfig', KUBECONFIG, '--spans', 'http://127.0.0.1:16686', '-q', '-o', 'json', '--out', path.join(out, `${check}.json`)]);
    const spans = r.code === 0 ? JSON.parse(readFileSync(path.join(out, `${check}.json`), 'utf8')).spans?.steps ?? [] : [];
    console.log(`the cluster traces again: ${spans.some((s) => s.name.endsWith('/RunPodSandbox')) ? "yes, a new pod's RunPodSandbox span read from Jaeger" : 'NO: no RunPodSandbox span for a new pod'}`);

    const on = { k: [...main.k, ...again.k], p: [...main.p, ...again.p], n: [...main.n, ...again.n] };
    const both = (b) => [...b.p, ...b.n];
    const line = (label, f, from = (b) => b.p) => {
      const [before, without, after, all] = [main, off, again, on].map((b) => median(from(b).map(f)));
      const withOff = from(off).map(f).filter(Number.isFinite).length;
      return [label, withOff, ms(before), ms(without), ms(after), ms(all - without)];
    };
    const metric = (id) => (r) => r.metric[id] ?? NaN;
    console.log(`\nwhat the components' tracing costs: the same ${RUNS} rounds with it off, between the rounds above and ${RUNS} more with it on again (medians; ${redone} runs made again in all)`);
    console.log(
      table(
        ['measure', 'n (off)', 'tracing on', 'tracing off', 'on again', 'on − off (both on rounds)'],
        [
          line('kubectl run + wait, to Ready', (x) => x, (b) => b.k),
          line('podtrace create --keep, to exit', (r) => r.ms),
          line('podtrace: POST sent → container started (event)', (r) => r.started, both),
          line('podtrace: POST sent → Ready seen', (r) => r.toReady - r.toPost, both),
          line('API server handles the POST (metric)', metric('apiserver.post')),
          line('etcd write of the pod (metric)', metric('apiserver.etcd-write')),
          line("kubelet's first sync, syncPod (metric)", metric('kubelet.pod-worker-create')),
          line('RunPodSandbox (metric)', metric('kubelet.run-pod-sandbox')),
          line('PullImage (metric)', metric('kubelet.pull-image')),
          line('CreateContainer (metric)', metric('kubelet.create-container')),
          line('StartContainer (metric)', metric('kubelet.start-container')),
        ],
      ),
    );
    console.log('the metric rows: the podtrace runs with defaults, steps exact only (others shared with other operations are left out)');
  }
}
