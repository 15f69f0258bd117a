// Target 4 (and 6 at scale): `podtrace watch -l` over BENCH_PODS (1000) pods
// on a simulated node. kwok (built from its Go module, hack-free: `go install
// sigs.k8s.io/kwok/cmd/kwok@v0.8.0` into the cache) plays the node and moves its
// pods to Running/Ready; the API server, etcd, scheduler and controller manager
// are the real ones of the local cluster.
// Reports: how long after the last pod's Ready podtrace has finished (target
// 1 s), its peak memory and CPU time per 1,000 pods, the watch connections it
// opened and its requests per pod (audit log).
// With BENCH_PEER=kube-burner the pods are not a Deployment's: kube-burner
// (v1.13.0, built from hack/kube-burner as in bench/peer.mjs) creates them as
// bare pods with its podLatency measurement on, and podtrace watches the same
// pods in the same run; both processes' peak RSS, CPU time and time to their
// result are printed side by side.
//   node bench/scale.mjs            (BENCH_PODS=1000)
//   BENCH_PODS=10000 BENCH_PEER=kube-burner [BENCH_QPS=200] node bench/scale.mjs
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunSetSplitter } from '../src/analysis/runset-split.ts';
import { auditedKubeconfig, CACHE, countRequests, GOENV, heading, KUBE_BURNER_VERSION, kubeBurnerBinary, kubectl, KUBECONFIG, ms, PODTRACE, prepare, processUsage, sleep, table, writeKubeBurnerJob } from './lib.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const KWOK_VERSION = 'v0.8.0';
const PEER = process.env.BENCH_PEER === 'kube-burner';
/** kube-burner's creation rate: above what the cluster starts per second, the pods in flight pile up. */
const QPS = Number(process.env.BENCH_QPS ?? 200);
if (process.env.BENCH_PEER && !PEER) throw new Error(`BENCH_PEER=${process.env.BENCH_PEER}: the only peer is kube-burner`);
prepare();
heading(
  PEER
    ? `Scale: podtrace watch and kube-burner ${KUBE_BURNER_VERSION} podLatency on the same ${PODS} pods (created by kube-burner, ${QPS}/s) on kwok nodes`
    : `Scale: podtrace watch over ${PODS} pods of a Deployment on kwok nodes`,
);

const kubeBurner = PEER ? kubeBurnerBinary() : undefined;

