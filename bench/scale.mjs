// Target 4 (and 6 at scale): `podtrace watch -l` over a Deployment of
// BENCH_PODS (1000) pods on a simulated node. kwok (built from its Go module,
// hack-free: `go install sigs.k8s.io/kwok/cmd/kwok@v0.8.0` into the cache)
// plays the node and moves its pods to Running/Ready; the API server, etcd,
// scheduler and controller manager are the real ones of the local cluster.
// Reports: how long after the last pod's Ready podtrace has finished (target
// 1 s), its peak memory and CPU time per 1,000 pods, the watch connections it
// opened and its requests per pod (audit log).
//   node bench/scale.mjs            (BENCH_PODS=1000)
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunSetSplitter } from '../src/analysis/runset-split.ts';
import { CACHE, GOENV, auditedKubeconfig, countRequests, heading, kubectl, KUBECONFIG, ms, PODTRACE, prepare, sleep, table } from './lib.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const KWOK_VERSION = 'v0.8.0';
prepare();
heading(`Scale: podtrace watch over ${PODS} pods of a Deployment on a kwok node`);

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
writeFileSync(
  path.join(work, 'node.yaml'),
  `apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: { kwok.x-k8s.io/node: fake }
  labels: { type: kwok, kubernetes.io/hostname: kwok-node-0 }
spec:
  taints: [{ key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule }]
status:
  allocatable: { cpu: "1000", memory: 1Ti, pods: "${Math.max(20000, PODS + 1000)}" }
  capacity: { cpu: "1000", memory: 1Ti, pods: "${Math.max(20000, PODS + 1000)}" }
`,
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
// Its own namespace, deleted at the end with its tens of thousands of events: left in default, they
// slowed every LIST of events there for an hour. An earlier run's is deleted asynchronously: wait.
kubectl('delete', 'namespace', 'podtrace-scale', '--ignore-not-found', '--wait=true', '--timeout=600s');
kubectl('create', 'namespace', 'podtrace-scale');
kubectl('apply', '-f', path.join(work, 'node.yaml'));
const kwokProcess = spawn(kwok, ['--kubeconfig', KUBECONFIG, '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake', ...stageFiles.flatMap((f) => ['-c', f])], {
  env: { ...process.env, HOME: work },
  stdio: 'ignore',
});
try {
  for (let i = 0; i < 60 && !kubectl('get', 'node', 'kwok-node-0', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}').includes('True'); i++) await sleep(500);

  const { kubeconfig } = auditedKubeconfig();
  const out = path.join(work, 'set.json');
  let usage;
  let endedAt = 0;
  const requests = await countRequests(async () => {
    const child = spawn(process.execPath, [PODTRACE, 'watch', '-n', 'podtrace-scale', '-l', 'app=podtrace-scale', '--count', String(PODS), '--for', `${Math.max(20, Math.ceil(PODS / 500))}m`, '-q', '--out', out, '--kubeconfig', kubeconfig], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // Peak memory from the kernel's own high-water mark, read just before the process ends.
    // CPU time from /proc/PID/stat (utime + stime, in clock ticks of 1/100 s).
    let peakKb = 0;
    let cpuTicks = 0;
    const poll = setInterval(() => {
      try {
        const hwm = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
        if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        cpuTicks = Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone
      }
    }, 50);
    await sleep(2000);
    kubectl('apply', '-f', path.join(work, 'deploy.yaml'));
    await new Promise((resolve) => child.on('close', resolve));
    endedAt = Date.now();
    clearInterval(poll);
    usage = { peakKb, cpuSeconds: cpuTicks / 100 };
  });
  // The run set is read a run at a time (at 50,000 pods its text is too long for one string).
  const splitter = new RunSetSplitter();
  const set = { runs: [] };
  const readyAt = [];
  for await (const chunk of createReadStream(out, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    for (const text of splitter.push(chunk)) {
      const run = JSON.parse(text);
      set.runs.push(run.pod.name);
      const at = run.milestones.find((m) => m.id === 'pod.ready')?.at;
      if (at !== undefined) readyAt.push(at);
    }
  }
  const lastReady = readyAt.reduce((a, b) => Math.max(a, b), 0);
  // kept for bench/big-sets.mjs (report and diff of big run sets), outside the repository
  mkdirSync(path.join(CACHE, 'bench'), { recursive: true });
  copyFileSync(out, path.join(CACHE, 'bench', `watch-${PODS}.runset.json`));
  const watches = [...requests.entries()].filter(([k]) => k.startsWith('watch ')).reduce((a, [, n]) => a + n, 0);
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  console.log(
    table(
      ['pods traced', 'all Ready', 'done after last Ready', 'peak RSS', 'CPU time', 'CPU per 1,000 pods', 'watch connections', 'requests', 'per pod'],
      [
        [
          set.runs.length,
          readyAt.length === set.runs.length ? 'yes' : `${readyAt.length}`,
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
  console.log('\nrequests by kind: ' + [...requests.entries()].map(([k, n]) => `${k} ${n}`).join(', '));
  console.log('CPU time and peak RSS: the podtrace process, up to its last 50 ms (it ends writing the run set).');
} finally {
  try {
    kubectl('delete', 'deployment', 'podtrace-scale', '-n', 'podtrace-scale', '--ignore-not-found', '--wait=false');
    kubectl('delete', 'pods', '-n', 'podtrace-scale', '-l', 'app=podtrace-scale', '--grace-period=0', '--force', '--wait=false');
  } finally {
    await sleep(3000);
    kwokProcess.kill();
    kubectl('delete', 'node', 'kwok-node-0', '--ignore-not-found');
    kubectl('delete', 'namespace', 'podtrace-scale', '--ignore-not-found', '--wait=false');
  }
}