// kwok, built once into the cache; its stage files come with the module.
const kwokDir = path.join(CACHE, 'bin', `kwok-${KWOK_VERSION}`);
const kwok = path.join(kwokDir, 'kwok');
if (!existsSync(kwok)) {
  mkdirSync(kwokDir, { recursive: true });
  execFileSync('go', ['install', '-trimpath', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`], { env: { ...GOENV, GOBIN: kwokDir }, stdio: 'inherit' });
}
const stages = path.join(GOENV.GOMODCACHE, `sigs.k8s.io/kwok@${KWOK_VERSION}`, 'kustomize', 'stage');
const stageFiles = ['node/fast', 'node/heartbeat-with-lease', 'pod/fast'].flatMap((d) =>
  readdirSync(path.join(stages, d))
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .map((f) => path.join(stages, d, f)),
);

const work = path.join(os.tmpdir(), `podtrace-scale-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
// One kwok node per 2,000 pods (BENCH_KWOK_NODES overrides), as a cluster of that size would have.
// kwok renews each node's Lease (--node-lease-duration-seconds below): without one, the node
// controller marked the nodes NotReady two minutes in, and with them every pod's Ready False.
const KWOK_NODES = Number(process.env.BENCH_KWOK_NODES ?? Math.max(1, Math.ceil(PODS / 2000)));
const kwokNodes = Array.from({ length: KWOK_NODES }, (_, i) => `kwok-node-${i}`);
const perNode = Math.max(5000, Math.ceil(PODS / KWOK_NODES) + 1000);
writeFileSync(
  path.join(work, 'node.yaml'),
  kwokNodes
    .map(
      (name) => `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations: { kwok.x-k8s.io/node: fake }
  labels: { type: kwok, kubernetes.io/hostname: ${name} }
spec:
  taints: [{ key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule }]
status:
  allocatable: { cpu: "1000", memory: 1Ti, pods: "${perNode}" }
  capacity: { cpu: "1000", memory: 1Ti, pods: "${perNode}" }
`,
    )
    .join('---\n'),
);
writeFileSync(
  path.join(work, 'deploy.yaml'),
  `apiVersion: apps/v1
kind: Deployment
metadata: { name: podtrace-scale, namespace: podtrace-scale }
spec:
  replicas: ${PODS}
  selector: { matchLabels: { app: podtrace-scale } }
  template:
    metadata: { labels: { app: podtrace-scale } }
    spec:
      nodeSelector: { type: kwok }
      tolerations: [{ key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule }]
      containers: [{ name: app, image: fake-image }]
`,
);
const metrics = path.join(work, 'metrics');
if (PEER) writeKubeBurnerJob(work, {
  name: 'podtrace-scale',
  namespace: 'podtrace-scale',
  pods: PODS,
  qps: QPS,
  metrics,
  podSpec: `  nodeSelector: { type: kwok }
  tolerations: [{ key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule }]
  containers: [{ name: app, image: fake-image }]
`,
});

// Its own namespace, deleted at the end with its tens of thousands of events: left in default, they
// slowed every LIST of events there for an hour. An earlier run's is deleted asynchronously: wait.
kubectl('delete', 'namespace', 'podtrace-scale', '--ignore-not-found', '--wait=true', '--timeout=600s');
kubectl('create', 'namespace', 'podtrace-scale');
kubectl('apply', '-f', path.join(work, 'node.yaml'));
const kwokProcess = spawn(kwok, ['--kubeconfig', KUBECONFIG, '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake', '--node-lease-duration-seconds=40', ...stageFiles.flatMap((f) => ['-c', f])], {
  env: { ...process.env, HOME: work },
  stdio: 'ignore',
});
try {
  const readyNodes = () => kubectl('get', 'nodes', '-l', 'type=kwok', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}').split(/\s+/).filter((s) => s === 'True').length;
  for (let i = 0; i < 120 && readyNodes() < KWOK_NODES; i++) await sleep(500);

  const { kubeconfig } = auditedKubeconfig();
  const out = path.join(work, 'set.json');
  let usage;
  let burner;
  let burnerLog = '';
  const requests = await countRequests(async () => {
    const child = spawn(process.execPath, [PODTRACE, 'watch', '-n', 'podtrace-scale', '-l', 'app=podtrace-scale', '--count', String(PODS), '--for', `${Math.max(20, Math.ceil(PODS / 500))}m`, '-q', '--out', out, '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const watch = processUsage(child);
    await sleep(2000);
    if (PEER) {
      const process_ = spawn(kubeBurner, ['init', '-c', 'config.yml', '--uuid', `podtrace-scale-${Date.now().toString(36)}`], {
        cwd: work,
        env: { ...process.env, KUBECONFIG },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      process_.stdout.on('data', (d) => (burnerLog = (burnerLog + d).slice(-20_000)));
      process_.stderr.on('data', (d) => (burnerLog = (burnerLog + d).slice(-20_000)));
      burner = processUsage(process_);
    } else {
      kubectl('apply', '-f', path.join(work, 'deploy.yaml'));
    }
    const [code, burnerCode] = await Promise.all([watch.ended, burner?.ended]);
    if (code !== 0) throw new Error(`podtrace watch exited ${code}`);
    if (burner && burnerCode !== 0) throw new Error(`kube-burner exited ${burnerCode}:\n${burnerLog.split('\n').slice(-15).join('\n')}`);
    usage = watch.usage;
  });
  const endedAt = usage.endedAt;
  // The run set is read a run at a time (at 50,000 pods its text is too long for one string).
  const splitter = new RunSetSplitter();
  const set = { runs: [] };
  const readyAt = [];
  const flight = [];
  for await (const chunk of createReadStream(out, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    for (const text of splitter.push(chunk)) {
      const run = JSON.parse(text);
      set.runs.push(run.pod.name);
      const at = run.milestones.find((m) => m.id === 'pod.ready')?.at;
      if (at !== undefined) readyAt.push(at);
      // a pod is in flight from the API server's acceptance (t0) to its Ready
      flight.push([run.run.t0, 1], [at ?? run.run.lastObservedAt, -1]);
    }
  }
  const lastReady = readyAt.reduce((a, b) => Math.max(a, b), 0);
  // the most pods started and not yet Ready at once: what watch's memory follows
  flight.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let mostInFlight = 0;
  for (const [, step] of flight) mostInFlight = Math.max(mostInFlight, (inFlight += step));
  // kept for bench/big-sets.mjs (report and diff of big run sets), outside the repository
  mkdirSync(path.join(CACHE, 'bench'), { recursive: true });
  copyFileSync(out, path.join(CACHE, 'bench', `watch-${PODS}.runset.json`));
  const watches = [...requests.entries()].filter(([k]) => k.startsWith('watch ')).reduce((a, [, n]) => a + n, 0);
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  console.log(
    table(
      ['pods traced', 'all Ready', 'most in flight', 'done after last Ready', 'peak RSS', 'CPU time', 'CPU per 1,000 pods', 'watch connections', 'requests', 'per pod'],
      [
        [
          set.runs.length,
          readyAt.length === set.runs.length ? 'yes' : `${readyAt.length}`,
          mostInFlight,
          ms(endedAt - lastReady),
          `${(usage.peakKb / 1024).toFixed(0)} MiB`,
          `${usage.cpuSeconds.toFixed(2)}s`,
          `${(usage.cpuSeconds * (1000 / set.runs.length)).toFixed(2)}s`,
          watches,
          total,
          (total / set.runs.length).toFixed(3),
        ],
      ],
    ),
  );
  if (burner) {
    // kube-burner's own result: one podLatency document per pod; its quantiles come from those
    const kbPods = JSON.parse(readFileSync(path.join(metrics, 'podLatencyMeasurement-podtrace-scale.json'), 'utf8'));
    const rows = [
      ['podtrace watch', set.runs.length, ms(usage.endedAt - lastReady), `${(usage.peakKb / 1024).toFixed(0)} MiB`, `${usage.cpuSeconds.toFixed(2)}s`, `${(usage.cpuSeconds * (1000 / set.runs.length)).toFixed(2)}s`],
      ['kube-burner init (creates them, podLatency)', kbPods.length, ms(burner.usage.endedAt - lastReady), `${(burner.usage.peakKb / 1024).toFixed(0)} MiB`, `${burner.usage.cpuSeconds.toFixed(2)}s`, `${(burner.usage.cpuSeconds * (1000 / kbPods.length)).toFixed(2)}s`],
    ];
    console.log('\nthe same pods, the same run, side by side');
    console.log(table(['process', 'pods with a result', 'result after last Ready', 'peak RSS', 'CPU time', 'CPU per 1,000 pods'], rows));
    console.log(
      `ratios podtrace / kube-burner: peak RSS ${(usage.peakKb / burner.usage.peakKb).toFixed(2)}, CPU ${(usage.cpuSeconds / burner.usage.cpuSeconds).toFixed(2)}` +
        ' (kube-burner also creates the pods and waits for them; its result is written when it exits)',
    );
  }
  console.log('\nrequests by kind: ' + [...requests.entries()].map(([k, n]) => `${k} ${n}`).join(', '));
  console.log('CPU time and peak RSS: the podtrace process, up to its last 50 ms (it ends writing the run set).');
  console.log('most in flight: the most pods accepted by the API server and not yet Ready at one time (from the traces).');
} finally {
  // The namespace goes with its pods in a few collection deletes, and kwok, still running, lets the
  // pods on its nodes go (deleting them one request each went at 10 to 20 a second).
  try {
    kubectl('delete', 'namespace', 'podtrace-scale', '--ignore-not-found', '--wait=true', `--timeout=${Math.max(300, Math.ceil(PODS / 50))}s`);
  } finally {
    kwokProcess.kill();
    kubectl('delete', 'node', ...kwokNodes, '--ignore-not-found');
  }
}
